"""Malformed or hostile ConvTranspose, LSTM and GRU nodes (attributes out of range or
inconsistent, shapes that do not agree): each model is loaded and run in a fresh process
(isolated.py) and must be refused with a drsn error that names the problem; a crash, a
trap or a hang fails the test."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
BIG = 2 ** 40


def _model(op, inputs, inits, x_shape, attrs, opset=17, outputs=("y",)):
    graph = helper.make_graph(
        [helper.make_node(op, list(inputs), list(outputs), name="n", **attrs)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs if o],
        [numpy_helper.from_array(np.asarray(v, dtype=np.float32) if v.dtype != np.int32 else v, k)
         for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _isolated(model, tmp_path) -> dict:
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    proc = subprocess.run([sys.executable, str(HERE / "isolated.py"), str(path), "file", "run"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (f"the model crashed the process: exit status {proc.returncode}\n"
                                  f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


W1 = np.ones((2, 3, 3), np.float32)
CONV_T = {  # name -> (attributes, weights, bias, input shape, words the message must contain)
    "huge_stride": (dict(strides=[BIG]), W1, None, [1, 2, 5], ["out of range"]),
    "huge_dilation": (dict(dilations=[BIG]), W1, None, [1, 2, 5], ["out of range"]),
    "huge_pads": (dict(pads=[BIG, 0]), W1, None, [1, 2, 5], ["out of range"]),
    "pads_eat_output": (dict(pads=[4, 4]), W1, None, [1, 2, 5], ["output size"]),
    "negative_pads": (dict(pads=[-1, 0]), W1, None, [1, 2, 5], ["negative pads"]),
    "huge_output_shape": (dict(output_shape=[BIG]), W1, None, [1, 2, 5], ["too many elements"]),
    "zero_output_shape": (dict(output_shape=[0]), W1, None, [1, 2, 5], ["output size"]),
    "output_shape_rank": (dict(output_shape=[4, 5, 6, 7]), W1, None, [1, 2, 5], ["output_shape"]),
    "negative_output_padding": (dict(output_padding=[-1]), W1, None, [1, 2, 5], ["output_padding"]),
    "output_padding_too_large": (dict(strides=[2], output_padding=[2]), W1, None, [1, 2, 5], ["output_padding"]),
    "zero_stride": (dict(strides=[0]), W1, None, [1, 2, 5], ["strides"]),
    "group_zero": (dict(group=0), W1, None, [1, 2, 5], ["group"]),
    "group_negative": (dict(group=-2), W1, None, [1, 2, 5], ["group"]),
    "group_huge": (dict(group=BIG), W1, None, [1, 2, 5], ["group"]),
    "group_not_dividing": (dict(group=3), np.ones((3, 1, 3), np.float32), None, [1, 3, 5], []),
    "kernel_shape_mismatch": (dict(kernel_shape=[5]), W1, None, [1, 2, 5], ["kernel_shape"]),
    "weight_rank": (dict(), np.ones((2, 3), np.float32), None, [1, 2, 5], ["weight shape"]),
    "weight_channels": (dict(), np.ones((4, 3, 3), np.float32), None, [1, 2, 5], ["channels"]),
    "bias_shape": (dict(), W1, np.ones(4, np.float32), [1, 2, 5], ["bias"]),
    "auto_pad_unknown": (dict(auto_pad="FULL"), W1, None, [1, 2, 5], ["auto_pad"]),
    "input_rank_2": (dict(), W1, None, [2, 5], ["rank"]),
    "empty_spatial": (dict(), W1, None, [1, 2, 0], ["empty"]),
    "attribute_count": (dict(strides=[1, 1]), W1, None, [1, 2, 5], ["strides"]),
}


@pytest.mark.usefixtures("needs_library")
@pytest.mark.parametrize("case", CONV_T)
def test_conv_transpose_hostile(case, tmp_path):
    attrs, w, b, x_shape, words = CONV_T[case]
    inits = {"w": w} if b is None else {"w": w, "b": b}
    model = _model("ConvTranspose", ["x", "w"] + (["b"] if b is not None else []), inits, x_shape, attrs)
    result = _isolated(model, tmp_path)
    if case == "group_not_dividing":
        # 3 channels in 3 groups of [1, 1, 3] weights: valid (3 output channels), runs
        assert result["error"] is None and result["ran"], result
        return
    assert result["error"] is not None, f"{case}: accepted: {result}"
    assert "node 'n' (ConvTranspose" in result["message"], result
    for word in words:
        assert word in result["message"], f"{case}: {word!r} not in {result['message']!r}"


H = 3
RNN = {  # name -> (op, attributes, initializers (besides W / R defaults), input shape, words)
    "hidden_size_mismatch": ("LSTM", dict(hidden_size=5), {}, [4, 2, 2], ["hidden_size"]),
    "w_shape": ("LSTM", dict(hidden_size=H), {"W": np.ones((1, 12, 3))}, [4, 2, 2], ["W of shape"]),
    "r_shape": ("GRU", dict(hidden_size=H), {"R": np.ones((1, 8, 3))}, [4, 2, 2], ["R of shape"]),
    "r_rank": ("GRU", dict(hidden_size=H), {"R": np.ones((9, 3))}, [4, 2, 2], ["R of shape"]),
    "b_shape": ("LSTM", dict(hidden_size=H), {"B": np.ones((1, 5))}, [4, 2, 2], ["B of shape"]),
    "direction": ("GRU", dict(hidden_size=H, direction="sideways"), {}, [4, 2, 2], ["direction"]),
    "directions_vs_w": ("LSTM", dict(hidden_size=H, direction="bidirectional"), {}, [4, 2, 2], ["R of shape"]),
    "layout": ("LSTM", dict(hidden_size=H, layout=2), {}, [4, 2, 2], ["layout"]),
    "x_rank": ("GRU", dict(hidden_size=H), {}, [4, 2], ["rank 3"]),
    "initial_h_shape": ("GRU", dict(hidden_size=H), {"initial_h": np.ones((1, 3, H))}, [4, 2, 2], ["initial_h"]),
    "peephole_shape": ("LSTM", dict(hidden_size=H), {"P": np.ones((1, 4))}, [4, 2, 2], ["P of shape"]),
    "sequence_lens_shape": ("GRU", dict(hidden_size=H), {"lens": np.array([4, 4, 4], np.int32)}, [4, 2, 2],
                            ["sequence_lens"]),
    "activations_type": ("LSTM", dict(hidden_size=H, activations=[1.0, 2.0]), {}, [4, 2, 2], ["activations"]),
    "activations_count": ("GRU", dict(hidden_size=H, activations=["Sigmoid"]), {}, [4, 2, 2], ["activations"]),
    "clip": ("GRU", dict(hidden_size=H, clip=1.0), {}, [4, 2, 2], ["clip"]),
}


@pytest.mark.usefixtures("needs_library")
@pytest.mark.parametrize("case", RNN)
def test_rnn_hostile(case, tmp_path):
    op, attrs, extra, x_shape, words = RNN[case]
    gates = 4 if op == "LSTM" else 3
    inits = {"W": np.ones((1, gates * H, 2)), "R": np.ones((1, gates * H, H))}
    inits.update(extra)
    names = ["x", "W", "R", "B" if "B" in inits else "", "lens" if "lens" in inits else "",
             "initial_h" if "initial_h" in inits else ""]
    if "P" in inits:
        names += ["", "P"]
    while names[-1] == "":
        names.pop()
    inits = {k: (v if v.dtype == np.int32 else v.astype(np.float32)) for k, v in inits.items()}
    model = _model(op, names, inits, x_shape, attrs, outputs=("y", "y_h"))
    result = _isolated(model, tmp_path)
    assert result["error"] is not None, f"{case}: accepted: {result}"
    assert f"node 'n' ({op}" in result["message"], result
    for word in words:
        assert word in result["message"], f"{case}: {word!r} not in {result['message']!r}"
