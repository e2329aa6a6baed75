#!/usr/bin/env bash
# Tests/isa/run.sh - checks every kernel ISA variant of libdrsn.so on the fixture models.
#
#   Tests/isa/run.sh          (needs .build/release/libdrsn.so; DRSN_LIBDIR overrides)
#
# The kernels exist as AVX-512, AVX2 and baseline x86-64 builds, one picked at first use
# from CPUID (DRSN_FORCE_ISA=baseline|avx2|avx512 lowers the pick). This script compiles
# Tests/isa/fixture_check.c (loads each fixture .onnx, runs .in.npy, compares with .out.npy
# to 1e-4 absolute, checks drsn_isa()) and runs it
#   1. natively, unforced and with DRSN_FORCE_ISA set to every level the CPU has;
#   2. under qemu-x86_64 -cpu Haswell (a CPU without AVX-512: the AVX2 path must be picked
#      and must not execute a single AVX-512 instruction) and -cpu qemu64 (SSE2 only: the
#      baseline path, no AVX/FMA anywhere on the path). Installs the system package
#      qemu-user if it is missing and this runs as root (announced); otherwise the qemu
#      checks are skipped with a message.
# Exits non-zero on any failure. x86_64 only (elsewhere there is one variant: exits 0).
# Environment: DRSN_LIBDIR (default .build/release), DRSN_FIXTURES (default
# ../shared/fixtures), DRSN_REQUIRE_FIXTURES (1: missing fixtures fail instead of falling
# back to Tests/models/zoo), CC (default gcc), DRSN_TEST_OUT (default .build/isa-tests).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIBDIR=${DRSN_LIBDIR:-$ROOT/.build/release}
FIXTURES=${DRSN_FIXTURES:-$ROOT/../shared/fixtures}
OUT=${DRSN_TEST_OUT:-$ROOT/.build/isa-tests}
CC=${CC:-gcc}

if [ "$(uname -m)" != x86_64 ]; then echo "not x86_64: one kernel variant, nothing to check"; exit 0; fi
if [ ! -f "$LIBDIR/libdrsn.so" ]; then
    echo "error: $LIBDIR/libdrsn.so missing; build it with: swift build -c release --product drsn" >&2
    exit 1
fi
models=()
for f in "$FIXTURES"/*.onnx; do
    [ -f "$f" ] || continue
    b=${f%.onnx}
    [ -f "$b.in.npy" ] && [ -f "$b.out.npy" ] && models+=("$b")
done
if [ ${#models[@]} -eq 0 ] && [ "${DRSN_REQUIRE_FIXTURES:-}" = 1 ]; then
    echo "FAILED: no fixtures (*.onnx with .in.npy/.out.npy) in $FIXTURES, and DRSN_REQUIRE_FIXTURES=1 requires them" >&2
    exit 1
fi
if [ ${#models[@]} -eq 0 ]; then
    # Without the shared fixtures, use the project's own exported models (reference, post-activation
    # and channel-shared variants, 1-D and 2-D).
    echo "note: no fixtures in $FIXTURES; using Tests/models/zoo"
    for f in "$ROOT"/Tests/models/zoo/*.ts17.onnx; do
        b=${f%.onnx}
        [ -f "$b.in.npy" ] && [ -f "$b.out.npy" ] && models+=("$b")
    done
fi
if [ ${#models[@]} -eq 0 ]; then echo "error: no fixtures (*.onnx with .in.npy/.out.npy) in $FIXTURES or Tests/models/zoo" >&2; exit 1; fi

have_qemu=1
qemu_bin=$(command -v qemu-x86_64 || true)
if [ -z "$qemu_bin" ] || [ ! -x "$qemu_bin" ]; then   # bash reports a non-executable file too
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing the system package qemu-user (apt-get; root) for the qemu-x86_64 checks"
        (apt-get install -y qemu-user >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y qemu-user >/dev/null 2>&1; }) ||
            { echo "error: could not install qemu-user" >&2; exit 1; }
    else
        echo "SKIPPED: the qemu-x86_64 checks (AVX2 and SSE2-only CPUs) need qemu-user: not installed and" \
             "not root; install it (apt-get install qemu-user) to run them"
        have_qemu=0
    fi
fi

mkdir -p "$OUT"
BIN=$OUT/fixture_check
$CC -std=c11 -O2 -Wall -Wextra -Werror -I"$ROOT/include" "$ROOT/Tests/isa/fixture_check.c" \
    -L"$LIBDIR" -ldrsn -lm -Wl,-rpath,"$LIBDIR" -o "$BIN" || { echo "FAILED: compiling fixture_check"; exit 1; }

# qemu warns about CPUID bits TCG lacks (pcid, x2apic, ...): noise, filtered.
qemu() { qemu-x86_64 "$@" 2> >(grep -v "TCG doesn't support" >&2); }

failures=0
run() {  # label, then the command
    local label=$1; shift
    printf '\n=== %s\n' "$label"
    local t0=$SECONDS
    if "$@"; then echo "($((SECONDS - t0)) s)"; else echo "FAILED: $label"; failures=$((failures + 1)); fi
}

native=$("$BIN" | sed -n 's/.*kernel ISA: //p')
echo "native kernel ISA: $native"
case $native in avx512) levels="avx512 avx2 baseline";; avx2) levels="avx2 baseline";; *) levels="baseline";; esac
run "native (unforced: $native)" "$BIN" --expect-isa "$native" "${models[@]}"
for isa in $levels; do
    run "native, DRSN_FORCE_ISA=$isa" env DRSN_FORCE_ISA=$isa "$BIN" --expect-isa "$isa" "${models[@]}"
done
# A forced level above the CPU's is ignored; an unknown value is ignored.
run "native, DRSN_FORCE_ISA=bogus" env DRSN_FORCE_ISA=bogus "$BIN" --expect-isa "$native" "${models[0]}"
if [ $have_qemu = 1 ]; then
    run "qemu-x86_64 -cpu Haswell (AVX2 + FMA, no AVX-512)" \
        qemu -cpu Haswell "$BIN" --expect-isa avx2 "${models[@]}"
    run "qemu-x86_64 -cpu Haswell, DRSN_FORCE_ISA=avx512 (not available: stays avx2)" \
        env DRSN_FORCE_ISA=avx512 qemu-x86_64 -cpu Haswell "$BIN" --expect-isa avx2 "${models[0]}" 2>/dev/null
    run "qemu-x86_64 -cpu qemu64 (SSE2 only)" \
        qemu -cpu qemu64 "$BIN" --expect-isa baseline "${models[@]}"
fi

echo
if [ $failures -ne 0 ]; then echo "ISA tests: $failures FAILED"; exit 1; fi
if [ $have_qemu = 1 ]; then echo "ISA tests: all passed"; else echo "ISA tests: all native checks passed (qemu checks skipped)"; fi
