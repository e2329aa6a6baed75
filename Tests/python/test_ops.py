"""Operator coverage: small ONNX graphs built with onnx.helper, run by drsn and by
onnxruntime (the oracle) on the same inputs; every output must agree within 1e-4
absolute. Each graph has a dynamic batch dim "N" (run with batch 1 and 7 on one loaded
model) and is also compiled once with N fixed (see oracle.check).

Opsets: 17 unless a test says otherwise; tests parametrise opsets where the operator's
semantics or signature differ (attributes vs inputs, Softmax coercion, ...).
"""

import numpy as np
import pytest
from onnx import TensorProto, numpy_helper

from drsn_graphs import FORMULATIONS, rsbu, soft_threshold, threshold_net, torchscript_pad
from oracle import (
    INT64_MAX,
    away_from_zero,
    check,
    i64,
    integers,
    make_model,
    node,
    seed_rng_per_test,  # noqa: F401 (autouse: re-seeds RNG per test)
    uniform,
    with_zeros,
)

RNG = np.random.default_rng(0)


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def f32(value):
    return np.array(value, dtype=np.float32)


def _tensor(array, name="t"):
    return numpy_helper.from_array(np.asarray(array), name=name)


# ---- element-wise unary ----------------------------------------------------------------

UNARY_SHAPES = [["N", 5], ["N", 3, 7], ["N", 2, 5, 3]]


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("op", ["Relu", "Abs", "Sign", "Neg", "Identity"])
def test_unary(op, shape):
    check(make_model([node(op, ["x"], ["y"])], [("x", shape)], ["y"]), gen=with_zeros())


@pytest.mark.parametrize("opset", [11, 13, 17])
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_sigmoid(shape, opset):
    # large magnitudes reach the saturated tails
    check(make_model([node("Sigmoid", ["x"], ["y"])], [("x", shape)], ["y"], opset=opset),
          gen=with_zeros(-40, 40))


@pytest.mark.parametrize("opset", [11, 13, 14])
def test_relu_opsets(opset):
    check(make_model([node("Relu", ["x"], ["y"])], [("x", ["N", 4, 9])], ["y"], opset=opset),
          gen=with_zeros())


def test_unary_chain_same_input_twice():
    nodes = [node("Abs", ["x"], ["a"]), node("Neg", ["x"], ["n"]), node("Add", ["a", "n"], ["s"]),
             node("Mul", ["x", "x"], ["sq"]), node("Sign", ["s"], ["y1"]), node("Relu", ["sq"], ["y2"])]
    check(make_model(nodes, [("x", ["N", 3, 11])], ["y1", "y2", "s"]), gen=with_zeros())


# ---- LeakyRelu (the worked example of docs/architecture.md) ------------------------------

@pytest.mark.parametrize("opset", [11, 16, 17])
@pytest.mark.parametrize("alpha", [None, 0.2, -1.5], ids=["default", "0.2", "-1.5"])
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_leaky_relu(shape, alpha, opset):
    attrs = {} if alpha is None else {"alpha": alpha}
    check(make_model([node("LeakyRelu", ["x"], ["y"], **attrs)], [("x", shape)], ["y"], opset=opset),
          gen=with_zeros())


def test_leaky_relu_split_over_threads():
    # big enough to be split into element blocks over two threads
    check(make_model([node("LeakyRelu", ["x"], ["y"], alpha=0.1)], [("x", ["N", 64, 501])], ["y"]),
          gen=with_zeros(), num_threads=2)


def test_leaky_relu_of_a_constant_is_folded():
    # evaluated at load time (constant folding through the operator and its kernel)
    c = rand(3, 7, low=-2, high=2)
    nodes = [node("LeakyRelu", ["c"], ["l"], alpha=0.3), node("Add", ["x", "l"], ["y"])]
    check(make_model(nodes, [("x", ["N", 3, 7])], ["y"], {"c": c}))


# ---- Clip --------------------------------------------------------------------------------

@pytest.mark.parametrize("opset", [11, 12, 13, 17])
@pytest.mark.parametrize("bounds", ["min_max", "min_only", "max_only", "none"])
def test_clip_inputs(opset, bounds):
    inits, ins = {}, ["x"]
    if bounds in ("min_max", "min_only"):
        inits["lo"] = f32(-0.5)
        ins.append("lo")
    elif bounds == "max_only":
        ins.append("")  # omitted optional input
    if bounds in ("min_max", "max_only"):
        inits["hi"] = f32(1.25)
        ins.append("hi")
    model = make_model([node("Clip", ins, ["y"])], [("x", ["N", 3, 8])], ["y"], inits, opset=opset)
    check(model, gen=with_zeros())


def test_clip_bounds_from_constant_nodes():
    nodes = [node("Constant", [], ["lo"], value_float=0.0),
             node("Constant", [], ["hi"], value=_tensor(f32(0.75))),
             node("Clip", ["x", "lo", "hi"], ["y"])]
    check(make_model(nodes, [("x", ["N", 2, 5, 5])], ["y"]), gen=with_zeros())


@pytest.mark.parametrize("attrs", [dict(min=-0.5, max=1.25), dict(min=0.0), dict(max=0.3), dict()],
                         ids=["min_max", "min", "max", "none"])
def test_clip_opset6_attributes(attrs):
    # optional: drsn may support opsets from 7 only (skipped, with the reason, if so)
    model = make_model([node("Clip", ["x"], ["y"], **attrs)], [("x", ["N", 3, 8])], ["y"], opset=6)
    check(model, gen=with_zeros(), unsupported_ok=["6"])


# ---- binary element-wise with multidirectional broadcasting -----------------------------

# (x shape, other shape, other is an initializer)
BROADCAST_CASES = [
    (["N", 4, 5], [], True),              # scalar
    (["N", 4, 5], [1], True),             # [1]
    (["N", 4, 5], [4, 1], True),          # [C,1]
    (["N", 4, 5], [1, 4, 1], True),       # [1,C,1]
    (["N", 4, 5], [5], True),             # rank mismatch, last dim
    (["N", 4, 5], [4, 5], True),          # rank mismatch, full trailing shape
    (["N", 4, 1], [1, 1, 5], True),       # both sides broadcast
    (["N", 1, 5], [4, 1], True),          # both sides broadcast, rank mismatch
    (["N", 3, 4, 5], [3, 1, 1], True),    # per-channel constant (2-D feature map)
    (["N", 4, 5], ["N", 4, 5], False),    # same shape, two inputs
    (["N", 4, 1], ["N", 1, 5], False),    # both broadcast, two inputs
    (["N", 3, 4, 5], ["N", 3, 1, 1], False),  # per-sample per-channel (DRSN thresholds)
    (["N", 3, 4, 5], ["N", 1, 1, 1], False),  # per-sample (RSBU-CS)
]


def _case_id(case):
    x, y, init = case
    return f"{'x'.join(map(str, x))}_{'x'.join(map(str, y)) or 'scalar'}_{'init' if init else 'input'}"


def _binary_model(op, case, swap, opset=17):
    x_shape, y_shape, y_init = case
    inits = {"y": rand(*y_shape, low=0.5, high=2.0) * np.where(RNG.random(y_shape) < 0.5, -1, 1)
             .astype(np.float32)} if y_init else {}
    inputs = [("x", x_shape)] + ([] if y_init else [("y", y_shape)])
    args = ["y", "x"] if swap else ["x", "y"]
    return make_model([node(op, args, ["z"])], inputs, ["z"], inits, opset=opset)


@pytest.mark.parametrize("swap", [False, True], ids=["x_op_y", "y_op_x"])
@pytest.mark.parametrize("case", BROADCAST_CASES, ids=_case_id)
@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Max", "Min"])
def test_binary_broadcast(op, case, swap):
    gen = away_from_zero() if op == "Div" else (integers() if op in ("Max", "Min") else None)
    check(_binary_model(op, case, swap), gen=gen)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("opset", [11, 13, 14])
def test_binary_opsets(op, opset):
    check(_binary_model(op, BROADCAST_CASES[2], False, opset=opset), gen=away_from_zero())


def test_binary_per_sample_scale_and_constant_left():
    # [N,1,1] input against [N,3,7], then a constant [7] on the left of a Sub
    nodes = [node("Mul", ["x", "s"], ["a"]), node("Sub", ["v", "a"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3, 7]), ("s", ["N", 1, 1])], ["y"], {"v": rand(7)})
    check(model)


@pytest.mark.parametrize("op", ["Max", "Min"])
@pytest.mark.parametrize("arity", [1, 3, 4])
def test_max_min_variadic(op, arity):
    inits = {"a": rand(4, 1), "b": rand(5), "c": f32(0.25)}
    inputs = [("x", ["N", 4, 5]), ("y", ["N", 1, 5])]
    args = {1: ["x"], 3: ["x", "a", "y"], 4: ["b", "x", "c", "a"]}[arity]
    model = make_model([node(op, args, ["z"])], inputs if "y" in args else inputs[:1], ["z"],
                       {k: v for k, v in inits.items() if k in args})
    check(model, gen=integers())


# ---- comparisons, Where ------------------------------------------------------------------

COMPARE_OPS = ["Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal"]


@pytest.mark.parametrize("consumer", ["Cast", "Where", "bool_output"])
@pytest.mark.parametrize("other", ["input", "init_c1", "scalar"])
@pytest.mark.parametrize("op", COMPARE_OPS)
def test_comparison(op, other, consumer):
    inits, inputs = {}, [("x", ["N", 4, 6])]
    if other == "input":
        inputs.append(("y", ["N", 4, 6]))
    elif other == "init_c1":
        inits["y"] = np.round(rand(4, 1, low=-2, high=2))
    else:
        inits["y"] = f32(0.0)
    nodes = [node(op, ["x", "y"], ["c"])]
    if consumer == "Cast":
        nodes.append(node("Cast", ["c"], ["z"], to=TensorProto.FLOAT))
        outputs = ["z"]
    elif consumer == "Where":
        inits["alt"] = f32(-5.0)
        nodes.append(node("Where", ["c", "x", "alt"], ["z"]))
        outputs = ["z"]
    else:
        outputs = [("c", TensorProto.BOOL)]
    check(make_model(nodes, inputs, outputs, inits), gen=integers())


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("op", ["Greater", "Less", "Equal"])
def test_comparison_opsets(op, opset):
    nodes = [node(op, ["x", "y"], ["c"]), node("Cast", ["c"], ["z"], to=TensorProto.FLOAT)]
    check(make_model(nodes, [("x", ["N", 3, 5])], ["z"], {"y": f32([[1.0], [0.0], [-1.0]])},
                     opset=opset), gen=integers())


# (cond shape, X shape, Y shape); cond is computed as Greater(c, 0)
WHERE_CASES = [
    (["N", 4, 5], ["N", 4, 5], ["N", 4, 5]),
    (["N", 4, 5], ["N", 4, 5], []),          # scalar Y
    (["N", 1, 5], ["N", 4, 1], [4, 5]),      # three-way broadcast
    (["N", 4, 5], [], ["N", 4, 5]),          # scalar X
    (["N", 4, 1], [1, 5], []),               # X and Y constants broadcast against cond
]


@pytest.mark.parametrize("case", WHERE_CASES, ids=lambda c: "_".join("x".join(map(str, s)) or "s" for s in c))
def test_where(case):
    c_shape, x_shape, y_shape = case
    inits, inputs = {"zero": f32(0.0)}, [("c", c_shape)]
    for name, shape in (("x", x_shape), ("y", y_shape)):
        if "N" in shape:
            inputs.append((name, shape))
        else:
            inits[name] = rand(*shape)
    nodes = [node("Greater", ["c", "zero"], ["cond"]), node("Where", ["cond", "x", "y"], ["z"])]
    check(make_model(nodes, inputs, ["z"], inits), gen=with_zeros())


def test_where_chain_with_not_equal_pattern():
    # Equal -> Where on exact ties (integers), both branches computed
    nodes = [node("Equal", ["x", "y"], ["e"]), node("Sub", ["x", "y"], ["d"]),
             node("Where", ["e", "y", "d"], ["z"])]
    check(make_model(nodes, [("x", ["N", 3, 9]), ("y", ["N", 3, 9])], ["z"]), gen=integers(-1, 1))


# ---- pooling, reductions -----------------------------------------------------------------

@pytest.mark.parametrize("shape", [["N", 3, 17], ["N", 4, 5, 7], ["N", 2, 1, 1], ["N", 1, 64]],
                         ids=lambda s: "x".join(map(str, s)))
def test_global_average_pool(shape):
    check(make_model([node("GlobalAveragePool", ["x"], ["y"])], [("x", shape)], ["y"]))


REDUCE_AXES = [  # (axes or None, keepdims or None for the default)
    ([2], 1), ([2], 0), ([-1], 1), ([-1], 0), ([1, 2], 1), ([-2, -1], 0), ([0], 1), ([0, 2], 0),
    ([1], None), (None, 1), (None, 0),
]


def _reduce_model(op, axes, keepdims, axes_as_input, opset, shape=("N", 4, 6)):
    attrs, ins, inits = {}, ["x"], {}
    if keepdims is not None:
        attrs["keepdims"] = keepdims
    if axes is not None:
        if axes_as_input:
            inits["axes"] = i64(*axes)
            ins.append("axes")
        else:
            attrs["axes"] = axes
    return make_model([node(op, ins, ["y"], **attrs)], [("x", list(shape))], ["y"], inits, opset=opset)


def _axes_id(case):
    axes, keep = case
    return f"axes{'all' if axes is None else axes}_keep{keep}".replace(" ", "")


# (op, opset, axes given as input)
REDUCE_FORMS = [
    ("ReduceMean", 11, False), ("ReduceMean", 13, False), ("ReduceMean", 18, True),
    ("ReduceSum", 11, False), ("ReduceSum", 13, True), ("ReduceSum", 18, True),
    ("ReduceMax", 11, False), ("ReduceMax", 13, False), ("ReduceMax", 18, True),
]


@pytest.mark.parametrize("case", REDUCE_AXES, ids=_axes_id)
@pytest.mark.parametrize("form", REDUCE_FORMS, ids=lambda f: f"{f[0]}-op{f[1]}")
def test_reduce(form, case):
    op, opset, as_input = form
    check(_reduce_model(op, case[0], case[1], as_input, opset))


@pytest.mark.parametrize("form", REDUCE_FORMS, ids=lambda f: f"{f[0]}-op{f[1]}")
@pytest.mark.parametrize("axes", [[2, 3], [-1, -2], [1]], ids=str)
def test_reduce_4d(form, axes):
    op, opset, as_input = form
    check(_reduce_model(op, axes, 1, as_input, opset, shape=("N", 3, 5, 7)))


@pytest.mark.parametrize("op,opset", [("ReduceMean", 18), ("ReduceSum", 13), ("ReduceSum", 18), ("ReduceMax", 18)])
@pytest.mark.parametrize("axes_form", ["omitted", "empty"])
@pytest.mark.parametrize("noop", [0, 1])
def test_reduce_noop_with_empty_axes(op, opset, axes_form, noop):
    ins, inits = ["x"], {}
    if axes_form == "empty":
        inits["axes"] = np.zeros((0,), np.int64)
        ins.append("axes")
    model = make_model([node(op, ins, ["y"], noop_with_empty_axes=noop, keepdims=1)],
                       [("x", ["N", 3, 5])], ["y"], inits, opset=opset)
    check(model)


# ---- Gemm, MatMul ------------------------------------------------------------------------

K, M = 7, 5
GEMM_CASES = {
    "plain_biasM": dict(c=("init", [M])),
    "transB": dict(transB=1, c=("init", [M])),
    "transA": dict(transA=1, c=("init", [1, M])),
    "transA_transB": dict(transA=1, transB=1, c=("init", [M])),
    "alpha_beta_C1M": dict(alpha=0.5, beta=2.0, c=("init", [1, M])),
    "C_scalar": dict(c=("init", []), beta=-1.5),
    "C_one": dict(c=("init", [1])),
    "C_NM_input": dict(c=("input", ["N", M])),
    "C_N1_input": dict(c=("input", ["N", 1]), alpha=2.0),
    "no_C": dict(),
    "no_C_alpha": dict(alpha=-0.75, transB=1),
    "beta_zero": dict(c=("init", [M]), beta=0.0),
    "B_input": dict(b_input=True, c=("init", [M])),
}


@pytest.mark.parametrize("opset", [11, 13, 17])
@pytest.mark.parametrize("case", list(GEMM_CASES), ids=str)
def test_gemm(case, opset):
    spec = dict(GEMM_CASES[case])
    c = spec.pop("c", None)
    b_input = spec.pop("b_input", False)
    a_shape = [K, "N"] if spec.get("transA") else ["N", K]
    b_shape = [M, K] if spec.get("transB") else [K, M]
    inputs, inits, ins = [("a", a_shape)], {}, ["a", "b"]
    if b_input:
        inputs.append(("b", b_shape))
    else:
        inits["b"] = rand(*b_shape)
    if c is not None:
        kind, shape = c
        if kind == "init":
            inits["c"] = rand(*shape)
        else:
            inputs.append(("c", shape))
        ins.append("c")
    check(make_model([node("Gemm", ins, ["y"], **spec)], inputs, ["y"], inits, opset=opset))


MATMUL_CASES = {
    "2d_init": ([("a", ["N", K])], {"b": (K, M)}, ["a", "b"]),
    "batched_3d_inputs": ([("a", ["N", 3, K]), ("b", ["N", K, M])], {}, ["a", "b"]),
    "3d_by_2d_init": ([("a", ["N", 3, K])], {"b": (K, M)}, ["a", "b"]),
    "4d_broadcast": ([("a", ["N", 1, 3, K])], {"b": (2, K, M)}, ["a", "b"]),
    "vector_right": ([("a", ["N", 3, K])], {"b": (K,)}, ["a", "b"]),
    "vector_left": ([("b", ["N", K, M])], {"a": (K,)}, ["a", "b"]),
    "const_left_2d": ([("b", ["N", K, M])], {"a": (3, K)}, ["a", "b"]),
    "batched_broadcast_both": ([("a", ["N", 1, 3, K]), ("b", [2, K, M])], {}, ["a", "b"]),
}


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("case", list(MATMUL_CASES), ids=str)
def test_matmul(case, opset):
    inputs, init_shapes, ins = MATMUL_CASES[case]
    inits = {k: rand(*s) for k, s in init_shapes.items()}
    check(make_model([node("MatMul", ins, ["y"])], inputs, ["y"], inits, opset=opset))


# ---- shape manipulation ------------------------------------------------------------------

@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axis", [0, 1, 2, 3, 4, -1, -3])
def test_flatten(axis, opset):
    check(make_model([node("Flatten", ["x"], ["y"], axis=axis)], [("x", ["N", 3, 4, 5])], ["y"],
                     opset=opset))


def test_flatten_default_axis():
    check(make_model([node("Flatten", ["x"], ["y"])], [("x", ["N", 3, 1, 5])], ["y"]))


@pytest.mark.parametrize("opset,allowzero", [(13, None), (14, None), (14, 0), (17, 0)])
@pytest.mark.parametrize("shape", [[0, -1], [0, 3, -1], [-1, 5], [0, 0, -1], [0, 60], [-1],
                                   [0, 3, 2, 2, 5], [0, -1, 1, 1], [-1, 4, 5]], ids=str)
def test_reshape(shape, opset, allowzero):
    attrs = {} if allowzero is None else {"allowzero": allowzero}
    model = make_model([node("Reshape", ["x", "s"], ["y"], **attrs)], [("x", ["N", 3, 4, 5])], ["y"],
                       {"s": i64(*shape)}, opset=opset)
    check(model)


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [[1], [-1], [1, 3], [3, -3]], ids=str)
def test_squeeze(axes, opset):
    if opset >= 13:
        model = make_model([node("Squeeze", ["x", "axes"], ["y"])], [("x", ["N", 1, 4, 1])], ["y"],
                           {"axes": i64(*axes)}, opset=opset)
    else:
        model = make_model([node("Squeeze", ["x"], ["y"], axes=axes)], [("x", ["N", 1, 4, 1])], ["y"],
                           opset=opset)
    check(model)


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_without_axes_static(opset):
    # every dim of size 1 is removed; the batch dim is fixed (3) so the result is static
    check(make_model([node("Squeeze", ["x"], ["y"])], [("x", [3, 1, 4, 1])], ["y"], opset=opset))


def test_squeeze_without_axes_dynamic_batch():
    # ONNX semantics: every dim that is 1 *at run time* goes, including N when N == 1,
    # so batch 1 gives shape (4,) and batch 7 gives (7, 4).
    check(make_model([node("Squeeze", ["x"], ["y"])], [("x", ["N", 1, 4, 1])], ["y"], opset=13))


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [[1], [-1], [1, 2], [0], [3, 1], [-1, 1]], ids=str)
def test_unsqueeze(axes, opset):
    if opset >= 13:
        model = make_model([node("Unsqueeze", ["x", "axes"], ["y"])], [("x", ["N", 4, 3])], ["y"],
                           {"axes": i64(*axes)}, opset=opset)
    else:
        model = make_model([node("Unsqueeze", ["x"], ["y"], axes=axes)], [("x", ["N", 4, 3])], ["y"],
                           opset=opset)
    check(model)


@pytest.mark.parametrize("perm", [None, [0, 2, 3, 1], [0, 3, 1, 2], [1, 0, 2, 3], [0, 1, 3, 2],
                                  [3, 2, 1, 0]], ids=str)
def test_transpose_4d(perm):
    attrs = {} if perm is None else {"perm": perm}
    check(make_model([node("Transpose", ["x"], ["y"], **attrs)], [("x", ["N", 3, 4, 5])], ["y"]))


@pytest.mark.parametrize("perm", [None, [0, 2, 1], [2, 0, 1], [1, 0]], ids=str)
def test_transpose_small_rank(perm):
    shape = ["N", 7] if perm == [1, 0] else ["N", 6, 5]
    attrs = {} if perm is None else {"perm": perm}
    check(make_model([node("Transpose", ["x"], ["y"], **attrs)], [("x", shape)], ["y"]))


CONCAT_CASES = {
    "axis1": (1, [("x", ["N", 3, 5]), ("y", ["N", 2, 5])], {}, ["x", "y"]),
    "axis_neg2": (-2, [("x", ["N", 3, 5]), ("y", ["N", 2, 5])], {}, ["x", "y"]),
    "axis_last_three": (-1, [("x", ["N", 3, 5]), ("y", ["N", 3, 1])], {}, ["x", "y", "x"]),
    "axis0_batch": (0, [("x", ["N", 3, 5])], {}, ["x", "x"]),
    "axis0_with_init": (0, [("x", ["N", 3, 5])], {"c": (2, 3, 5)}, ["c", "x"]),
    "axis1_with_init": (1, [("x", ["N", 3, 5])], {}, ["x", "x"]),
    "axis2_4d": (2, [("x", ["N", 2, 3, 4])], {}, ["x", "x"]),
}


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("case", list(CONCAT_CASES), ids=str)
def test_concat(case, opset):
    axis, inputs, init_shapes, ins = CONCAT_CASES[case]
    inits = {k: rand(*s) for k, s in init_shapes.items()}
    check(make_model([node("Concat", ins, ["z"], axis=axis)], inputs, ["z"], inits, opset=opset))


SLICE_CASES = {  # starts, ends, axes, steps
    "basic": ([1], [5], [2], None),
    "neg_start_big_end": ([-4], [1000], [-1], None),
    "two_axes_int64max": ([0, 2], [INT64_MAX, -1], [0, 1], None),
    "batch_first_row": ([0], [1], [0], None),
    "no_axes": ([0, 1], [INT64_MAX, 5], None, None),
    "step2": ([1], [10], [2], [2]),
    "step2_out_of_range_start": ([-100], [100], [1], [2]),
    "neg_step": ([8], [1], [2], [-2]),
    "reverse_all": ([-1], [-INT64_MAX], [2], [-1]),
    "reverse_step3": ([9], [-1000], [-1], [-3]),
    "neg_step_clamped_start": ([1000], [0], [1], [-1]),
    "multi_axis_steps": ([0, -1], [INT64_MAX, -7], [1, 2], [2, -2]),
}


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("case", list(SLICE_CASES), ids=str)
def test_slice(case, opset):
    starts, ends, axes, steps = SLICE_CASES[case]
    inits = {"starts": i64(*starts), "ends": i64(*ends)}
    ins = ["x", "starts", "ends"]
    if axes is not None or steps is not None:
        axes = axes if axes is not None else list(range(len(starts)))
        inits["axes"] = i64(*axes)
        ins.append("axes")
    if steps is not None:
        inits["steps"] = i64(*steps)
        ins.append("steps")
    check(make_model([node("Slice", ins, ["y"])], [("x", ["N", 6, 10])], ["y"], inits, opset=opset))


def test_slice_empty_result():
    inits = {"starts": i64(5), "ends": i64(2), "axes": i64(2)}
    model = make_model([node("Slice", ["x", "starts", "ends", "axes"], ["y"])],
                       [("x", ["N", 6, 10])], ["y"], inits)
    check(model)


PAD_CASES = {  # shape, pads, constant value (None: input omitted), axes (opset 18)
    "last_dim": (["N", 3, 9], [0, 0, 1, 0, 0, 2], 0.0, None),
    "value": (["N", 3, 9], [0, 0, 2, 0, 0, 1], 1.5, None),
    "no_value_input": (["N", 3, 9], [0, 1, 1, 0, 1, 1], None, None),
    "channels": (["N", 3, 9], [0, 2, 0, 0, 3, 0], 0.0, None),
    "batch": (["N", 3, 9], [1, 0, 0, 2, 0, 0], -1.0, None),
    "negative": (["N", 3, 9], [0, 0, -1, 0, 0, 2], 0.0, None),
    "negative_both": (["N", 3, 9], [0, -1, -2, 0, 0, -3], 0.0, None),
    "2d": (["N", 2, 5, 6], [0, 0, 1, 2, 0, 0, 2, 1], 0.25, None),
    "2d_mixed": (["N", 2, 5, 6], [0, 1, -1, 2, 0, 1, 2, -2], 0.0, None),
}


@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("case", list(PAD_CASES), ids=str)
def test_pad(case, opset):
    shape, pads, value, _ = PAD_CASES[case]
    inits, ins = {"pads": i64(*pads)}, ["x", "pads"]
    if value is not None:
        inits["value"] = f32(value)
        ins.append("value")
    check(make_model([node("Pad", ins, ["y"], mode="constant")], [("x", shape)], ["y"], inits,
                     opset=opset))


@pytest.mark.parametrize("axes,pads", [([-1], [1, 2]), ([1, 3], [2, 0, 1, -1]), ([0], [0, 1])],
                         ids=["last", "c_w", "batch"])
def test_pad_axes_opset18(axes, pads):
    inits = {"pads": i64(*pads), "value": f32(-0.5), "axes": i64(*axes)}
    check(make_model([node("Pad", ["x", "pads", "value", "axes"], ["y"])], [("x", ["N", 2, 5, 6])],
                     ["y"], inits, opset=18))


def test_pad_default_mode_opset11():
    check(make_model([node("Pad", ["x", "pads"], ["y"])], [("x", ["N", 3, 9])], ["y"],
                     {"pads": i64(0, 0, 3, 0, 0, 0)}, opset=11))


# ---- Conv ----------------------------------------------------------------------------------

# name -> (input shape, out channels, kernel, attributes)
CONV2D_CASES = {
    "k3_p1": (["N", 3, 9, 11], 4, (3, 3), dict(pads=[1, 1, 1, 1])),
    "k2x3_nopad": (["N", 3, 9, 11], 5, (2, 3), dict()),
    "k3_s2_asym_pads": (["N", 4, 9, 11], 6, (3, 3), dict(strides=[2, 2], pads=[1, 0, 2, 1])),
    "same_upper_s2": (["N", 3, 9, 11], 4, (3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2])),
    "same_upper_k2": (["N", 3, 9, 11], 4, (2, 2), dict(auto_pad="SAME_UPPER")),
    "same_lower_k2": (["N", 3, 9, 11], 4, (2, 2), dict(auto_pad="SAME_LOWER")),
    "same_lower_s2": (["N", 3, 9, 11], 4, (3, 4), dict(auto_pad="SAME_LOWER", strides=[2, 2])),
    "valid_s21": (["N", 3, 9, 11], 4, (3, 3), dict(auto_pad="VALID", strides=[2, 1])),
    "dil2_p2": (["N", 3, 9, 11], 4, (3, 3), dict(dilations=[2, 2], pads=[2, 2, 2, 2])),
    "dil13_s2": (["N", 3, 9, 11], 4, (3, 3), dict(dilations=[1, 3], strides=[2, 2], pads=[1, 0, 1, 2])),
    "group2": (["N", 4, 9, 11], 6, (3, 3), dict(group=2, pads=[1, 1, 1, 1])),
    "depthwise": (["N", 4, 9, 11], 4, (3, 3), dict(group=4, pads=[1, 1, 1, 1])),
    "depthwise_mult2_s2": (["N", 3, 9, 11], 6, (3, 3), dict(group=3, strides=[2, 2], pads=[1, 1, 1, 1])),
    "pointwise": (["N", 5, 9, 11], 3, (1, 1), dict()),
    "pointwise_s2": (["N", 5, 9, 11], 7, (1, 1), dict(strides=[2, 2])),
    "k5_p2": (["N", 3, 9, 11], 2, (5, 5), dict(pads=[2, 2, 2, 2])),
    "no_kernel_shape_attr": (["N", 3, 9, 11], 4, (3, 3), dict(pads=[1, 1, 1, 1], _no_kernel_shape=True)),
    # (SAME_* with dilations > 1 is left out: onnxruntime, the oracle, rejects it)
    "group2_dil2_s2": (["N", 4, 9, 11], 4, (3, 3), dict(group=2, dilations=[2, 2], strides=[2, 2], pads=[2, 2, 2, 2])),
    "wide_channels": (["N", 16, 8, 8], 16, (3, 3), dict(pads=[1, 1, 1, 1])),
}

CONV1D_CASES = {
    "k3_p1_s2_stem": (["N", 1, 64], 4, (3,), dict(pads=[1, 1], strides=[2])),
    "k3_p1": (["N", 3, 37], 5, (3,), dict(pads=[1, 1])),
    "asym_pads": (["N", 3, 37], 4, (3,), dict(pads=[0, 2])),
    "same_upper_s2": (["N", 3, 37], 4, (4,), dict(auto_pad="SAME_UPPER", strides=[2])),
    "same_lower_s2": (["N", 3, 37], 4, (4,), dict(auto_pad="SAME_LOWER", strides=[2])),
    "valid": (["N", 3, 37], 4, (5,), dict(auto_pad="VALID")),
    "dil2": (["N", 3, 37], 4, (3,), dict(dilations=[2], pads=[2, 2])),
    "group3": (["N", 6, 37], 9, (3,), dict(group=3, pads=[1, 1])),
    "depthwise": (["N", 5, 37], 5, (3,), dict(group=5, pads=[1, 1])),
    "k1_s2": (["N", 4, 37], 8, (1,), dict(strides=[2])),
    "k7_s3": (["N", 2, 37], 3, (7,), dict(strides=[3], pads=[3, 3])),
    "no_kernel_shape_attr": (["N", 3, 37], 4, (3,), dict(pads=[1, 1], _no_kernel_shape=True)),
}


def _conv_model(case, bias, opset=17):
    shape, m, kernel, attrs = case
    attrs = dict(attrs)
    if not attrs.pop("_no_kernel_shape", False):
        attrs["kernel_shape"] = list(kernel)
    c = shape[1]
    group = attrs.get("group", 1)
    inits = {"w": rand(m, c // group, *kernel)}
    ins = ["x", "w"]
    if bias:
        inits["b"] = rand(m)
        ins.append("b")
    return make_model([node("Conv", ins, ["y"], **attrs)], [("x", shape)], ["y"], inits, opset=opset)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("case", list(CONV2D_CASES), ids=str)
def test_conv2d(case, bias):
    check(_conv_model(CONV2D_CASES[case], bias))


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("case", list(CONV1D_CASES), ids=str)
def test_conv1d(case, bias):
    check(_conv_model(CONV1D_CASES[case], bias))


@pytest.mark.parametrize("opset", [1, 11])
def test_conv_older_opsets(opset):
    # opset 1 is optional (skipped with the reason if drsn refuses it cleanly)
    check(_conv_model(CONV2D_CASES["k3_s2_asym_pads"], True, opset=opset),
          unsupported_ok=["1"] if opset == 1 else None)


def test_conv_dynamic_spatial_dims():
    # spatial size symbolic too: one loaded model runs several lengths
    model = _conv_model((["N", 3, "L"], 4, (3,), dict(pads=[1, 1], strides=[2])), True)
    for length in (8, 37, 64):
        check(model, sizes={"L": length})


# ---- BatchNormalization --------------------------------------------------------------------

@pytest.mark.parametrize("opset", [9, 14, 15, 17])
@pytest.mark.parametrize("epsilon", [None, 1e-3], ids=["eps_default", "eps_1e-3"])
@pytest.mark.parametrize("shape", [["N", 6], ["N", 4, 9], ["N", 3, 5, 7]], ids=lambda s: f"rank{len(s)}")
def test_batch_normalization(shape, epsilon, opset):
    c = shape[1]
    inits = {"scale": rand(c, low=0.5, high=1.5), "bias": rand(c), "mean": rand(c),
             "var": rand(c, low=0.001, high=2.0)}
    attrs = {} if epsilon is None else {"epsilon": epsilon}
    if opset >= 14:
        attrs["training_mode"] = 0
    nodes = [node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"], **attrs)]
    check(make_model(nodes, [("x", shape)], ["y"], inits, opset=opset))


# ---- AveragePool, MaxPool ------------------------------------------------------------------

POOL2D_CASES = {
    "k3_s1": dict(kernel_shape=[3, 3]),
    "k3_s2_p1": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    "k3x2_s21_asym": dict(kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1]),
    "k2_s2_ceil": dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
    "k3_s2_p1_ceil": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
    "k1_s2": dict(kernel_shape=[1, 1], strides=[2, 2]),
    "same_upper_s2": dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"),
    "valid_s2": dict(kernel_shape=[2, 3], strides=[2, 2], auto_pad="VALID"),
}
POOL1D_CASES = {
    "k3_s2_p1": dict(kernel_shape=[3], strides=[2], pads=[1, 1]),
    "k1_s2": dict(kernel_shape=[1], strides=[2]),
    "k2_s2_ceil": dict(kernel_shape=[2], strides=[2], ceil_mode=1),
    "k4_s3_asym": dict(kernel_shape=[4], strides=[3], pads=[2, 1]),
    "k3_s1": dict(kernel_shape=[3]),
}


def _avg_pool_params(cases):
    """(case, count_include_pad) pairs. ceil_mode windows that run past the input are
    only tested with count_include_pad=0: what the divisor is for the overhang with
    count_include_pad=1 differs between ONNX versions and runtimes."""
    return [pytest.param(name, cip, id=f"{name}-cip{cip}")
            for name, attrs in cases.items() for cip in (0, 1)
            if not (attrs.get("ceil_mode") and cip)]


@pytest.mark.parametrize("case,count_include_pad", _avg_pool_params(POOL2D_CASES))
def test_average_pool_2d(case, count_include_pad):
    attrs = dict(POOL2D_CASES[case], count_include_pad=count_include_pad)
    check(make_model([node("AveragePool", ["x"], ["y"], **attrs)], [("x", ["N", 3, 9, 11])], ["y"]))


@pytest.mark.parametrize("case,count_include_pad", _avg_pool_params(POOL1D_CASES))
def test_average_pool_1d(case, count_include_pad):
    attrs = dict(POOL1D_CASES[case], count_include_pad=count_include_pad)
    check(make_model([node("AveragePool", ["x"], ["y"], **attrs)], [("x", ["N", 3, 21])], ["y"]))


@pytest.mark.parametrize("opset", [11, 19])
def test_average_pool_opsets(opset):
    attrs = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0)
    check(make_model([node("AveragePool", ["x"], ["y"], **attrs)], [("x", ["N", 3, 9, 11])], ["y"],
                     opset=opset))


MAXPOOL_EXTRA_2D = {
    "dil2": dict(kernel_shape=[3, 3], dilations=[2, 2]),
    "dil21_s2_p1": dict(kernel_shape=[2, 3], dilations=[2, 1], strides=[2, 2], pads=[1, 1, 1, 1]),
}


@pytest.mark.parametrize("case", list(POOL2D_CASES) + list(MAXPOOL_EXTRA_2D), ids=str)
def test_max_pool_2d(case):
    attrs = POOL2D_CASES.get(case) or MAXPOOL_EXTRA_2D[case]
    check(make_model([node("MaxPool", ["x"], ["y"], **attrs)], [("x", ["N", 3, 9, 11])], ["y"]))


@pytest.mark.parametrize("case", list(POOL1D_CASES) + ["dil2"], ids=str)
def test_max_pool_1d(case):
    attrs = POOL1D_CASES.get(case) or dict(kernel_shape=[3], dilations=[2], pads=[2, 2])
    check(make_model([node("MaxPool", ["x"], ["y"], **attrs)], [("x", ["N", 3, 21])], ["y"]))


@pytest.mark.parametrize("opset", [8, 11, 12])
def test_max_pool_opsets(opset):
    attrs = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    check(make_model([node("MaxPool", ["x"], ["y"], **attrs)], [("x", ["N", 3, 9, 11])], ["y"],
                     opset=opset))


# ---- Softmax -----------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [None, 1, 2, -1, 0, -2], ids=lambda a: f"axis{a}")
@pytest.mark.parametrize("opset", [11, 13])
def test_softmax_3d(opset, axis):
    # opset 11 coerces to 2-D at `axis` (default 1); opset 13 normalises along `axis` only
    # (default -1). Large logits check the max-subtraction.
    attrs = {} if axis is None else {"axis": axis}
    check(make_model([node("Softmax", ["x"], ["y"], **attrs)], [("x", ["N", 3, 5])], ["y"], opset=opset),
          gen=uniform(-50, 50))


@pytest.mark.parametrize("axis", [None, 2, -1], ids=lambda a: f"axis{a}")
@pytest.mark.parametrize("opset", [11, 13, 17])
def test_softmax_4d(opset, axis):
    attrs = {} if axis is None else {"axis": axis}
    check(make_model([node("Softmax", ["x"], ["y"], **attrs)], [("x", ["N", 2, 3, 4])], ["y"], opset=opset),
          gen=uniform(-5, 5))


def test_softmax_logits_2d():
    check(make_model([node("Softmax", ["x"], ["y"], axis=1)], [("x", ["N", 10])], ["y"], opset=13))


# ---- Dropout, Constant, ConstantOfShape, Shape, Gather, Cast --------------------------------

# The mask before opset 12 is checked against ONNX's reference implementation instead
# (onnxruntime writes a zero mask there): test_opsets.py::test_dropout_mask_before_opset_12.
@pytest.mark.parametrize("opset,with_mask", [(11, False), (12, False), (13, False), (17, False),
                                             (12, True), (13, True), (17, True)])
def test_dropout_inference(opset, with_mask):
    inits, ins, attrs = {}, ["x"], {}
    if opset >= 12:
        inits["ratio"] = f32(0.3)
        inits["training"] = np.array(False)
        ins += ["ratio", "training"]
    else:
        attrs["ratio"] = 0.3
    outs = ["d", "mask"] if with_mask else ["d"]
    nodes = [node("Dropout", ins, outs, **attrs)]
    outputs = ["d"]
    if with_mask:
        nodes += [node("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT), node("Mul", ["d", "mf"], ["y"])]
        outputs = ["y"]
    # the mask is onnxruntime's inference mask (all false before opset 12, all true from
    # 12; more cases in test_math_ops.py)
    check(make_model(nodes, [("x", ["N", 4, 6])], outputs, inits, opset=opset))


def test_dropout_no_optional_inputs():
    check(make_model([node("Dropout", ["x"], ["y"])], [("x", ["N", 4, 6])], ["y"], opset=13))


def test_constant_forms():
    nodes = [
        node("Constant", [], ["c_tensor"], value=_tensor(rand(1, 4, 1))),
        node("Constant", [], ["c_float"], value_float=1.5),
        node("Constant", [], ["c_floats"], value_floats=[0.5, -1.0, 2.0]),
        node("Constant", [], ["c_ints"], value_ints=[0, -1]),
        node("Constant", [], ["c_int"], value_int=-1),
        node("Add", ["x", "c_tensor"], ["a"]),            # [N,4,3]
        node("Mul", ["a", "c_float"], ["b"]),
        node("Sub", ["b", "c_floats"], ["c"]),
        node("Reshape", ["c", "c_ints"], ["d"]),          # [N,12]
        node("Gather", ["x", "c_int"], ["g"], axis=1),    # x[:, -1, :] -> [N,3]
        node("Cast", ["c_int"], ["ci"], to=TensorProto.FLOAT),
        node("Mul", ["g", "ci"], ["e"]),
    ]
    check(make_model(nodes, [("x", ["N", 4, 3])], ["d", "e"]))


@pytest.mark.parametrize("opset", [11, 13])
def test_constant_int_tensor_as_shape(opset):
    nodes = [node("Constant", [], ["shape"], value=_tensor(i64(0, 2, -1))),
             node("Reshape", ["x", "shape"], ["y"])]
    check(make_model(nodes, [("x", ["N", 4, 3])], ["y"], opset=opset))


def test_constant_of_shape_forms():
    nodes = [
        node("ConstantOfShape", ["s_const"], ["k1"], value=numpy_helper.from_array(f32([2.5]))),
        node("Add", ["x", "k1"], ["a"]),                  # [3,1] broadcast
        node("Shape", ["x"], ["sx"]),
        node("ConstantOfShape", ["sx"], ["k2"], value=numpy_helper.from_array(f32([-0.5]))),
        node("Mul", ["a", "k2"], ["b"]),
        node("ConstantOfShape", ["sx"], ["k3"]),          # default: float 0
        node("Add", ["b", "k3"], ["c"]),
        node("ConstantOfShape", ["s_const"], ["k4"], value=numpy_helper.from_array(np.array([3], np.int64))),
        node("Cast", ["k4"], ["k4f"], to=TensorProto.FLOAT),
        node("Sub", ["c", "k4f"], ["y"]),
    ]
    check(make_model(nodes, [("x", ["N", 3, 4])], ["y"], {"s_const": i64(3, 1)}))


@pytest.mark.parametrize("attrs", [dict(), dict(start=1), dict(start=-2, end=-1), dict(end=1),
                                   dict(start=0, end=10), dict(start=-10)], ids=str)
def test_shape_start_end(attrs):
    nodes = [node("Shape", ["x"], ["s"], **attrs), node("Cast", ["s"], ["y"], to=TensorProto.FLOAT)]
    check(make_model(nodes, [("x", ["N", 3, 5, 2])], ["y"], opset=15))


def test_shape_of_static_dims_opset13():
    nodes = [node("Shape", ["x"], ["s"]), node("Cast", ["s"], ["sf"], to=TensorProto.FLOAT),
             node("Mul", ["x", "sf"], ["y"])]  # [N,4] * [2] broadcast needs last dim 2
    check(make_model(nodes, [("x", ["N", 2])], ["y"], opset=13))


GATHER_CASES = {
    "axis1_neg": (1, i64(0, -1, 2)),
    "axis2_scalar": (2, np.array(-2, np.int64)),
    "axis_neg1_2d_indices": (-1, i64(0, 1, 5, -6).reshape(2, 2)),
    "axis0_batch": (0, i64(0, -1)),
    "axis1_scalar": (1, np.array(3, np.int64)),
    "int32_indices": (2, np.array([1, -1, 0], np.int32)),
}


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("case", list(GATHER_CASES), ids=str)
def test_gather(case, opset):
    axis, indices = GATHER_CASES[case]
    model = make_model([node("Gather", ["x", "idx"], ["y"], axis=axis)], [("x", ["N", 5, 6])], ["y"],
                       {"idx": indices}, opset=opset)
    check(model)


def test_gather_from_constant_table():
    # constant data, constant indices: folded or computed, the result is the same
    nodes = [node("Gather", ["table", "idx"], ["rows"], axis=0), node("Add", ["x", "rows"], ["y"])]
    check(make_model(nodes, [("x", ["N", 3, 4])], ["y"], {"table": rand(10, 4), "idx": i64(9, -10, 4)}))


CAST_CASES = {
    "bool_to_float": ("bool", None),
    "int64_init_to_float": ("int64_init", None),
    "int32_init_to_float": ("int32_init", None),
    "float_to_int64_to_float": ("float", TensorProto.INT64),
    "float_to_int32_to_float": ("float", TensorProto.INT32),
    "float_to_bool_to_float": ("float", TensorProto.BOOL),
    "float_to_float": ("float", TensorProto.FLOAT),
}


@pytest.mark.parametrize("opset", [11, 13, 17])
@pytest.mark.parametrize("case", list(CAST_CASES), ids=str)
def test_cast(case, opset):
    source, via = CAST_CASES[case]
    inits = {}
    if source == "bool":
        inits["zero"] = f32(0.0)
        nodes = [node("Greater", ["x", "zero"], ["b"]), node("Cast", ["b"], ["y"], to=TensorProto.FLOAT)]
    elif source in ("int64_init", "int32_init"):
        inits["k"] = np.array([3, -2, 0, 7], np.int64 if source == "int64_init" else np.int32)
        nodes = [node("Cast", ["k"], ["kf"], to=TensorProto.FLOAT), node("Mul", ["x", "kf"], ["y"])]
    else:
        nodes = [node("Cast", ["x"], ["t"], to=via), node("Cast", ["t"], ["y"], to=TensorProto.FLOAT)]
    # non-integers with both signs and exact zeros: truncation toward zero, nonzero -> True.
    # Casts *to* integer types at run time go beyond "Cast to float": drsn may refuse them
    # cleanly (skipped with the reason).
    to_int = via in (TensorProto.INT64, TensorProto.INT32)
    check(make_model(nodes, [("x", ["N", 3, 4])], ["y"], inits, opset=opset), gen=with_zeros(-9.5, 9.5),
          unsupported_ok=["Cast"] if to_int else None)


@pytest.mark.parametrize("to", ["INT8", "UINT8", "INT16", "UINT16", "INT32", "UINT32"])
def test_cast_of_constant_integers_wraps_to_the_narrower_type(to):
    # as a C cast: the low bits (INT32 of 2^32 + 1 is 1, UINT8 of -1 is 255)
    k = np.array([2**32 + 1, -129, 200, 70000, -1, 2**40 + 5, 3], np.int64)
    nodes = [node("Cast", ["k"], ["n"], to=TensorProto.DataType.Value(to)),
             node("Cast", ["n"], ["kf"], to=TensorProto.FLOAT), node("Add", ["x", "kf"], ["y"])]
    check(make_model(nodes, [("x", ["N", 7])], ["y"], {"k": k}))


# ---- soft thresholding as DRSN code writes it ------------------------------------------------


@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("variant", ["CW", "CS"])
@pytest.mark.parametrize("dims", ["1d", "2d"])
def test_soft_threshold_unit(dims, variant, formulation):
    c = 6
    shape = ["N", c, 33] if dims == "1d" else ["N", c, 7, 9]
    spatial_axes = [2] if dims == "1d" else [2, 3]
    nodes, inits = [], {}
    t = threshold_net(RNG, nodes, inits, "x", c, spatial_axes, variant)
    y = soft_threshold(nodes, inits, "x", t, formulation)
    nodes.append(node("Identity", [y], ["y"]))
    check(make_model(nodes, [("x", shape)], ["y"], inits), gen=uniform(-3, 3))


def test_soft_threshold_dynamo_style():
    # what torch.export emits: ReduceMean over the spatial axes (axes input, opset 18),
    # Squeeze/Unsqueeze around it, Reshape of the threshold to [N,C,1]
    c = 5
    nodes = [
        node("Abs", ["x"], ["ax"]),
        node("ReduceMean", ["ax", "ax_axes"], ["gap"], keepdims=1),      # [N,C,1]
        node("Squeeze", ["gap", "sq_axes"], ["a"]),                       # [N,C]
        node("Gemm", ["a", "w1", "b1"], ["h1"], transB=1),
        node("Relu", ["h1"], ["r"]),
        node("Gemm", ["r", "w2", "b2"], ["h2"], transB=1),
        node("Sigmoid", ["h2"], ["z"]),
        node("Mul", ["a", "z"], ["tau"]),
        node("Reshape", ["tau", "shape"], ["t"]),                         # [N,C,1]
        node("Sub", ["ax", "t"], ["d"]), node("Relu", ["d"], ["rd"]),
        node("Sign", ["x"], ["sg"]), node("Mul", ["sg", "rd"], ["y"]),
    ]
    inits = {"ax_axes": i64(-1), "sq_axes": i64(2), "w1": rand(c, c), "b1": rand(c), "w2": rand(c, c),
             "b2": rand(c), "shape": i64(0, c, 1)}
    check(make_model(nodes, [("x", ["N", c, 40])], ["y"], inits, opset=18), gen=uniform(-3, 3))


# ---- shape arithmetic as the TorchScript exporter emits it -----------------------------------

def test_torchscript_flatten_chain():
    # x.view(x.size(0), -1): Shape -> Gather(0) -> Unsqueeze -> Concat -> Reshape
    nodes = [
        node("Shape", ["x"], ["s"]),
        node("Gather", ["s", "zero"], ["n"], axis=0),          # scalar
        node("Unsqueeze", ["n", "ax0"], ["n1"]),
        node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        node("Reshape", ["x", "shape"], ["flat"]),
        node("Gemm", ["flat", "w", "b"], ["y"], transB=1),
    ]
    inits = {"zero": np.array(0, np.int64), "ax0": i64(0), "minus1": i64(-1), "w": rand(10, 3 * 11),
             "b": rand(10)}
    check(make_model(nodes, [("x", ["N", 3, 11])], ["y"], inits, opset=13))


@pytest.mark.parametrize("dims", ["1d", "2d"])
def test_torchscript_channel_pad_chain(dims):
    # shortcut of a downsampling unit: AvgPool(k1, s2) then zero channels on both sides
    shape = ["N", 4, 21] if dims == "1d" else ["N", 4, 9, 11]
    rank = len(shape)
    torch_pads = [0, 0, 2, 2] if dims == "1d" else [0, 0, 0, 0, 2, 2]
    nodes = [node("AveragePool", ["x"], ["p"], kernel_shape=[1] * (rank - 2), strides=[2] * (rank - 2),
                  pads=[0] * (2 * (rank - 2)), ceil_mode=0, count_include_pad=1)]
    inits = {}
    y = torchscript_pad(nodes, inits, "p", rank, torch_pads)
    nodes.append(node("Identity", [y], ["y"]))
    check(make_model(nodes, [("x", shape)], ["y"], inits))


# ---- a small complete DRSN, built here so the suite does not need the fixtures ---------------

@pytest.mark.parametrize("formulation", FORMULATIONS)
@pytest.mark.parametrize("dims", ["1d", "2d"])
def test_small_drsn(dims, formulation):
    spatial = [2] if dims == "1d" else [2, 3]
    shape = ["N", 1, 64] if dims == "1d" else ["N", 3, 12, 12]
    kernel = [3] * len(spatial)
    nodes, inits = [], {"stem_w": rand(4, shape[1], *kernel)}
    nodes.append(node("Conv", ["x", "stem_w"], ["stem"], kernel_shape=kernel, pads=[1] * 2 * len(spatial)))
    h = rsbu(RNG, nodes, inits, "stem", 4, 4, 1, "u0", spatial, "CW", formulation)
    h = rsbu(RNG, nodes, inits, h, 4, 8, 2, "u1", spatial, "CS", formulation)
    h = rsbu(RNG, nodes, inits, h, 8, 8, 1, "u2", spatial, "CW", formulation)
    inits.update({"f_s": rand(8, low=0.5, high=1.5), "f_b": rand(8), "f_m": rand(8, low=-.2, high=.2),
                  "f_v": rand(8, low=0.5, high=1.5), "fc_w": rand(10, 8), "fc_b": rand(10)})
    nodes += [node("BatchNormalization", [h, "f_s", "f_b", "f_m", "f_v"], ["f_bn"]),
              node("Relu", ["f_bn"], ["f_r"]), node("GlobalAveragePool", ["f_r"], ["f_gap"]),
              node("Flatten", ["f_gap"], ["f_flat"]),
              node("Gemm", ["f_flat", "fc_w", "fc_b"], ["logits"], transB=1),
              node("Softmax", ["logits"], ["probs"], axis=1)]
    check(make_model(nodes, [("x", shape)], ["logits", "probs"], inits))


def test_multiple_inputs_and_outputs_order():
    nodes = [node("Add", ["b", "a"], ["sum"]), node("Mul", ["a", "c"], ["prod"]),
             node("Relu", ["sum"], ["r"])]
    model = make_model(nodes, [("a", ["N", 3]), ("b", ["N", 3]), ("c", [1, 3])], ["prod", "r", "sum"])
    check(model)


def test_output_is_also_intermediate():
    nodes = [node("Abs", ["x"], ["a"]), node("Neg", ["a"], ["n"]), node("Add", ["a", "n"], ["z"])]
    check(make_model(nodes, [("x", ["N", 2, 5])], ["a", "z"]))


# ---- sizes that exercise vector tails, blocking and threading in the kernels ---------------

@pytest.mark.parametrize("length", [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 257])
def test_vector_tail_lengths(length):
    nodes = [node("Mul", ["x", "a"], ["m"]), node("Add", ["m", "b"], ["s"]), node("Relu", ["s"], ["r"]),
             node("Sigmoid", ["x"], ["g"]), node("Sub", ["r", "g"], ["d"]),
             node("Softmax", ["d"], ["sm"], axis=-1),
             node("ReduceMean", ["d"], ["mean"], axes=[-1], keepdims=1),
             node("ReduceMax", ["x"], ["mx"], axes=[-1], keepdims=0),
             node("Abs", ["x"], ["ax"]), node("Sub", ["ax", "mean"], ["st"]), node("Relu", ["st"], ["sr"]),
             node("Sign", ["x"], ["sg"]), node("Mul", ["sg", "sr"], ["shrunk"])]
    model = make_model(nodes, [("x", ["N", 3, length])], ["sm", "mean", "mx", "shrunk"],
                       {"a": rand(length), "b": f32(0.1)}, opset=13)
    check(model, gen=with_zeros())


LARGE_CASES = {
    "conv2d_16to32_32x32": lambda: _conv_model((["N", 16, 32, 32], 32, (3, 3), dict(pads=[1, 1, 1, 1])), True),
    "conv2d_32to64_s2": lambda: _conv_model((["N", 32, 16, 16], 64, (3, 3),
                                             dict(pads=[1, 1, 1, 1], strides=[2, 2])), False),
    "conv1d_8to16_2048_s2": lambda: _conv_model((["N", 8, 2048], 16, (3,), dict(pads=[1, 1], strides=[2])), True),
    "conv1d_depthwise_1000": lambda: _conv_model((["N", 12, 1000], 12, (5,), dict(pads=[2, 2], group=12)), True),
    "gemm_300x257": lambda: make_model([node("Gemm", ["a", "b", "c"], ["y"], transB=1)], [("a", ["N", 300])], ["y"],
                                       {"b": rand(257, 300) * 0.1, "c": rand(257)}),
    "matmul_batched_67x129x45": lambda: make_model([node("MatMul", ["a", "b"], ["y"])],
                                                   [("a", ["N", 67, 129])], ["y"], {"b": rand(129, 45) * 0.1}),
}


@pytest.mark.parametrize("threads", [None, 1, 2], ids=lambda t: f"threads{t}")
@pytest.mark.parametrize("case", list(LARGE_CASES), ids=str)
def test_large_kernels(case, threads):
    check(LARGE_CASES[case](), num_threads=threads, static=threads is None)


# ---- graph plumbing --------------------------------------------------------------------------

def test_exporter_style_names():
    """Names as exporters write them: slashes, dots, colons, non-ASCII."""
    nodes = [node("Relu", ["input.1"], ["/units/units.0/Relu_output_0"], name="/units/units.0/Relu"),
             node("Neg", ["/units/units.0/Relu_output_0"], ["logits:0"], name="n::1"),
             node("Abs", ["входной сигнал"], ["выход"], name="узел")]
    model = make_model(nodes, [("input.1", ["N", 3]), ("входной сигнал", ["N", 2])], ["logits:0", "выход"])
    check(model)


def test_output_from_constants_only():
    """An output that depends on no input (computed at load) next to one that does."""
    nodes = [node("Constant", [], ["c"], value=_tensor(rand(2, 3))), node("Relu", ["c"], ["const_out"]),
             node("Neg", ["x"], ["y"])]
    check(make_model(nodes, [("x", ["N", 3])], ["const_out", "y"]))


def test_initializer_as_output():
    check(make_model([node("Neg", ["x"], ["y"])], [("x", ["N", 3])], ["y", "w"], {"w": rand(4)}))


def test_graph_input_as_output():
    check(make_model([node("Neg", ["x"], ["y"])], [("x", ["N", 3])], ["y", "x"]))
