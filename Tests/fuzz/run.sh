#!/usr/bin/env bash
# Tests/fuzz/run.sh SECONDS - builds the libFuzzer target for drsn's model loader and fuzzes
# for SECONDS seconds (default 60).
#
# The target (Sources/DRSNLoadFuzzer) feeds each input to Model.load(bytes:) with the
# default limits except max value elements (2^22) and, when the load succeeds, runs the
# model once on its declared input shape (dynamic dims = 1, at most 65536 elements). Built with -sanitize=fuzzer,address in
# release mode into $FUZZ_SCRATCH (default /tmp/drsn-fuzz-build), separate from .build.
#
# Seeds: Tests/fuzz/corpus (small generated models + the two 1-D fixtures) plus, when
# present, every *.onnx in $DRSN_FIXTURES (default ../shared/fixtures) and the files in
# Tests/fuzz/regressions. New inputs go to $FUZZ_CORPUS (default /tmp/drsn-fuzz-corpus),
# findings to $FUZZ_ARTIFACTS (default /tmp/drsn-fuzz-artifacts): crash-*, timeout-*
# (> 1 s), oom-* (> 2 GiB RSS or a single malloc > 1 GiB). The run keeps going after a
# finding (fork mode, one worker) so one session collects them all.
#
# Mutations use the dictionary Tests/fuzz/onnx.dict (operator and attribute names, tags).
# Extra libFuzzer flags can be passed in FUZZ_FLAGS. Set FUZZ_NO_BUILD=1 to reuse the binary.
set -euo pipefail
SECONDS_TO_RUN=${1:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCRATCH=${FUZZ_SCRATCH:-/tmp/drsn-fuzz-build}
CORPUS=${FUZZ_CORPUS:-/tmp/drsn-fuzz-corpus}
ARTIFACTS=${FUZZ_ARTIFACTS:-/tmp/drsn-fuzz-artifacts}
FIXTURES=${DRSN_FIXTURES:-$ROOT/../shared/fixtures}

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "== building the fuzzer (release, -sanitize=fuzzer,address) in $SCRATCH"
    LLD=(); command -v ld.lld >/dev/null 2>&1 && LLD=(-Xswiftc -use-ld=lld)  # gold drops most coverage counters
    (cd "$HERE" && swift build -c release --sanitize=fuzzer --sanitize=address --scratch-path "$SCRATCH" "${LLD[@]}")
fi
BIN=$SCRATCH/release/DRSNLoadFuzzer

mkdir -p "$CORPUS" "$ARTIFACTS"
SEEDS=("$HERE/corpus")
[ -d "$HERE/regressions" ] && SEEDS+=("$HERE/regressions")
if [ -d "$FIXTURES" ]; then
    mkdir -p "$CORPUS.fixtures"
    cp -f "$FIXTURES"/*.onnx "$CORPUS.fixtures/" 2>/dev/null || true
    SEEDS+=("$CORPUS.fixtures")
fi

echo "== fuzzing for ${SECONDS_TO_RUN}s (corpus $CORPUS, findings in $ARTIFACTS)"
# ASan: fail on allocation failures instead of returning NULL silently; no leak check per input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1:malloc_context_size=20}
"$BIN" "$CORPUS" "${SEEDS[@]}" \
    -max_total_time="$SECONDS_TO_RUN" -timeout=1 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -dict="$HERE/onnx.dict" -artifact_prefix="$ARTIFACTS/" -print_final_stats=1 -print_funcs=0 ${FUZZ_FLAGS:-}
echo "== findings:"
ls -la "$ARTIFACTS"
