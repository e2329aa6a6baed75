#!/usr/bin/env bash
# Verifies that drsn_model_run allocates no heap memory once a model is warm
# (see test_no_alloc.c). Needs .build/release/libdrsn.so. math_ops.onnx (from
# make_math_ops.py) covers the math operators and the runtime-parameter steps.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=$ROOT/.build/alloc-test
mkdir -p "$OUT"
cc -std=c11 -O1 -Wall -Wextra -Werror -I "$ROOT/include" "$ROOT/Tests/alloc/test_no_alloc.c" \
   -L "$ROOT/.build/release" -ldrsn -Wl,-rpath,"$ROOT/.build/release" -ldl -o "$OUT/test_no_alloc"
"$OUT/test_no_alloc" "$ROOT"/benchmarks/models/drsn_cw_1d.onnx "$ROOT"/benchmarks/models/drsn_cs_1d.onnx \
    "$ROOT"/examples/bearing/model/drsn_cwru.onnx \
    "$ROOT"/Tests/alloc/math_ops.onnx
# recurrent (GRU, LSTM) and transposed-convolution models: their recurrence and col2im steps too
"$OUT/test_no_alloc" "$ROOT"/Tests/models/variants/drsn_gru.ts17.onnx "$ROOT"/Tests/models/variants/drsn_bilstm.dynamo18.onnx \
    "$ROOT"/Tests/models/variants/drsn_denoiser.ts17.onnx
