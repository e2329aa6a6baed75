#!/usr/bin/env bash
# examples/bearing/run.sh - the bearing-fault example in one command, on a fresh clone.
#
#   examples/bearing/run.sh            (from anywhere)
#
# 1. builds libdrsn (.build/release/libdrsn.so) if it is missing:
#    swift build -c release --product drsn   (a few minutes, once);
# 2. Python: the project's virtual environment .venv (created on first run, from the first
#    python3 on PATH) with numpy and onnxruntime (tools/requirements/example.txt); nothing is
#    installed into any other interpreter. PYTHON=/path/to/python uses that interpreter as it
#    is instead (it needs numpy; onnxruntime is optional);
# 3. Python: classify.py classifies the 320 shipped CWRU test windows with the shipped
#    DRSN-CW through the Python binding (accuracy, confusion matrix, throughput, and the
#    comparison with onnxruntime when it is installed);
# 4. C: compiles classify_c.c against include/drsn.h only and classifies 10 windows
#    (predicted vs true class), via drsn_model_run_windows and via drsn_model_run.
# Once the library is built the whole script takes a few seconds.
#
# Environment: PYTHON (default: the project's .venv), CC (default cc), DRSN_THREADS (threads per run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CC=${CC:-cc}
LIBDIR=$ROOT/.build/release
LIB=$LIBDIR/libdrsn.so

step() { printf '\n== %s ==\n' "$*"; }

if [ ! -f "$LIB" ]; then
    step "building libdrsn (swift build -c release --product drsn)"
    if ! command -v swift >/dev/null 2>&1; then
        echo "run.sh: error: $LIB is missing and no Swift toolchain (swift) is on PATH;" \
             "install Swift 6 or set up the library first" >&2
        exit 1
    fi
    (cd "$ROOT" && swift build -c release --product drsn)
fi

if [ -n "${PYTHON:-}" ]; then
    "$PYTHON" -c 'import numpy' 2>/dev/null ||
        { echo "run.sh: error: PYTHON=$PYTHON has no numpy; unset PYTHON to use the project's .venv" >&2; exit 1; }
else
    # shellcheck source=../../tools/venv.sh
    source "$ROOT/tools/venv.sh"
    drsn_venv example
    PYTHON=$VENV_PY
fi

step "Python: classify.py (drsn Python binding)"
threads_arg=()
[ -n "${DRSN_THREADS:-}" ] && threads_arg=(--threads "$DRSN_THREADS")
"$PYTHON" "$HERE/classify.py" ${threads_arg[@]+"${threads_arg[@]}"}

step "C: classify_c.c (include/drsn.h only)"
OUT=$ROOT/.build/examples
mkdir -p "$OUT"
"$CC" -std=c11 -O2 -Wall -Wextra -I "$ROOT/include" -I "$ROOT/bindings/c/examples" \
    "$HERE/classify_c.c" -o "$OUT/bearing_classify_c" \
    -L "$LIBDIR" -ldrsn -Wl,-rpath,"$LIBDIR" -lm
"$OUT/bearing_classify_c" "$HERE/model/drsn_cwru.onnx" "$HERE/data/test_windows.npy" \
    "$HERE/data/test_labels.npy" "$HERE/data/classes.json" 10
