"""LSTM and GRU against onnxruntime: hidden sizes (with and without a SIMD tail), batch
sizes, sequence lengths, directions (forward, reverse, bidirectional), with and without
bias, initial states absent / constant / runtime inputs, every subset of the outputs,
layout 0 and 1, GRU linear_before_reset 0 and 1, LSTM peepholes, several opsets, a run split
over two threads, the errors for what drsn refuses (activations, clip, input_forget,
shorter sequence_lens), and the ONNX backend node tests (test_lstm*, test_gru*). The batch
dimension is the dynamic "N" (oracle.check runs batch 1 and 7 on one loaded model, then the
model compiled with N fixed)."""

import numpy as np
import pytest
from onnx import TensorProto

import drsn
import oracle
from node_cases import cases, run_case
from oracle import (check, compare, make_feeds, make_model, node, ort_run, ort_session,  # noqa: F401
                    seed_rng_per_test, uniform, validate)  # seed_rng_per_test: autouse, re-seeds RNG per test

RNG = np.random.default_rng(0)


def rand(*shape, scale=0.6):
    return RNG.uniform(-scale, scale, size=shape).astype(np.float32)


DIRECTIONS = {"forward": 1, "reverse": 1, "bidirectional": 2}


def rnn_attributes(hidden, direction, layout, opset, lbr, extra):
    """The LSTM / GRU node's attributes: layout from opset 14, linear_before_reset when given,
    then `extra` (which may override any of them)."""
    attrs = dict(hidden_size=hidden, direction=direction)
    if opset >= 14:
        attrs["layout"] = layout
    if lbr is not None:
        attrs["linear_before_reset"] = lbr
    attrs.update(extra or {})
    return attrs


def rnn_model(op, *, hidden, seq, inputs=3, direction="forward", bias=True, initial=None, outputs=None,
              layout=0, opset=17, lbr=None, peephole=False, extra=None):
    """An LSTM / GRU node with constant W, R, [B], [P] and a dynamic batch "N". `initial`:
    None or "runtime" (initial_h and, for LSTM, initial_c as graph inputs). `outputs`: which
    of Y, Y_h, Y_c the graph returns (None: all)."""
    gates = 4 if op == "LSTM" else 3
    d = DIRECTIONS[direction]
    inits = {"W": rand(d, gates * hidden, inputs), "R": rand(d, gates * hidden, hidden)}
    graph_inputs = [("X", [seq, "N", inputs] if layout == 0 else ["N", seq, inputs])]
    state = [d, "N", hidden] if layout == 0 else ["N", d, hidden]
    # inputs: X, W, R, B, sequence_lens, initial_h, [initial_c, P]
    names = ["X", "W", "R", "B" if bias else "", ""]
    if bias:
        inits["B"] = rand(d, 2 * gates * hidden)
    for s in ["initial_h"] + (["initial_c"] if op == "LSTM" else []):
        names.append(s if initial == "runtime" else "")
        if initial == "runtime":
            graph_inputs.append((s, state))
    if peephole:
        names.append("P")
        inits["P"] = rand(d, 3 * hidden)
    while names[-1] == "":
        names.pop()
    all_outputs = ["Y", "Y_h", "Y_c"][: 3 if op == "LSTM" else 2]
    wanted = outputs or all_outputs
    node_outputs = [o if o in wanted else "" for o in all_outputs]
    while node_outputs[-1] == "":
        node_outputs.pop()
    attrs = rnn_attributes(hidden, direction, layout, opset, lbr, extra)
    return make_model([node(op, names, node_outputs, **attrs)], graph_inputs, wanted, inits, opset=opset)


def rnn_static_model(op, *, hidden, seq, batch, inputs=3, direction="forward", layout=0, opset=17, lbr=None,
                     seq_lens=None, initial=True, extra=None):
    """A static-shape LSTM / GRU with constant initial states and optional constant sequence_lens."""
    gates = 4 if op == "LSTM" else 3
    d = DIRECTIONS[direction]
    state = (d, batch, hidden) if layout == 0 else (batch, d, hidden)
    inits = {"W": rand(d, gates * hidden, inputs), "R": rand(d, gates * hidden, hidden),
             "B": rand(d, 2 * gates * hidden)}
    names = ["X", "W", "R", "B", ""]
    if seq_lens is not None:
        inits["lens"] = np.array(seq_lens, dtype=np.int32)
        names[4] = "lens"
    if initial:
        inits["initial_h"] = rand(*state, scale=1.0)
        names.append("initial_h")
        if op == "LSTM":
            inits["initial_c"] = rand(*state, scale=1.0)
            names.append("initial_c")
    outs = ["Y", "Y_h", "Y_c"][: 3 if op == "LSTM" else 2]
    attrs = rnn_attributes(hidden, direction, layout, opset, lbr, extra)
    x_shape = [seq, batch, inputs] if layout == 0 else [batch, seq, inputs]
    while names[-1] == "":
        names.pop()
    return make_model([node(op, names, outs, **attrs)], [("X", x_shape)], outs, inits, opset=opset)


X_GEN = uniform(-1.5, 1.5)
STATE_GEN = {"X": X_GEN, "initial_h": uniform(-1, 1), "initial_c": uniform(-1, 1)}


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize("hidden,seq", [(1, 3), (5, 4), (8, 1), (16, 9), (19, 6)],
                         ids=lambda v: str(v))
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_shapes_directions(op, hidden, seq, direction):
    lbr = 1 if op == "GRU" else None
    check(rnn_model(op, hidden=hidden, seq=seq, inputs=5, direction=direction, lbr=lbr), gen=X_GEN)


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize("lbr", [0, 1])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_gru_linear_before_reset(lbr, bias, direction):
    check(rnn_model("GRU", hidden=12, seq=5, inputs=4, direction=direction, bias=bias, lbr=lbr), gen=X_GEN)


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_bias_and_runtime_initial_states(op, bias, direction):
    for lbr in ([None] if op == "LSTM" else [0, 1]):
        check(rnn_model(op, hidden=10, seq=4, inputs=6, direction=direction, bias=bias, initial="runtime", lbr=lbr),
              gen=STATE_GEN)


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_constant_initial_states(op, direction):
    # constant initial states fix the batch: static shapes, batch 3
    lbr = 0 if op == "GRU" else None
    check(rnn_static_model(op, hidden=9, seq=5, batch=3, direction=direction, lbr=lbr), gen=X_GEN)


def _layout1_against_layout0(build, batches=(1, 4)):
    """onnxruntime refuses layout 1 (batch-major), so a layout-1 model is checked against the
    same model in layout 0 run by onnxruntime on transposed inputs, its outputs transposed
    back. `build(layout)` must draw the same weights for both layouts."""
    state = RNG.bit_generator.state
    m0 = build(0)
    RNG.bit_generator.state = state
    m1 = build(1)
    validate(m1)
    if oracle.ORACLE_ONLY:
        return
    session = ort_session(m0.SerializeToString())
    with drsn.Model(m1.SerializeToString()) as model:
        for batch in batches:
            feeds1 = make_feeds(m1, {"N": batch}, RNG, STATE_GEN)
            feeds0 = {k: np.ascontiguousarray(v.transpose(1, 0, 2)) for k, v in feeds1.items()}
            expected0 = ort_run(session, feeds0)
            expected = {k: np.ascontiguousarray(v.transpose(2, 0, 1, 3) if k == "Y" else v.transpose(1, 0, 2))
                        for k, v in expected0.items()}
            compare(model.run_dict(feeds1), expected, context=f"layout 1, batch {batch}")


@pytest.mark.parametrize("initial", [None, "runtime"])
@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_layout_1(op, direction, initial):
    lbr = 1 if op == "GRU" else None
    _layout1_against_layout0(lambda layout: rnn_model(op, hidden=7, seq=6, inputs=4, direction=direction,
                                                      layout=layout, initial=initial, lbr=lbr))


@pytest.mark.parametrize("outputs", [["Y_h"], ["Y", "Y_h", "Y_c"]], ids=lambda o: "+".join(o))
def test_lstm_layout_1_peepholes_outputs(outputs):
    _layout1_against_layout0(lambda layout: rnn_model("LSTM", hidden=9, seq=4, direction="bidirectional",
                                                      layout=layout, initial="runtime", peephole=True,
                                                      outputs=outputs), batches=(3,))


LSTM_OUTPUT_SUBSETS = [["Y"], ["Y_h"], ["Y_c"], ["Y", "Y_h"], ["Y_h", "Y_c"], ["Y", "Y_c"], ["Y", "Y_h", "Y_c"]]
GRU_OUTPUT_SUBSETS = [["Y"], ["Y_h"], ["Y", "Y_h"]]


@pytest.mark.parametrize("outputs", LSTM_OUTPUT_SUBSETS, ids=lambda o: "+".join(o))
def test_lstm_output_subsets(outputs):
    check(rnn_model("LSTM", hidden=6, seq=3, direction="bidirectional", outputs=outputs), gen=X_GEN)


@pytest.mark.parametrize("outputs", GRU_OUTPUT_SUBSETS, ids=lambda o: "+".join(o))
def test_gru_output_subsets(outputs):
    check(rnn_model("GRU", hidden=6, seq=3, direction="reverse", outputs=outputs, lbr=1), gen=X_GEN)


@pytest.mark.parametrize("direction", list(DIRECTIONS))
def test_lstm_peepholes(direction):
    check(rnn_model("LSTM", hidden=11, seq=4, direction=direction, initial="runtime", peephole=True), gen=STATE_GEN)


@pytest.mark.parametrize("opset", [7, 13, 14, 17, 21])
@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_opsets(op, opset):
    lbr = 1 if op == "GRU" else None
    check(rnn_model(op, hidden=8, seq=4, direction="bidirectional", initial="runtime", opset=opset, lbr=lbr),
          gen=STATE_GEN)


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_full_sequence_lens_and_default_activations(op):
    # sequence_lens all equal to the sequence length, activations spelled out as the defaults
    acts = ["Sigmoid", "Tanh", "Tanh"] if op == "LSTM" else ["Sigmoid", "Tanh"]
    model = rnn_static_model(op, hidden=5, seq=4, batch=2, direction="bidirectional", seq_lens=[4, 4],
                             extra=dict(activations=acts * 2), lbr=1 if op == "GRU" else None)
    check(model, gen=X_GEN)


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_rnn_two_threads(op):
    # (direction, batch row) pairs split over two threads; larger hidden size: real GEMMs per step
    lbr = 1 if op == "GRU" else None
    check(rnn_model(op, hidden=64, seq=12, inputs=16, direction="bidirectional", initial="runtime", lbr=lbr),
          gen=STATE_GEN, batches=(1, 5), num_threads=2)


def test_gru_lbr0_two_threads_large():
    check(rnn_model("GRU", hidden=40, seq=10, inputs=8, direction="forward", initial="runtime", lbr=0),
          gen=STATE_GEN, batches=(2, 9), num_threads=2)


def test_lstm_stacked_with_squeeze():
    # the PyTorch export shape: LSTM -> Squeeze(axis 1) -> second LSTM reading Y
    hidden = 6
    inits = {"W1": rand(1, 4 * hidden, 3), "R1": rand(1, 4 * hidden, hidden), "B1": rand(1, 8 * hidden),
             "W2": rand(1, 4 * hidden, hidden), "R2": rand(1, 4 * hidden, hidden), "B2": rand(1, 8 * hidden),
             "axes": np.array([1], dtype=np.int64)}
    nodes = [node("LSTM", ["X", "W1", "R1", "B1"], ["Y1"], hidden_size=hidden),
             node("Squeeze", ["Y1", "axes"], ["S1"]),
             node("LSTM", ["S1", "W2", "R2", "B2"], ["Y2", "H2"], hidden_size=hidden)]
    check(make_model(nodes, [("X", [7, "N", 3])], ["Y2", "H2"], inits), gen=X_GEN)


def test_lstm_of_constant_input():
    # X is an initializer: constant folding leaves the node (it needs runtime steps), binding
    # runs it on the constant; Y_h then meets a runtime input
    nodes = [node("LSTM", ["X", "W", "R", "B"], ["Y", "Y_h"], hidden_size=4), node("Add", ["Y_h", "z"], ["out"])]
    inits = {"X": rand(3, 2, 5), "W": rand(1, 16, 5), "R": rand(1, 16, 4), "B": rand(1, 32)}
    check(make_model(nodes, [("z", [1, 2, 4])], ["out", "Y"], inits))


def test_gru_outputs_consumed_and_returned():
    # Y_h is a graph output and read by another node, Y a graph output too
    nodes = [node("GRU", ["X", "W", "R"], ["Y", "Y_h"], hidden_size=3, linear_before_reset=1),
             node("Relu", ["Y_h"], ["r"])]
    check(make_model(nodes, [("X", [4, "N", 2])], ["Y", "Y_h", "r"], {"W": rand(1, 9, 2), "R": rand(1, 9, 3)}),
          gen=X_GEN)


def _load_error(model):
    with pytest.raises(drsn.Error) as info:
        drsn.Model(model.SerializeToString())
    return str(info.value)


REFUSED = {
    "activations": ("LSTM", dict(activations=["Relu", "Tanh", "Tanh"]), "activations"),
    "gru_activations": ("GRU", dict(activations=["Sigmoid", "Relu"]), "activations"),
    "clip": ("LSTM", dict(clip=3.0), "clip"),
    "gru_clip": ("GRU", dict(clip=3.0), "clip"),
    "input_forget": ("LSTM", dict(input_forget=1), "input_forget"),
}


@pytest.mark.usefixtures("needs_library")
@pytest.mark.parametrize("case", REFUSED)
def test_rnn_refused_attributes(case):
    op, extra, word = REFUSED[case]
    msg = _load_error(rnn_model(op, hidden=4, seq=3, extra=extra))
    assert op in msg and word in msg and "not supported" in msg, msg


@pytest.mark.usefixtures("needs_library")
def test_rnn_shorter_sequence_lens_refused():
    msg = _load_error(rnn_static_model("LSTM", hidden=4, seq=5, batch=2, seq_lens=[5, 3]))
    assert "sequence_lens" in msg and "not supported" in msg, msg


@pytest.mark.usefixtures("needs_library")
def test_rnn_runtime_weights_refused():
    model = make_model([node("GRU", ["X", "W", "R"], ["Y"], hidden_size=2)],
                       [("X", [3, "N", 2]), ("W", [1, 6, 2]), ("R", [1, 6, 2])], ["Y"])
    msg = _load_error(model)
    assert "must be a constant" in msg and "W" in msg, msg


@pytest.mark.usefixtures("needs_library")
def test_rnn_runtime_sequence_lens_refused():
    model = make_model([node("GRU", ["X", "W", "R", "", "lens"], ["Y"], hidden_size=2)],
                       [("X", [3, 4, 2])], ["Y"], {"W": rand(1, 6, 2), "R": rand(1, 6, 2)})
    # sequence_lens as a graph input of type int32
    from onnx import helper
    model.graph.input.append(helper.make_tensor_value_info("lens", TensorProto.INT32, [4]))
    msg = _load_error(model)
    assert "sequence_lens" in msg or "INT32" in msg, msg


# ---- the ONNX backend node tests (reference outputs of ONNX's implementation; W, R, B,
# sequence_lens and P, graph inputs there, are made constants of each data set) ----------

@pytest.mark.usefixtures("needs_library")
@pytest.mark.parametrize("case", cases("test_lstm", "test_gru"), ids=lambda c: c.name)
def test_rnn_onnx_node_cases(case):
    run_case(case, constant_inputs=(1, 2, 3, 4, 7), opset_fallback=True)
