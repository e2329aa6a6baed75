"""Every supported operator at every version ONNX defines for it in drsn's opset window
(7 to 28), against two oracles:

* the ONNX schemas (onnx.defs): a node that uses an operator before the opset that
  introduced it, an attribute its opset does not define (Clip-11 with a min attribute,
  Shape-13 with start, ...) or more inputs or outputs than its opset allows is refused with
  InvalidModelError naming the operator, the attribute or count and the opset; what the
  opset does define is never refused as undefined;
* onnxruntime: one small graph per operator, built in the form its opset defines
  (attributes that later became inputs, new attributes, changed defaults), run at the
  first opset of the window, at every opset where ONNX changed the operator, and at 28.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnx.defs
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from onnxruntime.capi.onnxruntime_pybind11_state import NotImplemented as OrtNotImplemented

import drsn
from oracle import (ATOL, away_from_zero, check, compare, i64, integers, make_feeds, make_model, node, ort_run,
                    ort_session, uniform, with_zeros)

pytestmark = pytest.mark.usefixtures("needs_library")

MIN_OPSET, MAX_OPSET = 7, 28


def f32(*values):
    return np.array(values, dtype=np.float32)


def _schema(op: str, opset: int):
    """The schema of `op` in force at `opset`, or None when the opset does not define it."""
    try:
        return onnx.defs.get_schema(op, opset, "")
    except onnx.defs.SchemaError:
        return None


def _versions(op: str) -> list[int]:
    """The opsets to test `op` at: the first one in the window that defines it, every later
    one where its schema changed, and the window's last."""
    first = next(v for v in range(MIN_OPSET, MAX_OPSET + 1) if _schema(op, v) is not None)
    changes = {_schema(op, v).since_version for v in range(first, MAX_OPSET + 1)}
    return sorted({first, MAX_OPSET} | {v for v in changes if v > first})


# ---- the schemas --------------------------------------------------------------------------

OPERATORS = sorted("""Conv BatchNormalization Relu Abs Sign Neg Sigmoid LeakyRelu Clip Cast Add Sub
    Mul Div Max Min Greater Less GreaterOrEqual LessOrEqual Equal Where GlobalAveragePool
    AveragePool MaxPool ReduceMean ReduceSum ReduceMax Gemm MatMul Softmax Flatten Reshape
    Squeeze Unsqueeze Identity Dropout Shape ConstantOfShape Constant Transpose Concat Slice Pad
    Gather Expand LRN LayerNormalization InstanceNormalization Split Tile ReduceMin ReduceProd ReduceL1
    ReduceL2 ReduceSumSquare ReduceLogSumExp Resize Upsample ConvTranspose LSTM GRU Sum Mean Exp Log Sqrt
    Reciprocal Tanh Erf Softplus Softsign HardSwish Elu Selu HardSigmoid Gelu Pow PRelu
    QuantizeLinear DequantizeLinear QLinearConv""".split())

_DUMMY = {
    onnx.defs.OpSchema.AttrType.INT: 1, onnx.defs.OpSchema.AttrType.FLOAT: 1.0,
    onnx.defs.OpSchema.AttrType.STRING: "x", onnx.defs.OpSchema.AttrType.INTS: [1],
    onnx.defs.OpSchema.AttrType.FLOATS: [1.0], onnx.defs.OpSchema.AttrType.STRINGS: ["x"],
    onnx.defs.OpSchema.AttrType.TENSOR: numpy_helper.from_array(f32(1.0)),
}


def _raw_model(op: str, opset: int, n_inputs: int = 1, n_outputs: int = 1, **attrs) -> bytes:
    """A one-node model that need not be valid ONNX (no checker): float inputs x0.. of
    shape [2, 3], outputs y0.."""
    ins = [f"x{i}" for i in range(n_inputs)]
    outs = [f"y{i}" for i in range(n_outputs)]
    graph = helper.make_graph(
        [helper.make_node(op, ins, outs, name=f"the_{op}", **attrs)], "g",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2, 3]) for n in ins],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model.SerializeToString()


def _load_error(data: bytes):
    """The drsn error loading `data` raises, or None when it loads."""
    try:
        drsn.Model(data).close()
    except drsn.Error as exc:
        return exc
    return None


def _attributes_in_window(op: str) -> dict:
    """Every attribute `op` has at some opset of the window -> its type."""
    found = {}
    for v in range(MIN_OPSET, MAX_OPSET + 1):
        s = _schema(op, v)
        for name, a in (s.attributes.items() if s else ()):
            found.setdefault(name, a.type)
    return found


def test_operator_list_matches_the_library():
    from onnx_conformance import drsn_capabilities
    caps = drsn_capabilities()
    assert sorted(caps.operators) == OPERATORS, (
        "the operators drsn supports changed: update OPERATORS here and give each new one its "
        "OperatorSchema entry and a builder in MODELS")
    assert (caps.min_opset, caps.max_opset) == (MIN_OPSET, MAX_OPSET)
    assert onnx.defs.onnx_opset_version() >= MAX_OPSET


@pytest.mark.parametrize("op", OPERATORS)
def test_schema_versions(op):
    """For every opset of the window: an operator not yet defined is refused; so is each
    attribute the window knows that this opset lacks, and one input or output too many;
    nothing the opset defines is refused as undefined."""
    attributes = _attributes_in_window(op)
    for opset in range(MIN_OPSET, MAX_OPSET + 1):
        schema = _schema(op, opset)
        if schema is None:
            err = _load_error(_raw_model(op, opset))
            assert isinstance(err, drsn.InvalidModelError), (op, opset, err)
            assert f"'{op}' is not defined at opset {opset}" in err.detail, err.detail
            continue
        for name, kind in attributes.items():
            if kind == onnx.defs.OpSchema.AttrType.SPARSE_TENSOR:
                continue  # drsn refuses sparse attributes of any operator (UnsupportedError)
            err = _load_error(_raw_model(op, opset, **{name: _DUMMY[kind]}))
            if name in schema.attributes:
                assert err is None or "is not defined" not in err.detail, (op, opset, name, err)
            else:
                assert isinstance(err, drsn.InvalidModelError), (op, opset, name, err)
                assert f"attribute '{name}'" in err.detail and f"opset {opset}" in err.detail, err.detail
        variadic = onnx.defs.OpSchema.FormalParameterOption.Variadic
        if not any(p.option == variadic for p in schema.inputs):
            err = _load_error(_raw_model(op, opset, n_inputs=len(schema.inputs) + 1))
            assert isinstance(err, drsn.InvalidModelError), (op, opset, err)
            assert f"at most {len(schema.inputs)} input" in err.detail, err.detail
        if not any(p.option == variadic for p in schema.outputs):
            err = _load_error(_raw_model(op, opset, n_outputs=len(schema.outputs) + 1))
            assert isinstance(err, drsn.InvalidModelError) and "at most" in err.detail, (op, opset, err)


def test_attribute_messages_say_where_it_is_defined():
    err = _load_error(_raw_model("Clip", 11, min=0.0))
    assert "attribute 'min' is not defined for Clip at opset 11 (ONNX defines it up to opset 10)" in err.detail
    err = _load_error(_raw_model("Shape", 13, start=1))
    assert "attribute 'start' is not defined for Shape at opset 13 (ONNX defines it from opset 15)" in err.detail
    err = _load_error(_raw_model("Relu", 17, alpha=1.0))
    assert "attribute 'alpha' is not defined for Relu (opset 17)" in err.detail
    err = _load_error(_raw_model("Sign", 8))
    assert "operator 'Sign' is not defined at opset 8 (ONNX defines it from opset 9)" in err.detail
    assert "the_Sign" in err.detail


def test_constant_node_attributes_are_checked():
    # Constant nodes become constants in the importer, before the graph passes.
    err = _load_error(_raw_model("Constant", 11, n_inputs=0, value_float=1.0))
    assert isinstance(err, drsn.InvalidModelError), err
    assert "attribute 'value_float' is not defined for Constant at opset 11" in err.detail


# ---- the operators against onnxruntime, at each version ------------------------------------

X3 = ("x", ["N", 3, 5])
X4 = ("x", ["N", 3, 7, 6])


def _unary(op, **attrs):
    return lambda opset: make_model([node(op, ["x"], ["y"], **attrs)], [X3], ["y"], opset=opset)


def _binary(op, out=TensorProto.FLOAT):
    def build(opset):
        return make_model([node(op, ["x", "b"], ["y"])], [X3], [("y", out)], {"b": np.linspace(-1, 1, 5, dtype=np.float32)},
                          opset=opset)
    return build


def _variadic(op):
    def build(opset):
        # Max/Min-6 (opset 7) require equal shapes; broadcasting from 8 on
        if opset < 8:
            return make_model([node(op, ["x", "x2", "x"], ["y"])], [X3, ("x2", ["N", 3, 5])], ["y"], opset=opset)
        return make_model([node(op, ["x", "x2", "b"], ["y"])], [X3, ("x2", ["N", 3, 5])], ["y"], {"b": f32(0.25)},
                          opset=opset)
    return build


def _clip(opset):
    if opset < 11:
        return make_model([node("Clip", ["x"], ["y"], min=-0.5, max=0.7)], [X3], ["y"], opset=opset)
    return make_model([node("Clip", ["x", "lo", "hi"], ["y"])], [X3], ["y"], {"lo": f32(-0.5)[0], "hi": f32(0.7)[0]},
                      opset=opset)


def _cast(opset):
    # runtime FLOAT -> BOOL -> FLOAT, and a constant cast to FLOAT16 (rounded to half precision)
    attrs = {"saturate": 1} if opset >= 19 else {}
    nodes = [node("Cast", ["x"], ["b"], to=TensorProto.BOOL, **attrs),
             node("Cast", ["b"], ["f"], to=TensorProto.FLOAT),
             node("Cast", ["c"], ["h"], to=TensorProto.FLOAT16),
             node("Cast", ["h"], ["c32"], to=TensorProto.FLOAT),
             node("Add", ["f", "c32"], ["y"])]
    return make_model(nodes, [X3], ["y"], {"c": f32(0.1, 1.0001, 3.14159, -2.71828, 1000.7)}, opset=opset)


def _equal(opset):
    # Equal defines float inputs from opset 11 (bool and integers before)
    if opset < 11:
        nodes = [node("Greater", ["x", "b"], ["g"]), node("Equal", ["g", "t"], ["y"])]
        return make_model(nodes, [X3], [("y", TensorProto.BOOL)], {"b": f32(0.0), "t": np.array(True)}, opset=opset)
    return _binary("Equal", TensorProto.BOOL)(opset)


def _where(opset):
    nodes = [node("Greater", ["x", "z"], ["c"]), node("Where", ["c", "x", "b"], ["y"])]
    return make_model(nodes, [X3], ["y"], {"z": f32(0.0), "b": f32(-0.25)}, opset=opset)


def _pool(op):
    def build(opset):
        attrs = dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1])
        if opset >= 10:
            attrs["ceil_mode"] = 1
        if opset >= 8 and op == "MaxPool":
            attrs["storage_order"] = 0
        if opset >= (10 if op == "MaxPool" else 19):
            attrs["dilations"] = [1, 2]
        if op == "AveragePool":
            attrs["count_include_pad"] = 1
        return make_model([node(op, ["x"], ["y"], **attrs)], [X4], ["y"], opset=opset)
    return build


def _reduce(op, axes_input_from):
    def build(opset):
        if opset < axes_input_from:
            return make_model([node(op, ["x"], ["y"], axes=[-1], keepdims=0)], [X3], ["y"], opset=opset)
        return make_model([node(op, ["x", "axes"], ["y"], keepdims=0)], [X3], ["y"], {"axes": i64(-1)}, opset=opset)
    return build


def _gemm(opset):
    return make_model([node("Gemm", ["x", "w", "c"], ["y"], transB=1, alpha=0.5, beta=2.0)], [("x", ["N", 6])], ["y"],
                      {"w": np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6), "c": f32(1, 2, 3, 4)}, opset=opset)


def _softmax(opset):
    # axis 1 of a rank-3 input: opset < 13 coerces to 2-D ([N, 3*5]), 13 on normalises axis 1 only
    return make_model([node("Softmax", ["x"], ["y"], axis=1)], [X3], ["y"], opset=opset)


def _softmax_default(opset):
    return make_model([node("Softmax", ["x"], ["y"])], [X3], ["y"], opset=opset)


def _flatten(opset):
    return make_model([node("Flatten", ["x"], ["y"], axis=-1 if opset >= 11 else 2)], [X4], ["y"], opset=opset)


def _reshape(opset):
    attrs = {"allowzero": 0} if opset >= 14 else {}
    return make_model([node("Reshape", ["x", "s"], ["y"], **attrs)], [X3], ["y"], {"s": i64(0, -1)}, opset=opset)


def _squeeze(op):
    def build(opset):
        nodes = [node("Unsqueeze", ["x"], ["u"], axes=[1]) if opset < 13 else node("Unsqueeze", ["x", "a"], ["u"])]
        if op == "Squeeze":
            nodes.append(node("Squeeze", ["u"], ["y"], axes=[1]) if opset < 13 else node("Squeeze", ["u", "a"], ["y"]))
        else:
            nodes[0].output[0] = "y"
        return make_model(nodes, [X3], ["y"], {} if opset < 13 else {"a": i64(1)}, opset=opset)
    return build


def _dropout(opset, mask=None):
    """Dropout at inference: y = x, and a mask (FLOAT before opset 10, BOOL from 10) that keeps
    every element. The mask is an output from opset 12 on unless `mask` says otherwise
    (onnxruntime writes a zero mask before 12, see test_dropout_mask_before_opset_12)."""
    mask = opset >= 12 if mask is None else mask
    outs = ["y", "m"] if mask else ["y"]
    declared = ["y", ("m", TensorProto.BOOL if opset >= 10 else TensorProto.FLOAT)][:len(outs)]
    if opset < 12:
        return make_model([node("Dropout", ["x"], outs, ratio=0.3)], [X3], declared, opset=opset)
    return make_model([node("Dropout", ["x", "r"], outs, seed=3)], [X3], declared, {"r": f32(0.3)[0]}, opset=opset)


def _shape(opset):
    attrs = {"start": 1, "end": -1} if opset >= 15 else {}
    return make_model([node("Shape", ["x"], ["y"], **attrs)], [X4], [("y", TensorProto.INT64)], opset=opset)


def _constant_of_shape(opset):
    nodes = [node("Shape", ["x"], ["s"]),
             node("ConstantOfShape", ["s"], ["c"], value=numpy_helper.from_array(f32(2.5))),
             node("Add", ["x", "c"], ["y"])]
    return make_model(nodes, [X3], ["y"], opset=opset)


def _constant(opset):
    value = ({"value_floats": [0.5, -1.0, 2.0, 0.0, 3.0]} if opset >= 12
             else {"value": numpy_helper.from_array(f32(0.5, -1.0, 2.0, 0.0, 3.0))})
    nodes = [node("Constant", [], ["c"], **value), node("Mul", ["x", "c"], ["y"])]
    return make_model(nodes, [X3], ["y"], opset=opset)


def _concat(opset):
    # negative axes from opset 11
    return make_model([node("Concat", ["x", "x"], ["y"], axis=-1 if opset >= 11 else 2)], [X3], ["y"], opset=opset)


def _slice(opset):
    if opset < 10:
        return make_model([node("Slice", ["x"], ["y"], starts=[1, 4], ends=[3, -1], axes=[1, 2])], [X3], ["y"],
                          opset=opset)
    return make_model([node("Slice", ["x", "s", "e", "a", "st"], ["y"])], [X3], ["y"],
                      {"s": i64(4, 0), "e": i64(0, 3), "a": i64(-1, 1), "st": i64(-2, 2)}, opset=opset)


def _pad(opset):
    if opset < 11:
        return make_model([node("Pad", ["x"], ["y"], pads=[0, 1, 2, 0, 0, 1], value=1.5)], [X3], ["y"], opset=opset)
    if opset < 18:
        return make_model([node("Pad", ["x", "p", "v"], ["y"])], [X3], ["y"], {"p": i64(0, 1, 2, 0, 0, 1), "v": f32(1.5)[0]},
                          opset=opset)
    return make_model([node("Pad", ["x", "p", "v", "a"], ["y"], mode="constant")], [X3], ["y"],
                      {"p": i64(2, 0, 1, -1), "v": f32(1.5)[0], "a": i64(-1, 1)}, opset=opset)


def _gather(opset):
    idx = i64(4, 0, 2) if opset < 11 else i64(-1, 0, -3)  # negative indices from opset 11
    return make_model([node("Gather", ["x", "i"], ["y"], axis=2)], [X3], ["y"], {"i": idx}, opset=opset)


def _expand(opset):
    return make_model([node("Expand", ["x", "s"], ["y"])], [("x", ["N", 3, 1])], ["y"], {"s": i64(2, 1, 3, 4)},
                      opset=opset)


def _conv(opset):
    w = np.linspace(-1, 1, 4 * 3 * 3 * 2, dtype=np.float32).reshape(4, 3, 3, 2)
    return make_model([node("Conv", ["x", "w", "b"], ["y"], pads=[1, 0, 1, 1], strides=[2, 1])], [X4], ["y"],
                      {"w": w, "b": f32(0.1, 0.2, 0.3, 0.4)}, opset=opset)


def _batchnorm(opset):
    attrs = {"training_mode": 0} if opset >= 14 else {}
    if opset < 9:
        attrs["spatial"] = 1
    params = {"s": f32(1.5, 0.5, 2.0), "b": f32(0.1, -0.2, 0.3), "m": f32(0.0, 0.5, -0.5), "v": f32(1.0, 0.25, 4.0)}
    return make_model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3, **attrs)], [X4], ["y"],
                      params, opset=opset)


def _split(opset):
    if opset < 13:
        n = node("Split", ["x"], ["a", "b"], axis=2, split=[2, 3])
        return make_model([n], [X3], ["a", "b"], opset=opset)
    if opset < 18:
        return make_model([node("Split", ["x", "s"], ["a", "b"], axis=2)], [X3], ["a", "b"], {"s": i64(2, 3)},
                          opset=opset)
    return make_model([node("Split", ["x"], ["a", "b"], axis=2, num_outputs=2)], [X3], ["a", "b"], opset=opset)


def _resize(opset):
    # nearest, doubling H and W: Upsample before 10, Resize (scales; roi from 11) from 10
    scales = f32(1.0, 1.0, 2.0, 2.0)
    if opset < 9:
        return make_model([node("Upsample", ["x"], ["y"], mode="nearest", scales=[1.0, 1.0, 2.0, 2.0])], [X4], ["y"],
                          opset=opset)
    if opset < 10:
        return make_model([node("Upsample", ["x", "s"], ["y"], mode="nearest")], [X4], ["y"], {"s": scales},
                          opset=opset)
    if opset < 11:
        return make_model([node("Resize", ["x", "s"], ["y"], mode="nearest")], [X4], ["y"], {"s": scales}, opset=opset)
    if opset < 13:  # roi is a required input at 11 and 12 (empty: unused by half_pixel)
        return make_model([node("Resize", ["x", "roi", "s"], ["y"], mode="linear")], [X4], ["y"],
                          {"roi": np.zeros(0, np.float32), "s": scales}, opset=opset)
    return make_model([node("Resize", ["x", "", "s"], ["y"], mode="linear")], [X4], ["y"], {"s": scales}, opset=opset)


def _layer_norm(opset):
    return make_model([node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-1, epsilon=1e-5)], [X3], ["y"],
                      {"g": np.linspace(0.5, 1.5, 5, dtype=np.float32), "b": np.linspace(-1, 1, 5, dtype=np.float32)},
                      opset=opset)


def _instance_norm(opset):
    return make_model([node("InstanceNormalization", ["x", "g", "b"], ["y"], epsilon=1e-5)], [X3], ["y"],
                      {"g": f32(0.5, 1.0, 1.5), "b": f32(-1.0, 0.0, 1.0)}, opset=opset)


def _conv_transpose(opset):
    w = np.linspace(-1, 1, 3 * 2 * 3 * 2, dtype=np.float32).reshape(3, 2, 3, 2)
    n = node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 1], pads=[1, 0, 0, 1], output_padding=[1, 0])
    return make_model([n], [X4], ["y"], {"w": w}, opset=opset)


def _recurrent(op, gates):
    def build(opset):
        hidden, rng = 4, np.random.default_rng(5)
        w = (rng.standard_normal((2, gates * hidden, 5)) * 0.5).astype(np.float32)
        r = (rng.standard_normal((2, gates * hidden, hidden)) * 0.5).astype(np.float32)
        b = (rng.standard_normal((2, 2 * gates * hidden)) * 0.1).astype(np.float32)
        attrs = {"linear_before_reset": 1} if op == "GRU" else {}
        outs = ["y", "y_h"]
        n = node(op, ["x", "w", "r", "b"], outs, hidden_size=hidden, direction="bidirectional", **attrs)
        return make_model([n], [("x", [6, "N", 5])], outs, {"w": w, "r": r, "b": b}, opset=opset)
    return build



def _quantize(opset):
    # per axis (axis 1, 3 channels) from 13, per tensor before; u8 codes out as well
    per_axis = opset >= 13
    s = f32(0.02, 0.05, 0.1) if per_axis else f32(0.05)[0]
    z = np.array([100, 128, 3] if per_axis else 128, np.uint8)
    attrs = {"axis": 1} if per_axis else {}
    return make_model([node("QuantizeLinear", ["x", "s", "z"], ["q"], **attrs),
                       node("DequantizeLinear", ["q", "s", "z"], ["y"], **attrs)],
                      [X3], ["y", ("q", TensorProto.UINT8)], {"s": s, "z": z}, opset=opset)


def _dequantize(opset):
    # an int8 constant (folded at load) added to the input
    w = np.arange(-7, 8, dtype=np.int8).reshape(3, 5)
    return make_model([node("DequantizeLinear", ["w", "s", "z"], ["wf"]), node("Add", ["x", "wf"], ["y"])],
                      [X3], ["y"], {"w": w, "s": f32(0.25)[0], "z": np.array(-2, np.int8)}, opset=opset)


def _qlinear_conv(opset):
    rng = np.random.default_rng(opset)
    inits = {"xs": f32(0.02)[0], "xz": np.array(128, np.uint8), "w": rng.integers(-60, 60, (4, 3, 3, 3)).astype(np.int8),
             "ws": f32(0.01, 0.02, 0.015, 0.03), "wz": np.zeros(4, np.int8), "ys": f32(0.05)[0],
             "yz": np.array(120, np.uint8), "b": np.array([-500, 0, 300, 1000], np.int32)}
    return make_model([node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
                       node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["yq"],
                            pads=[1, 1, 1, 1], strides=[2, 1]),
                       node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])], [X4], ["y"], inits, opset=opset)

MODELS = {
    "Relu": _unary("Relu"), "Abs": _unary("Abs"), "Neg": _unary("Neg"), "Sigmoid": _unary("Sigmoid"),
    "Sign": _unary("Sign"), "Identity": _unary("Identity"), "LeakyRelu": _unary("LeakyRelu", alpha=0.2),
    "Clip": _clip, "Cast": _cast,
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _binary("Div"),
    "Max": _variadic("Max"), "Min": _variadic("Min"),
    "Greater": _binary("Greater", TensorProto.BOOL), "Less": _binary("Less", TensorProto.BOOL),
    "GreaterOrEqual": _binary("GreaterOrEqual", TensorProto.BOOL),
    "LessOrEqual": _binary("LessOrEqual", TensorProto.BOOL), "Equal": _equal, "Where": _where,
    "GlobalAveragePool": lambda opset: make_model([node("GlobalAveragePool", ["x"], ["y"])], [X4], ["y"], opset=opset),
    "AveragePool": _pool("AveragePool"), "MaxPool": _pool("MaxPool"),
    "ReduceMean": _reduce("ReduceMean", 18), "ReduceSum": _reduce("ReduceSum", 13), "ReduceMax": _reduce("ReduceMax", 18),
    "Gemm": _gemm,
    "MatMul": lambda opset: make_model([node("MatMul", ["x", "w"], ["y"])], [X3], ["y"],
                                       {"w": np.linspace(-1, 1, 10, dtype=np.float32).reshape(5, 2)}, opset=opset),
    "Softmax": _softmax, "Flatten": _flatten, "Reshape": _reshape, "Squeeze": _squeeze("Squeeze"),
    "Unsqueeze": _squeeze("Unsqueeze"), "Dropout": _dropout, "Shape": _shape, "ConstantOfShape": _constant_of_shape,
    "Constant": _constant,
    "Transpose": lambda opset: make_model([node("Transpose", ["x"], ["y"], perm=[2, 0, 1])], [X3], ["y"], opset=opset),
    "Concat": _concat, "Slice": _slice, "Pad": _pad, "Gather": _gather, "Expand": _expand, "Conv": _conv,
    "BatchNormalization": _batchnorm,
    "LRN": lambda opset: make_model([node("LRN", ["x"], ["y"], size=3, alpha=1e-3, beta=0.75, bias=1.0)], [X4], ["y"],
                                    opset=opset),
    "LayerNormalization": _layer_norm, "InstanceNormalization": _instance_norm, "Split": _split,
    "Tile": lambda opset: make_model([node("Tile", ["x", "r"], ["y"])], [X3], ["y"], {"r": i64(1, 2, 1)}, opset=opset),
    "ReduceMin": _reduce("ReduceMin", 18), "ReduceProd": _reduce("ReduceProd", 18),
    "ReduceL1": _reduce("ReduceL1", 18), "ReduceL2": _reduce("ReduceL2", 18),
    "ReduceSumSquare": _reduce("ReduceSumSquare", 18), "ReduceLogSumExp": _reduce("ReduceLogSumExp", 18),
    "Resize": _resize, "Upsample": _resize,
    "Sum": _variadic("Sum"), "Mean": _variadic("Mean"),
    "Exp": _unary("Exp"), "Log": _unary("Log"), "Sqrt": _unary("Sqrt"), "Reciprocal": _unary("Reciprocal"),
    "Tanh": _unary("Tanh"), "Erf": _unary("Erf"), "Softplus": _unary("Softplus"), "Softsign": _unary("Softsign"),
    "HardSwish": _unary("HardSwish"), "Elu": _unary("Elu", alpha=0.7), "Selu": _unary("Selu", alpha=1.5, gamma=1.1),
    "HardSigmoid": _unary("HardSigmoid", alpha=0.3, beta=0.4), "Gelu": _unary("Gelu", approximate="tanh"),
    "Pow": _binary("Pow"), "PRelu": _binary("PRelu"),
    "ConvTranspose": _conv_transpose, "LSTM": _recurrent("LSTM", 4), "GRU": _recurrent("GRU", 3),
    "QuantizeLinear": _quantize, "DequantizeLinear": _dequantize, "QLinearConv": _qlinear_conv,
}

GENERATORS = {"Div": away_from_zero(), "Log": away_from_zero(), "Sqrt": away_from_zero(),
              "Reciprocal": away_from_zero(), "Pow": away_from_zero(), "Sign": with_zeros(), "Relu": with_zeros(), "Equal": integers(-1, 1),
              "Greater": integers(-1, 1), "Less": integers(-1, 1), "GreaterOrEqual": integers(-1, 1),
              "LessOrEqual": integers(-1, 1), "Max": integers(), "Min": integers(), "Cast": with_zeros(-2, 2, 0.3)}


def test_every_operator_has_a_model():
    assert sorted(MODELS) == OPERATORS


@pytest.mark.parametrize("op,opset", [(op, v) for op in OPERATORS for v in _versions(op)],
                         ids=lambda v: str(v))
def test_operator_version(op, opset):
    model, gen = MODELS[op](opset), GENERATORS.get(op, uniform())
    try:
        ort_session(model.SerializeToString())
    except OrtNotImplemented as exc:  # onnxruntime has no kernel at this opset (QuantizeLinear-28)
        check_with_onnx_reference(model, gen, str(exc))
        return
    check(model, gen=gen)


def check_with_onnx_reference(model, gen, why: str) -> None:
    """ONNX's reference evaluator as the oracle where onnxruntime lacks the opset."""
    assert "NOT_IMPLEMENTED" in why, why
    rng = np.random.default_rng(0)
    reference = ReferenceEvaluator(model)
    with drsn.Model(model.SerializeToString()) as m:
        for batch in (1, 7):
            feeds = make_feeds(model, {"N": batch}, rng, gen)
            expected = dict(zip([o.name for o in model.graph.output], reference.run(None, feeds)))
            compare(m.run_dict(feeds), expected, ATOL, context=f"batch {batch}, oracle onnx.reference")


@pytest.mark.parametrize("opset", [11, 13, 21])
def test_softmax_default_axis(opset):
    # the default axis changes at 13: 1 (coercing [N, 3, 5] to [N, 15]) before, -1 from 13
    check(_softmax_default(opset))


@pytest.mark.parametrize("opset", [11, 13, 28])
@pytest.mark.parametrize("bounds", ["both", "min", "max"])
def test_clip_bounds_computed_at_run_time(opset, bounds):
    # bounds that are graph inputs (scalars): a Max and a Min step
    ins = ["x", "lo" if bounds != "max" else "", "hi" if bounds != "min" else ""]
    graph_inputs = [X3] + [(n, []) for n in ins[1:] if n]
    model = make_model([node("Clip", ins, ["y"])], graph_inputs, ["y"], opset=opset)
    check(model, gen={"x": with_zeros(), "lo": uniform(-1.0, 0.0), "hi": uniform(0.0, 1.0)})


def test_clip_bounds_at_run_time_min_above_max():
    # ONNX: min(max(x, lo), hi), so hi wins when lo > hi
    model = make_model([node("Clip", ["x", "lo", "hi"], ["y"])], [X3, ("lo", []), ("hi", [])], ["y"], opset=13)
    check(model, gen={"x": uniform(), "lo": uniform(0.5, 1.0), "hi": uniform(-1.0, 0.0)})


def test_clip_bound_mixed_constant_and_run_time():
    model = make_model([node("Clip", ["x", "lo", "hi"], ["y"])], [X3, ("hi", [])], ["y"], {"lo": f32(-0.3)[0]}, opset=13)
    check(model, gen={"x": uniform(), "hi": uniform(0.0, 1.0)})


@pytest.mark.parametrize("opset", [7, 8])
def test_batchnorm_spatial0(opset):
    # spatial=0 (opsets 7 and 8): parameters per channel and position, shaped [C, H, W]
    shape = (3, 4, 2)
    rng = np.random.default_rng(opset)
    params = {"s": rng.uniform(0.5, 2, shape).astype(np.float32), "b": rng.uniform(-1, 1, shape).astype(np.float32),
              "m": rng.uniform(-1, 1, shape).astype(np.float32), "v": rng.uniform(0.2, 2, shape).astype(np.float32)}
    model = make_model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], spatial=0)], [("x", ["N", 3, 4, 2])],
                       ["y"], params, opset=opset)
    check(model)


def test_gemm_without_c_needs_opset_11():
    check(make_model([node("Gemm", ["x", "w"], ["y"], transB=1)], [("x", ["N", 6])], ["y"],
                     {"w": np.ones((4, 6), np.float32)}, opset=11))
    data = _raw_model("Gemm", 9, n_inputs=2)
    err = _load_error(data)
    assert isinstance(err, drsn.InvalidModelError) and "C is required before opset 11" in err.detail, err


def test_flatten_negative_axis_needs_opset_11():
    err = _load_error(_raw_model("Flatten", 9, axis=-1))
    assert isinstance(err, drsn.InvalidModelError) and "Flatten axis -1" in err.detail, err


def test_dropout_training_mode_is_refused():
    model = make_model([node("Dropout", ["x", "r", "t"], ["y"])], [X3], ["y"], {"r": f32(0.5)[0], "t": np.array(True)},
                       opset=13)
    err = _load_error(model.SerializeToString())
    assert isinstance(err, drsn.UnsupportedError) and "training_mode" in err.detail, err


@pytest.mark.parametrize("opset", [7, 10, 11])
def test_dropout_mask_before_opset_12(opset):
    # At inference nothing is dropped, but what the mask holds differs by opset in the
    # oracle: onnxruntime writes all 0.0 before opset 10 (FLOAT), all false at 10-11 (BOOL)
    # and all true from 12 (ONNX's reference implementation writes ones everywhere). drsn
    # follows onnxruntime, the runtime users compare against.
    model = _dropout(opset, mask=True)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 5)).astype(np.float32)
    ort_y, ort_mask = ort_run(ort_session(model.SerializeToString()), {"x": x}).values()
    with drsn.Model(model.SerializeToString()) as m:
        assert m.outputs[1].dtype == (np.bool_ if opset >= 10 else np.float32)
        y, mask = m.run(x)
    np.testing.assert_array_equal(y, ort_y)
    np.testing.assert_array_equal(mask, ort_mask.astype(np.float32))
    assert mask.all() == (opset >= 12)


def test_cast_of_constant_rounds_to_float16_and_bfloat16():
    c = f32(0.1, 1.0001, 3.14159, 65519.0, 1e-8)
    nodes = [node("Cast", ["c"], ["h"], to=TensorProto.FLOAT16), node("Cast", ["h"], ["h32"], to=TensorProto.FLOAT),
             node("Cast", ["c"], ["bf"], to=TensorProto.BFLOAT16), node("Cast", ["bf"], ["b32"], to=TensorProto.FLOAT),
             node("Add", ["x", "h32"], ["y"]), node("Add", ["x", "b32"], ["z"])]
    model = make_model(nodes, [("x", ["N", 5])], ["y", "z"], {"c": c}, opset=21)
    with drsn.Model(model.SerializeToString()) as m:
        y, z = m.run(np.zeros((1, 5), np.float32))
    np.testing.assert_array_equal(y[0], c.astype(np.float16).astype(np.float32))
    bits = c.view(np.uint32)
    bf = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).view(np.float32)
    np.testing.assert_array_equal(z[0], bf)
