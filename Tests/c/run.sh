#!/usr/bin/env bash
# Tests/c/run.sh - checks libdrsn.so from C and C++.
#
#   Tests/c/run.sh            (from anywhere; needs .build/release/libdrsn.so)
#
# 1. inspects .build/release/libdrsn.so: no Swift toolchain libraries in ldd, linked
#    -z nodelete (FLAGS_1 NODELETE), only drsn_* symbols exported, every function of
#    include/drsn.h exported;
# 2. compiles Tests/c/test_capi.c and Tests/c/test_stream.c (C11, drsn.h only) and
#    Tests/c/test_cpp.cpp (C++17, drsn.hpp) with -Wall -Wextra -Werror, plus the examples and
#    a drsn.hpp header check with every compiler found (gcc/clang, g++/clang++);
# 3. runs the three tests (fixtures from ../shared/fixtures are used when present, and required
#    when DRSN_REQUIRE_FIXTURES=1; every model of
#    the export zoo Tests/models/zoo, see Tests/models/export_zoo.py) and the examples on
#    one fixture.
# Exits non-zero if any step fails.
#
# Environment: CC, CXX (default gcc, g++), DRSN_TEST_CONCURRENT_RUNS, DRSN_TEST_THREADS,
# DRSN_FIXTURES, DRSN_REQUIRE_FIXTURES (1: a missing fixture fails instead of skipping),
# DRSN_ZOO (zoo folder, default Tests/models/zoo), DRSN_TEST_TIMEOUT (seconds per test
# program, default 1800), DRSN_LIBDIR (default .build/release), DRSN_TEST_OUT (build
# folder, default .build/c-tests).
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIBDIR=${DRSN_LIBDIR:-$ROOT/.build/release}
LIB=$LIBDIR/libdrsn.so
OUT=${DRSN_TEST_OUT:-$ROOT/.build/c-tests}
CC=${CC:-gcc}
CXX=${CXX:-g++}
TIMEOUT=${DRSN_TEST_TIMEOUT:-1800}
FIXTURES=${DRSN_FIXTURES:-$ROOT/../shared/fixtures}
ZOO=${DRSN_ZOO:-$ROOT/Tests/models/zoo}

failures=()
fail() {
    echo "FAILED: $*"
    failures+=("$*")
}
section() { printf '\n=== %s ===\n' "$*"; }

if [ ! -f "$LIB" ]; then
    echo "error: $LIB does not exist; build it with: swift build -c release --product drsn" >&2
    exit 1
fi
mkdir -p "$OUT"

# ---- 1. the shared library --------------------------------------------------------------
section "ldd $LIB"
ldd_out=$(ldd "$LIB" 2>&1)
echo "$ldd_out"
bad=$(echo "$ldd_out" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|/opt/swift|not found' || true)
if [ -n "$bad" ]; then
    fail "libdrsn.so depends on Swift toolchain libraries or unresolved libraries:"$'\n'"$bad"
else
    echo "ok: no Swift runtime/Foundation/dispatch libraries needed"
fi

section "readelf -d (NEEDED, SONAME, RPATH/RUNPATH)"
readelf -d "$LIB" | grep -E 'NEEDED|SONAME|RPATH|RUNPATH' || true
# dlclose must not unmap the library while its pool workers run (Tests/c/test_unload.c).
if readelf -d "$LIB" | grep -E 'FLAGS_1' | grep -q 'NODELETE'; then
    echo "ok: FLAGS_1 NODELETE (dlclose leaves the library loaded)"
else
    fail "libdrsn.so is not linked with -z nodelete: dlclose would unmap code its worker threads run"
fi
if readelf -d "$LIB" | grep -E 'RPATH|RUNPATH' | grep -q '/opt/swift\|swift'; then
    echo "warning: libdrsn.so carries a run path into the Swift toolchain"
fi

section "nm -D --defined-only $LIB"
nm_out=$(nm -D --defined-only "$LIB")
echo "$nm_out"
# symbol names (third field; version suffixes like @@VERS stripped)
defined=$(echo "$nm_out" | awk 'NF >= 3 { print $3 } NF == 2 { print $2 }' | sed 's/@.*//' | sort -u)
non_drsn=$(echo "$nm_out" | awk 'NF >= 3 && $3 !~ /^drsn_/ { print }')
if [ -n "$non_drsn" ]; then
    # absolute symbols ('A') are version-script node names, not code or data
    non_abs=$(echo "$non_drsn" | awk '$2 != "A"')
    if [ -n "$non_abs" ]; then
        fail "libdrsn.so exports symbols other than drsn_*:"$'\n'"$non_abs"
    else
        echo "note: only version-node symbols besides drsn_*: $(echo "$non_drsn" | awk '{print $3}' | tr '\n' ' ')"
    fi
else
    echo "ok: every defined dynamic symbol starts with drsn_"
fi
api=$(sed -n 's/.*DRSN_API[^(]*[ *]\(drsn_[a-z0-9_]*\)(.*/\1/p' "$ROOT/include/drsn.h" | sort -u)
missing=$(comm -23 <(echo "$api") <(echo "$defined"))
extra=$(comm -13 <(echo "$api") <(echo "$defined" | grep '^drsn_'))
echo "drsn.h declares $(echo "$api" | wc -l) functions"
if [ -n "$missing" ]; then
    fail "functions declared in drsn.h but not exported: $(echo $missing)"
else
    echo "ok: all of them are exported"
fi
if [ -n "$extra" ]; then
    echo "warning: exported drsn_* symbols not declared in drsn.h: $(echo $extra)"
fi

# ---- 2. compile -------------------------------------------------------------------------------
section "compile"
CWARN=(-Wall -Wextra -Werror -pedantic)
INCS=(-I"$ROOT/include" -I"$ROOT/bindings/c" -I"$ROOT/bindings/c/examples" -I"$ROOT/Tests/c")
LINK=(-L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -ldrsn)

compile() {  # name, then the command
    local name=$1
    shift
    echo "+ $*"
    if ! "$@"; then
        fail "compile $name"
        return 1
    fi
}

have_capi=0
have_cpp=0
compile test_capi "$CC" -std=c11 "${CWARN[@]}" -O2 -g "${INCS[@]}" "$ROOT/Tests/c/test_capi.c" -o "$OUT/test_capi" \
    "${LINK[@]}" -pthread -lm && have_capi=1
compile test_cpp "$CXX" -std=c++17 "${CWARN[@]}" -O2 -g "${INCS[@]}" "$ROOT/Tests/c/test_cpp.cpp" -o "$OUT/test_cpp" \
    "${LINK[@]}" -pthread && have_cpp=1
have_stream=0
compile test_stream "$CC" -std=c11 "${CWARN[@]}" -O2 -g "${INCS[@]}" "$ROOT/Tests/c/test_stream.c" -o "$OUT/test_stream" \
    "${LINK[@]}" -pthread -lm && have_stream=1
compile classify.c "$CC" -std=c11 "${CWARN[@]}" -O2 -I"$ROOT/include" "$ROOT/bindings/c/examples/classify.c" \
    -o "$OUT/classify" "${LINK[@]}"
compile classify.cpp "$CXX" -std=c++17 "${CWARN[@]}" -O2 -I"$ROOT/include" -I"$ROOT/bindings/c" \
    "$ROOT/bindings/c/examples/classify.cpp" -o "$OUT/classify_cpp" "${LINK[@]}"

# Every other compiler we can find: syntax and warnings only.
for c in gcc clang; do
    command -v "$c" >/dev/null 2>&1 || continue
    [ "$c" = "$CC" ] && continue
    compile "test_capi.c ($c)" "$c" -std=c11 "${CWARN[@]}" "${INCS[@]}" -fsyntax-only "$ROOT/Tests/c/test_capi.c"
    compile "test_stream.c ($c)" "$c" -std=c11 "${CWARN[@]}" "${INCS[@]}" -fsyntax-only "$ROOT/Tests/c/test_stream.c"
    compile "classify.c ($c)" "$c" -std=c11 "${CWARN[@]}" -I"$ROOT/include" -fsyntax-only \
        "$ROOT/bindings/c/examples/classify.c"
done
for c in g++ clang++; do
    command -v "$c" >/dev/null 2>&1 || continue
    compile "drsn.hpp ($c)" "$c" -x c++ -std=c++17 "${CWARN[@]}" -Wshadow -Wconversion -Wsign-conversion \
        -Wold-style-cast -I"$ROOT/include" -fsyntax-only "$ROOT/bindings/c/drsn.hpp"
    [ "$c" = "$CXX" ] && continue
    compile "test_cpp.cpp ($c)" "$c" -std=c++17 "${CWARN[@]}" "${INCS[@]}" -fsyntax-only "$ROOT/Tests/c/test_cpp.cpp"
    compile "classify.cpp ($c)" "$c" -std=c++17 "${CWARN[@]}" -I"$ROOT/include" -I"$ROOT/bindings/c" -fsyntax-only \
        "$ROOT/bindings/c/examples/classify.cpp"
done

# ---- 3. run -------------------------------------------------------------------------------------
# Without LD_LIBRARY_PATH: the binaries find libdrsn.so through their rpath, and nothing
# else from the Swift toolchain may be needed.
run_test() {  # name, binary
    local name=$1 bin=$2 log rc
    section "run $name"
    log=$OUT/$name.log
    env -u LD_LIBRARY_PATH timeout "$TIMEOUT" "$bin" "$ROOT" "$ZOO" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        case $rc in
            124) fail "$name timed out after ${TIMEOUT}s" ;;
            1) fail "$name: $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)" ;;
            *) fail "$name exited with status $rc (crash or signal: $(kill -l $((rc - 128)) 2>/dev/null || echo '?'))" ;;
        esac
    elif ! grep -qE '^[0-9]+ passed, 0 failed$' "$log"; then
        fail "$name exited 0 without a final 'N passed, 0 failed' line"
    fi
}
[ $have_capi = 1 ] && run_test test_capi "$OUT/test_capi"
[ $have_cpp = 1 ] && run_test test_cpp "$OUT/test_cpp"
[ $have_stream = 1 ] && run_test test_stream "$OUT/test_stream"

section "examples"
if [ -f "$FIXTURES/drsn_cw_1d.onnx" ]; then
    for ex in classify classify_cpp; do
        [ -x "$OUT/$ex" ] || continue
        echo "+ $ex drsn_cw_1d.onnx drsn_cw_1d.in.npy"
        if ex_out=$(env -u LD_LIBRARY_PATH "$OUT/$ex" "$FIXTURES/drsn_cw_1d.onnx" "$FIXTURES/drsn_cw_1d.in.npy" 2>&1); then
            echo "$ex_out"
            rows=$(echo "$ex_out" | grep -c '^  row [0-9]*: argmax')
            [ "$rows" -eq 5 ] || fail "$ex printed $rows argmax rows, expected 5"
        else
            echo "$ex_out"
            fail "$ex exited non-zero"
        fi
    done
    # the two examples must agree
    if [ -x "$OUT/classify" ] && [ -x "$OUT/classify_cpp" ]; then
        a=$(env -u LD_LIBRARY_PATH "$OUT/classify" "$FIXTURES/drsn_cw_1d.onnx" "$FIXTURES/drsn_cw_1d.in.npy" 2>&1 | grep '^  row')
        b=$(env -u LD_LIBRARY_PATH "$OUT/classify_cpp" "$FIXTURES/drsn_cw_1d.onnx" "$FIXTURES/drsn_cw_1d.in.npy" 2>&1 | grep '^  row')
        [ "$a" = "$b" ] || fail "classify and classify_cpp disagree"
    fi
elif [ "${DRSN_REQUIRE_FIXTURES:-}" = 1 ]; then
    fail "no fixtures at $FIXTURES, and DRSN_REQUIRE_FIXTURES=1 requires them"
else
    echo "skipped: no fixtures at $FIXTURES"
fi

# ---- summary ------------------------------------------------------------------------------------
section "summary"
if [ ${#failures[@]} -eq 0 ]; then
    echo "Tests/c: all checks passed"
    exit 0
fi
echo "Tests/c: ${#failures[@]} step(s) failed:"
for f in "${failures[@]}"; do echo "  - ${f%%$'\n'*}"; done
exit 1
