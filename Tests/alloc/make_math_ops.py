"""Writes Tests/alloc/math_ops.onnx: one graph with every math operator and every runtime
parameter path (Exp ... Gelu, Pow, PRelu, Sum, Mean, Clip with a computed bound,
BatchNormalization with computed mean/var, Pad with a computed constant_value, Dropout with a
read mask), input x [N, 3, 17], so that Tests/alloc/run.sh checks their steps allocate nothing
on the run path. Regenerate with: .venv/bin/python Tests/alloc/make_math_ops.py
"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
sys.path.insert(0, str(HERE.parents[1] / "bindings" / "python"))
from oracle import i64, make_model, node  # noqa: E402


def f32(v):
    return np.array(v, dtype=np.float32)


nodes = [
    node("Abs", ["x"], ["ax"], name="abs"), node("Add", ["ax", "one"], ["ax1"], name="ax1"),
    node("Exp", ["x"], ["e"], name="exp"), node("Log", ["ax1"], ["l"], name="log"),
    node("Sqrt", ["ax1"], ["s"], name="sqrt"), node("Reciprocal", ["ax1"], ["r"], name="reciprocal"),
    node("Tanh", ["x"], ["t"], name="tanh"), node("Erf", ["x"], ["er"], name="erf"),
    node("Softplus", ["x"], ["sp"], name="softplus"), node("Softsign", ["x"], ["ss"], name="softsign"),
    node("Elu", ["x"], ["el"], name="elu"), node("Selu", ["x"], ["se"], name="selu"),
    node("HardSigmoid", ["x"], ["hs"], name="hardsigmoid"), node("HardSwish", ["x"], ["hw"], name="hardswish"),
    node("Gelu", ["x"], ["g"], name="gelu"), node("Gelu", ["x"], ["gt"], name="gelu_tanh", approximate="tanh"),
    node("Pow", ["ax1", "ex"], ["p"], name="pow"), node("Pow", ["x", "two"], ["p2"], name="pow2"),
    node("PRelu", ["x", "slope"], ["pr"], name="prelu"),
    node("Sum", ["e", "l", "s", "r", "t"], ["s1"], name="sum1"),
    node("Sum", ["er", "sp", "ss", "el", "se", "hs", "hw", "g", "gt", "p", "p2", "pr"], ["s2"], name="sum2"),
    node("Mean", ["s1", "s2", "x"], ["m"], name="mean"),
    node("ReduceMean", ["x"], ["lo"], name="lo", keepdims=0), node("Clip", ["m", "lo"], ["c"], name="clip"),
    node("ReduceMean", ["x", "ax02"], ["bm"], name="bn_mean", keepdims=0), node("Mul", ["x", "x"], ["xx"], name="xx"),
    node("ReduceMean", ["xx", "ax02"], ["bv"], name="bn_var", keepdims=0),
    node("BatchNormalization", ["c", "one3", "zero3", "bm", "bv"], ["bn"], name="bn"),
    node("Pad", ["bn", "pads", "lo"], ["pd"], name="pad"),
    node("Dropout", ["pd", "ratio"], ["y", "mask"], name="dropout"),
    node("Cast", ["mask"], ["mf"], name="cast", to=TensorProto.FLOAT), node("Add", ["y", "mf"], ["out"], name="out"),
]
inits = {"one": f32(1), "ex": np.linspace(-2, 2, 17, dtype=np.float32), "two": f32(2),
         "slope": f32([[0.1], [0.2], [0.3]]), "ax02": i64(0, 2), "one3": f32([1, 1, 1]), "zero3": f32([0, 0, 0]),
         "pads": i64(0, 0, 1, 0, 0, 2), "ratio": f32(0.5)}
model = make_model(nodes, [("x", ["N", 3, 17])], ["out"], inits, opset=20)
onnx.checker.check_model(model, full_check=True)
onnx.save(model, str(HERE / "math_ops.onnx"))
print(f"wrote {HERE / 'math_ops.onnx'}")
