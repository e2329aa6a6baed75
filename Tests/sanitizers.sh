#!/usr/bin/env bash
# Tests/sanitizers.sh [address|thread ...] - the Swift unit tests and the C drivers under
# AddressSanitizer (with LeakSanitizer) and ThreadSanitizer. Default: both.
#
# For each sanitizer S, in its own scratch folder ($SAN_SCRATCH-S, default
# /tmp/drsn-san-S; the main .build is not touched):
#   1. swift test --sanitize=S               (all Swift unit tests, debug build)
#   2. swift build -c release --product drsn --sanitize=S  -> an instrumented libdrsn.so
#      (-z undefs: the sanitizer runtime comes from the executable that loads it)
#   3. Tests/c/test_boundary.c and Tests/c/stress.c built with the toolchain's clang
#      -fsanitize=S against that library and run (stress with fewer runs: 150 per thread).
#   4. address only: the fuzz regression inputs loaded through the instrumented library by
#      the Python driver, with the ASan runtime preloaded.
# Any sanitizer report fails the script (halt_on_error / exitcode), as does a failed test.
#
# Run time on the shared 2-core machine: 6.5 minutes for both after a source change
# (address 189 s, thread 195 s: instrumented builds, ~1 min of Swift tests each, C stress),
# longer (~10-15 min) from empty scratch folders. Over the ~5 minute CI allowance: not
# part of Tests/run.sh or CI.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SANS=("$@")
[ ${#SANS[@]} -eq 0 ] && SANS=(address thread)
TOOLBIN=$(dirname "$(readlink -f "$(command -v swift)")")
CLANG=${SAN_CC:-$TOOLBIN/clang}
FIXTURES=${DRSN_FIXTURES:-$ROOT/../shared/fixtures}
FIXTURE=$FIXTURES/drsn_cw_1d.onnx
[ -f "$FIXTURE" ] || FIXTURE=/nonexistent  # stress falls back to its built-in tiny model

for san in "${SANS[@]}"; do
    scratch=${SAN_SCRATCH:-/tmp/drsn-san}-$san
    start=$(date +%s)
    case $san in
        address)
            export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1
            # XCTest's own objects (test cases, an expectation's weak reference) are still
            # reachable only from its runner when the process exits; drsn code is not suppressed.
            mkdir -p "$scratch"
            printf 'leak:XCTest\nleak:libXCTest.so\n' > "$scratch/lsan.supp"
            export LSAN_OPTIONS=suppressions=$scratch/lsan.supp:print_suppressions=0
            cflags=(-fsanitize=address -fno-omit-frame-pointer) ;;
        thread)
            export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
            # The toolchain's TSan runtime intercepts libdispatch, so it needs it at link time.
            swiftlib=$(dirname "$TOOLBIN")/lib/swift/linux
            cflags=(-fsanitize=thread -L"$swiftlib" -Wl,-rpath,"$swiftlib" -ldispatch -lBlocksRuntime) ;;
        *) echo "unknown sanitizer $san (address or thread)" >&2; exit 2 ;;
    esac

    echo "== [$san] swift test --sanitize=$san (scratch $scratch)"
    # libdrsn.so, built too, links with -z defs, but its sanitizer runtime comes from the executable.
    swift test --sanitize="$san" --scratch-path "$scratch" -Xlinker --unresolved-symbols=ignore-all

    echo "== [$san] instrumented libdrsn.so"
    swift build -c release --product drsn --sanitize="$san" --scratch-path "$scratch" -Xlinker -z -Xlinker undefs
    lib=$scratch/release
    mkdir -p "$scratch/c"
    for t in test_boundary stress; do
        "$CLANG" -std=c11 -O1 -g "${cflags[@]}" -fuse-ld=lld -I"$ROOT/include" -I"$ROOT/Tests/c" "$ROOT/Tests/c/$t.c" \
            -o "$scratch/c/$t" -L"$lib" -Wl,-rpath,"$lib" -ldrsn -pthread -lm
    done
    echo "== [$san] test_boundary"
    "$scratch/c/test_boundary"
    echo "== [$san] stress"
    DRSN_STRESS_RUNS=150 "$scratch/c/stress" "$FIXTURE"

    if [ "$san" = address ]; then
        echo "== [$san] fuzz regressions through the Python driver (ASan runtime preloaded)"
        runtime=$("$CLANG" -print-file-name=libclang_rt.asan-x86_64.so)
        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 LD_PRELOAD=$runtime DRSN_LIBRARY=$lib/libdrsn.so \
            python3 - <<'EOF'
import sys, tempfile
from pathlib import Path
sys.path.insert(0, "Tests/python")
import corrupt_driver as d
files = sorted(p for p in Path("Tests/fuzz/regressions").iterdir() if p.suffix == ".onnx")
results = d.run_batches([(d.KIND_MEMORY, p.read_bytes()) for p in files], Path(tempfile.mkdtemp()))
_, bad, _ = d.report("fuzz regressions under ASan", [p.name for p in files], results)
if bad:
    print("\n".join(f"{n}: {r}" for n, r in bad))
    sys.exit(1)
EOF
    fi
    echo "== [$san] passed in $(( $(date +%s) - start )) s"
done
