#!/usr/bin/env bash
# Tests/c/run_hardening.sh - boundary and concurrency tests of libdrsn.so from C:
#   test_boundary  every exported function with hostile argument values (no trap, no hang)
#   stress         8 threads x 1000 runs on one shared model, then one model per thread,
#                  batch sizes 1..9, outputs bit-identical to single-threaded runs
#   test_unload    DRSN_UNLOAD_CYCLES (default 1000) cycles of dlopen / load / run on 2
#                  threads / destroy / dlclose: no crash, no threads or memory piling up
# Environment: DRSN_LIBDIR (default .build/release), CC (default gcc), DRSN_FIXTURES,
# DRSN_REQUIRE_FIXTURES (1: stress fails without the 1-D fixture instead of using a tiny model),
# DRSN_STRESS_RUNS (runs per thread, default 1000), DRSN_UNLOAD_CYCLES (default 1000). About
# 10 s on 2 cores.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LIBDIR=${DRSN_LIBDIR:-$ROOT/.build/release}
OUT=${DRSN_TEST_OUT:-$ROOT/.build/c-tests}
CC=${CC:-gcc}
FIXTURES=${DRSN_FIXTURES:-$ROOT/../shared/fixtures}
mkdir -p "$OUT"
FLAGS=(-std=c11 -Wall -Wextra -Werror -pedantic -O2 -g -I"$ROOT/include" -I"$ROOT/Tests/c")
LINK=(-L"$LIBDIR" -Wl,-rpath,"$LIBDIR" -ldrsn -pthread -lm)
"$CC" "${FLAGS[@]}" "$ROOT/Tests/c/test_boundary.c" -o "$OUT/test_boundary" "${LINK[@]}"
"$CC" "${FLAGS[@]}" "$ROOT/Tests/c/stress.c" -o "$OUT/stress" "${LINK[@]}"
# Not linked with libdrsn: it dlopen()s the library itself.
"$CC" "${FLAGS[@]}" "$ROOT/Tests/c/test_unload.c" -o "$OUT/test_unload" -pthread -ldl
echo "== test_boundary"
timeout 120 "$OUT/test_boundary"
echo "== stress"
timeout 300 "$OUT/stress" "$FIXTURES/drsn_cw_1d.onnx"
echo "== test_unload"
timeout 300 "$OUT/test_unload" "$LIBDIR/libdrsn.so" "${DRSN_UNLOAD_CYCLES:-1000}"
