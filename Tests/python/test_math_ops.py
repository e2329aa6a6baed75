"""Math and activation operators (Exp, Log, Sqrt, Reciprocal, Tanh, Erf, Softplus, Softsign,
Elu, Selu, HardSigmoid, HardSwish, Gelu, Pow, PRelu), Sum and Mean, Dropout's mask, and
operator parameters given as runtime tensors (Clip min/max, BatchNormalization scale, B,
mean and var, Pad constant_value), against onnxruntime.

Tolerance: these operators promise float32 accuracy, so agreement is checked as
|drsn - onnxruntime| <= 1e-6 + 1e-5 |onnxruntime| element-wise (tighter than oracle.ATOL),
NaN where onnxruntime has NaN and the same infinities. Each graph has the dynamic batch
dim "N" (batches 1 and 7 on one loaded model, then once more with N fixed), and trailing
dimensions of odd sizes, so every run has SIMD tails.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import onnx.backend.test as onnx_backend_test
import pytest
from onnx import TensorProto

import drsn
import oracle
from oracle import away_from_zero, i64, make_model, node, uniform, with_zeros

RTOL, ATOL = 1e-5, 1e-6
SHAPES = [["N", 5], ["N", 3, 7], ["N", 2, 5, 3]]
SHAPE_IDS = ["Nx5", "Nx3x7", "Nx2x5x3"]
SPLIT_SHAPE = ["N", 64, 501]  # element blocks over two threads


def f32(value):
    return np.array(value, dtype=np.float32)


def _load(data: bytes, num_threads):
    """drsn.Model; a model whose opset this build does not take yet is skipped."""
    try:
        return drsn.Model(data, num_threads=num_threads)
    except drsn.UnsupportedError as exc:
        if "is not supported (drsn supports opsets" in str(exc):
            pytest.skip(str(exc))
        raise


def compare_close(actual, expected, context=""):
    assert list(actual) == list(expected), context
    for name, exp in expected.items():
        act = actual[name]
        assert act.dtype == np.float32, f"{context}: {name} dtype {act.dtype}"
        assert act.shape == exp.shape, f"{context}: {name} shape {act.shape} != {exp.shape}"
        np.testing.assert_allclose(act, np.asarray(exp).astype(np.float32), rtol=RTOL, atol=ATOL,
                                   equal_nan=True, err_msg=f"{context}: output {name!r}")


def check_close(model, *, gen=None, batches=(1, 7), num_threads=None, feeds=None):
    """Like oracle.check with the tight tolerance: random feeds from ``gen`` (one
    generator, or one per input name), or the fixed ``feeds``."""
    oracle.validate(model)
    rng = np.random.default_rng(zlib.crc32(oracle._test_id().encode()))
    symbols = {d for dims in oracle.input_shapes(model).values() for d in dims if isinstance(d, str)}
    runs = list(batches) + [batches[0]] if "N" in symbols else [None]
    variants = [(model, runs)]
    if symbols and feeds is None:
        variants.append((oracle.with_static_dims(model, {"N": max(batches)}), [max(batches)]))
    for variant, batch_list in variants:
        data = variant.SerializeToString()
        session = oracle.ort_session(data)
        m = _load(data, num_threads)
        try:
            for batch in batch_list:
                f = feeds if feeds is not None else oracle.make_feeds(variant, {} if batch is None else {"N": batch}, rng, gen)
                compare_close(m.run_dict(f), oracle.ort_run(session, f), context=f"batch {batch}")
        finally:
            m.close()


def optimized_ops(model, num_threads=None):
    """The operators left after drsn's graph passes (Model.summary)."""
    m = _load(model.SerializeToString(), num_threads)
    try:
        return m.summary()["optimized_operators"], m.summary()["plan_steps"]
    finally:
        m.close()


def log_uniform(low_exp=-80.0, high_exp=80.0, signed=False, specials=True):
    """|v| = exp(uniform(low, high)) (magnitudes over many binades), a few exact 0 / 1."""
    def gen(shape, rng):
        v = np.exp(rng.uniform(low_exp, high_exp, size=shape))
        if signed:
            v *= rng.choice([-1.0, 1.0], size=shape)
        v = v.astype(np.float32)
        if specials and v.size > 4:
            flat = v.reshape(-1)
            flat[:: max(1, flat.size // 3)] = 0.0
            flat[1] = 1.0
        return v
    return gen


# Specials: NaN, infinities, signed zeros, subnormals, overflow and underflow borders; 37
# values tiled over [3, 37] (odd: the last vector of each run is partial).
SPECIALS = f32([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1e-7, -1e-7, 0.5, -0.5, 1, -1, 2, -2,
                3, -3, 6, -6, 10, -10, 20, -20, 88.7, 88.8, -87.4, -103.9, -104.5, 100, -100, 1e20,
                -1e20, 3e38, -3e38, 0.921875, -0.921875, 4.6])


# ---- unary math ----------------------------------------------------------------------------

# (op, attributes, opset, input generator)
UNARY = [
    ("Exp", {}, 13, uniform(-100, 100)),
    ("Exp", {}, 7, uniform(-5, 5)),
    ("Log", {}, 13, log_uniform()),
    ("Log", {}, 7, log_uniform(-5, 5)),
    ("Sqrt", {}, 13, log_uniform()),
    ("Sqrt", {}, 7, log_uniform(-3, 3)),
    ("Reciprocal", {}, 13, log_uniform(signed=True)),
    ("Reciprocal", {}, 7, away_from_zero()),
    ("Tanh", {}, 13, uniform(-10, 10)),
    ("Tanh", {}, 7, uniform(-1, 1)),
    ("Erf", {}, 13, uniform(-5, 5)),
    ("Erf", {}, 9, uniform(-1, 1)),
    ("Softplus", {}, 17, uniform(-40, 40)),
    ("Softplus", {}, 7, uniform(-3, 3)),
    ("Softsign", {}, 17, uniform(-50, 50)),
    ("Softsign", {}, 7, with_zeros()),
    ("Elu", {}, 7, uniform(-8, 8)),
    ("Elu", {"alpha": 0.3}, 17, uniform(-1, 1)),
    ("Elu", {"alpha": 2.5}, 22, uniform(-8, 8)),
    ("Selu", {}, 7, uniform(-8, 8)),
    ("Selu", {"alpha": 1.5, "gamma": 2.0}, 17, uniform(-1, 1)),
    ("Selu", {}, 22, uniform(-8, 8)),
    ("HardSigmoid", {}, 7, uniform(-6, 6)),
    ("HardSigmoid", {"alpha": 0.5, "beta": 0.25}, 17, uniform(-4, 4)),
    ("HardSigmoid", {}, 22, with_zeros()),
    ("HardSwish", {}, 14, uniform(-6, 6)),
    ("HardSwish", {}, 22, with_zeros(-4, 4)),
    ("Gelu", {}, 20, uniform(-15, 15)),
    ("Gelu", {"approximate": "none"}, 20, uniform(-2, 2)),
    ("Gelu", {"approximate": "tanh"}, 20, uniform(-15, 15)),
]


def _unary_id(case):
    op, attrs, opset, _ = case
    return f"{op}-{'-'.join(f'{k}{v}' for k, v in attrs.items())}-opset{opset}".replace("--", "-")


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("case", UNARY, ids=_unary_id)
def test_unary_math(case, shape):
    op, attrs, opset, gen = case
    check_close(make_model([node(op, ["x"], ["y"], **attrs)], [("x", shape)], ["y"], opset=opset), gen=gen)


SPECIAL_CASES = [("Exp", {}, 13), ("Log", {}, 13), ("Sqrt", {}, 13), ("Reciprocal", {}, 13), ("Tanh", {}, 13),
                 ("Erf", {}, 13), ("Softplus", {}, 17), ("Softsign", {}, 17), ("Elu", {}, 17),
                 ("Elu", {"alpha": 0.3}, 17), ("Selu", {}, 17), ("HardSigmoid", {}, 17), ("HardSwish", {}, 14),
                 ("Gelu", {}, 20), ("Gelu", {"approximate": "tanh"}, 20)]


@pytest.mark.parametrize("op,attrs,opset", SPECIAL_CASES,
                         ids=[f"{op}-{'-'.join(map(str, a.values()))}".rstrip("-") for op, a, _ in SPECIAL_CASES])
def test_unary_math_special_values(op, attrs, opset):
    # NaN, infinities, signed zeros and subnormals give what onnxruntime gives
    x = np.stack([SPECIALS, SPECIALS[::-1], np.roll(SPECIALS, 5)])
    model = make_model([node(op, ["x"], ["y"], **attrs)], [("x", [3, 37])], ["y"], opset=opset)
    check_close(model, feeds={"x": x})


@pytest.mark.parametrize("op,attrs,opset", [("Tanh", {}, 13), ("Erf", {}, 13), ("Gelu", {}, 20),
                                            ("Exp", {}, 13), ("Elu", {"alpha": 0.5}, 17)])
def test_unary_math_split_over_threads(op, attrs, opset):
    check_close(make_model([node(op, ["x"], ["y"], **attrs)], [("x", SPLIT_SHAPE)], ["y"], opset=opset),
                gen=uniform(-4, 4), num_threads=2)


@pytest.mark.parametrize("op,attrs,opset", [("Exp", {}, 13), ("Log", {}, 13), ("Sqrt", {}, 13), ("Tanh", {}, 13),
                                            ("Erf", {}, 13), ("Gelu", {}, 20), ("Selu", {}, 17),
                                            ("HardSigmoid", {"alpha": 0.3}, 17), ("Softplus", {}, 17)])
def test_unary_math_of_a_constant_is_folded(op, attrs, opset):
    # evaluated at load by the same kernel: the node is gone from the optimized graph
    c = np.linspace(0.05, 3.0, 21, dtype=np.float32).reshape(3, 7)
    model = make_model([node(op, ["c"], ["f"], **attrs), node("Add", ["x", "f"], ["y"])],
                       [("x", ["N", 3, 7])], ["y"], {"c": c}, opset=opset)
    assert op not in optimized_ops(model)[0]
    check_close(model, gen=uniform())


def test_gelu_needs_opset_20():
    model = make_model([node("Gelu", ["x"], ["y"])], [("x", ["N", 3])], ["y"], opset=20)
    model.opset_import[0].version = 19  # invalid for onnx.checker, so built by hand
    with pytest.raises(drsn.InvalidModelError, match="Gelu.* not defined at opset 19 .ONNX defines it from opset 20"):
        drsn.Model(model.SerializeToString())


def test_gelu_unknown_approximation_is_refused():
    model = make_model([node("Gelu", ["x"], ["y"], approximate="fast")], [("x", ["N", 3])], ["y"], opset=20)
    with pytest.raises(drsn.InvalidModelError, match="approximate 'fast'"):
        drsn.Model(model.SerializeToString())


def test_math_chain_with_broadcast_consumers():
    # a small block mixing the new operators the way exported models do (LayerNorm-style
    # Pow/Sqrt/Reciprocal, Gelu, Tanh), with odd sizes
    nodes = [node("ReduceMean", ["x", "ax"], ["m"], keepdims=1), node("Sub", ["x", "m"], ["d"]),
             node("Pow", ["d", "two"], ["sq"]), node("ReduceMean", ["sq", "ax"], ["v"], keepdims=1),
             node("Add", ["v", "eps"], ["ve"]), node("Sqrt", ["ve"], ["sd"]), node("Reciprocal", ["sd"], ["inv"]),
             node("Mul", ["d", "inv"], ["n"]), node("Gelu", ["n"], ["g"]), node("Tanh", ["g"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3, 13])], ["y"], {"two": f32(2.0), "eps": f32(1e-5), "ax": i64(-1)},
                       opset=20)
    check_close(model, gen=uniform(-3, 3))


# ---- Pow ------------------------------------------------------------------------------------

# (x shape, exponent shape or a constant value, exponent is an initializer)
POW_CASES = [
    (["N", 4, 5], 2.0, True),
    (["N", 4, 5], 3.0, True),
    (["N", 4, 5], 0.5, True),
    (["N", 4, 5], 1.0, True),
    (["N", 4, 5], -1.0, True),
    (["N", 4, 5], 1.7, True),
    (["N", 4, 5], -2.5, True),
    (["N", 4, 5], 0.0, True),
    (["N", 3, 7], [7], True),
    (["N", 3, 7], [3, 1], True),
    (["N", 1, 7], [3, 1], True),      # both broadcast: output [N, 3, 7]
    (["N", 3, 7], ["N", 3, 7], False),
    (["N", 3, 1], ["N", 1, 7], False),
    (["N", 3, 7], [1], False),
]


def _pow_id(case):
    x, y, init = case
    ys = f"{y}" if isinstance(y, float) else "x".join(map(str, y))
    return f"{'x'.join(map(str, x))}^{ys}{'-const' if init else ''}"


def _pow_gen(shape, rng):
    # negative bases (NaN for non-integer exponents, signs for odd integer ones), zeros
    v = rng.uniform(-4, 4, size=shape).astype(np.float32)
    flat = v.reshape(-1)
    flat[::7] = 0.0
    return v


def _exponent_gen(shape, rng):
    v = rng.uniform(-3, 3, size=shape).astype(np.float32)
    v.reshape(-1)[::2] = np.round(v.reshape(-1)[::2])  # integer exponents too
    return v


@pytest.mark.parametrize("case", POW_CASES, ids=_pow_id)
def test_pow(case):
    x_shape, y, init = case
    inits, inputs = {}, [("x", x_shape)]
    if isinstance(y, float):
        inits["y"] = f32(y)
    elif init:
        inits["y"] = _exponent_gen(tuple(y), np.random.default_rng(1))
    else:
        inputs.append(("y", y))
    model = make_model([node("Pow", ["x", "y"], ["z"])], inputs, ["z"], inits, opset=15)
    check_close(model, gen={"x": _pow_gen, "y": _exponent_gen})


@pytest.mark.parametrize("opset", [7, 12, 13, 15])
def test_pow_opsets(opset):
    model = make_model([node("Pow", ["x", "y"], ["z"])], [("x", ["N", 3, 5]), ("y", [5])], ["z"], opset=opset)
    check_close(model, gen={"x": log_uniform(-3, 3), "y": _exponent_gen})


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_pow_integer_exponent_initializer(dtype):
    # opset 12+: the exponent may be an integer tensor
    model = make_model([node("Pow", ["x", "e"], ["z"])], [("x", ["N", 3, 5])], ["z"],
                       {"e": np.array(3, dtype=dtype)}, opset=15)
    check_close(model, gen=_pow_gen)


def test_pow_special_values():
    # every pair of specials: powf semantics (pow(x, 0) = 1 and pow(1, y) = 1 even for NaN,
    # pow(-0, -3) = -inf, pow(-inf, 0.5) = +inf, negative base with a fractional exponent)
    s = f32([0.0, -0.0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, 2.5, np.inf, -np.inf, np.nan, 1e-40, 1e30, 16777217.0])
    xs, ys = np.meshgrid(s, s)
    model = make_model([node("Pow", ["x", "y"], ["z"])], [("x", list(xs.shape)), ("y", list(ys.shape))], ["z"],
                       opset=15)
    check_close(model, feeds={"x": xs.astype(np.float32), "y": ys.astype(np.float32)})


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -1.0, 1.7])
def test_pow_scalar_exponent_special_values(exponent):
    x = np.stack([SPECIALS, SPECIALS[::-1], np.roll(SPECIALS, 5)])
    model = make_model([node("Pow", ["x", "e"], ["z"])], [("x", [3, 37])], ["z"], {"e": f32(exponent)}, opset=15)
    check_close(model, feeds={"x": x})


def test_pow_split_over_threads():
    model = make_model([node("Pow", ["x", "y"], ["z"])], [("x", SPLIT_SHAPE), ("y", [501])], ["z"], opset=15)
    check_close(model, gen={"x": log_uniform(-2, 2), "y": uniform(-3, 3)}, num_threads=2)


def test_pow_of_constants_is_folded():
    nodes = [node("Pow", ["b", "e"], ["p"]), node("Add", ["x", "p"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3, 7])], ["y"],
                       {"b": np.linspace(0.1, 3, 21, dtype=np.float32).reshape(3, 7), "e": f32([[1.5], [2.0], [-0.5]])},
                       opset=15)
    assert "Pow" not in optimized_ops(model)[0]
    check_close(model, gen=uniform())


def test_pow_of_integer_constants():
    # integer base and exponent (shape arithmetic): an integer result, as onnxruntime
    nodes = [node("Pow", ["b", "e"], ["p"]), node("Cast", ["p"], ["pf"], to=TensorProto.FLOAT),
             node("Add", ["x", "pf"], ["y"])]
    model = make_model(nodes, [("x", ["N", 4])], ["y"], {"b": i64(2, 3, -2, 5), "e": i64(3, 2, 3, 0)}, opset=15)
    check_close(model, gen=uniform())


# ---- PRelu ----------------------------------------------------------------------------------

# (x shape, slope shape, slope is an initializer)
PRELU_CASES = [
    (["N", 3, 5, 7], [3, 1, 1], True),   # per channel (PyTorch export)
    (["N", 3, 5, 7], [1], True),
    (["N", 3, 5, 7], [], True),
    (["N", 3, 5, 7], [7], True),
    (["N", 3, 5, 7], [3, 5, 7], True),
    (["N", 4, 9], [4, 1], True),
    (["N", 4, 9], ["N", 4, 9], False),
    (["N", 4, 9], [4, 1], False),
]


@pytest.mark.parametrize("case", PRELU_CASES, ids=lambda c: f"{'x'.join(map(str, c[0]))}-slope{'x'.join(map(str, c[1]))}{'-const' if c[2] else ''}")
def test_prelu(case):
    x_shape, s_shape, init = case
    inits, inputs = {}, [("x", x_shape)]
    if init:
        inits["s"] = np.random.default_rng(2).uniform(-1, 1, size=s_shape).astype(np.float32)
    else:
        inputs.append(("s", s_shape))
    model = make_model([node("PRelu", ["x", "s"], ["y"])], inputs, ["y"], inits, opset=16)
    check_close(model, gen=with_zeros())


@pytest.mark.parametrize("opset", [7, 9, 16])
def test_prelu_opsets(opset):
    model = make_model([node("PRelu", ["x", "s"], ["y"])], [("x", ["N", 3, 5])], ["y"],
                       {"s": f32([[0.1], [0.2], [-0.3]])}, opset=opset)
    check_close(model, gen=with_zeros())


def test_prelu_special_values_split_and_folding():
    x = np.stack([SPECIALS, SPECIALS[::-1], np.roll(SPECIALS, 5)])
    check_close(make_model([node("PRelu", ["x", "s"], ["y"])], [("x", [3, 37])], ["y"], {"s": f32([[0.25], [-2], [0]])},
                           opset=16), feeds={"x": x})
    check_close(make_model([node("PRelu", ["x", "s"], ["y"])], [("x", SPLIT_SHAPE)], ["y"],
                           {"s": np.linspace(-1, 1, 501, dtype=np.float32)}, opset=16),
                gen=with_zeros(), num_threads=2)
    nodes = [node("PRelu", ["c", "s"], ["p"]), node("Add", ["x", "p"], ["y"])]
    folded = make_model(nodes, [("x", ["N", 3, 7])], ["y"],
                        {"c": np.linspace(-2, 2, 21, dtype=np.float32).reshape(3, 7), "s": f32([[0.5], [1.5], [-1]])},
                        opset=16)
    assert "PRelu" not in optimized_ops(folded)[0]
    check_close(folded, gen=uniform())


def test_prelu_slope_must_broadcast_to_the_input():
    # unidirectional: a slope that would grow the output is refused
    model = make_model([node("PRelu", ["x", "s"], ["y"])], [("x", ["N", 3])], ["y"], {"s": np.zeros((2, 1, 3), np.float32)},
                       opset=16)
    with pytest.raises(drsn.ShapeError, match="slope"):
        drsn.Model(model.SerializeToString())


# ---- Sum, Mean ------------------------------------------------------------------------------

VARIADIC_SHAPES = {
    1: [["N", 3, 7]],
    2: [["N", 3, 7], [7]],
    3: [["N", 3, 7], ["N", 1, 7], [3, 1]],
    4: [["N", 3, 7], [1], ["N", 3, 7], [3, 7]],
}


@pytest.mark.parametrize("opset", [8, 13, 21])
@pytest.mark.parametrize("arity", [1, 2, 3, 4])
@pytest.mark.parametrize("op", ["Sum", "Mean"])
def test_sum_mean(op, arity, opset):
    names = [f"x{i}" for i in range(arity)]
    model = make_model([node(op, names, ["y"])], list(zip(names, VARIADIC_SHAPES[arity])), ["y"], opset=opset)
    check_close(model, gen=uniform(-3, 3))


@pytest.mark.parametrize("op", ["Sum", "Mean"])
def test_sum_mean_opset7_same_shapes(op):
    model = make_model([node(op, ["a", "b", "c"], ["y"])], [("a", ["N", 3, 5]), ("b", ["N", 3, 5]), ("c", ["N", 3, 5])],
                       ["y"], opset=7)
    check_close(model, gen=uniform(-3, 3))


@pytest.mark.parametrize("op", ["Sum", "Mean"])
def test_sum_mean_opset7_refuses_broadcasting(op):
    # Sum-6/Mean-6 have no broadcasting (onnx shape inference rejects it too)
    model = make_model([node(op, ["a", "b"], ["y"])], [("a", ["N", 3, 5]), ("b", ["N", 3, 5])], ["y"], opset=7)
    model.graph.input[1].type.tensor_type.shape.dim[2].dim_value = 1
    with pytest.raises(drsn.ShapeError, match="before opset 8"):
        drsn.Model(model.SerializeToString())


@pytest.mark.parametrize("op", ["Sum", "Mean"])
def test_sum_mean_with_constants_and_split(op):
    c = np.linspace(-1, 1, 501, dtype=np.float32)
    model = make_model([node(op, ["x", "c", "x"], ["y"])], [("x", SPLIT_SHAPE)], ["y"], {"c": c})
    check_close(model, gen=uniform(-3, 3), num_threads=2)
    folded = make_model([node(op, ["c", "d"], ["s"]), node("Add", ["x", "s"], ["y"])], [("x", ["N", 501])], ["y"],
                        {"c": c, "d": f32(0.5)})
    assert op not in optimized_ops(folded)[0]
    check_close(folded, gen=uniform())


def test_sum_special_values():
    x = np.stack([SPECIALS, SPECIALS[::-1], np.roll(SPECIALS, 5)])
    model = make_model([node("Sum", ["a", "b"], ["y"]), node("Mean", ["a", "b"], ["z"])], [("a", [3, 37]), ("b", [3, 37])],
                       ["y", "z"])
    check_close(model, feeds={"a": x, "b": x[::-1].copy()})


# ---- Dropout mask ---------------------------------------------------------------------------

def _dropout(opset, outs, extra_nodes=(), graph_outputs=("d",), training=None):
    inits, ins, attrs = {}, ["x"], {}
    if opset >= 12:
        inits["ratio"] = f32(0.3)
        ins.append("ratio")
        if training is not None:
            inits["training"] = np.array(training)
            ins.append("training")
    else:
        attrs["ratio"] = 0.3
    return make_model([node("Dropout", ins, outs, **attrs), *extra_nodes], [("x", ["N", 4, 7])], list(graph_outputs),
                      inits, opset=opset)


@pytest.mark.parametrize("opset", [7, 10, 12, 13, 22])
def test_dropout_unread_mask(opset):
    # squeezenet / vgg19 in the ONNX model zoo: a mask output that nothing reads costs nothing
    model = _dropout(opset, ["d", "mask"], [node("Relu", ["d"], ["y"])], ["y"])
    check_close(model, gen=uniform())
    ops, steps = optimized_ops(model)
    assert "Dropout" not in ops and sum(steps.values()) == 1


@pytest.mark.parametrize("opset", [7, 10, 12, 13, 22])
def test_dropout_mask_as_graph_output(opset):
    # onnxruntime's inference mask: 0 (float) before opset 10, false in 10-11, true from 12
    elem = TensorProto.FLOAT if opset < 10 else TensorProto.BOOL
    model = _dropout(opset, ["d", "mask"], graph_outputs=["d", ("mask", elem)], training=False if opset >= 12 else None)
    check_close(model, gen=uniform())


@pytest.mark.parametrize("opset", [10, 12, 13])
def test_dropout_mask_read_by_a_node(opset):
    nodes = [node("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT), node("Add", ["d", "mf"], ["y"])]
    check_close(_dropout(opset, ["d", "mask"], nodes, ["y"]), gen=uniform())


def test_dropout_of_a_constant_with_mask():
    nodes = [node("Dropout", ["c", "r"], ["d", "m"]), node("Cast", ["m"], ["mf"], to=TensorProto.FLOAT),
             node("Mul", ["d", "mf"], ["p"]), node("Add", ["x", "p"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3])], ["y"], {"c": f32([1, 2, 3]), "r": f32(0.5)}, opset=13)
    check_close(model, gen=uniform())


def test_dropout_runtime_training_mode_is_refused():
    # training_mode computed at run time (a bool from a comparison): refused, not guessed
    nodes = [node("Greater", ["flag", "zero"], ["t"]), node("Dropout", ["x", "r", "t"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3]), ("flag", [])], ["y"], {"r": f32(0.5), "zero": f32(0)}, opset=13)
    with pytest.raises(drsn.UnsupportedError, match="training_mode"):
        drsn.Model(model.SerializeToString())


# ---- parameters as runtime inputs -----------------------------------------------------------

@pytest.mark.parametrize("opset", [11, 12, 13, 21])
@pytest.mark.parametrize("bounds", ["min_max", "min", "max", "runtime_min_const_max", "const_min_runtime_max"])
def test_clip_runtime_bounds(bounds, opset):
    inputs, inits, ins = [("x", ["N", 3, 7])], {}, ["x", "", ""]
    if bounds in ("min_max", "min", "runtime_min_const_max"):
        inputs.append(("lo", []))
        ins[1] = "lo"
    if bounds in ("min_max", "max", "const_min_runtime_max"):
        inputs.append(("hi", []))
        ins[2] = "hi"
    if bounds == "runtime_min_const_max":
        inits["hi"] = f32(0.75)
        ins[2] = "hi"
    if bounds == "const_min_runtime_max":
        inits["lo"] = f32(-0.25)
        ins[1] = "lo"
    while ins[-1] == "":
        ins.pop()
    model = make_model([node("Clip", ins, ["y"])], inputs, ["y"], inits, opset=opset)

    def gen_bound(shape, rng):
        return rng.uniform(-1, 1, size=shape).astype(np.float32)
    check_close(model, gen={"x": with_zeros(-2, 2), "lo": gen_bound, "hi": gen_bound})


def test_clip_runtime_bounds_min_above_max_nan_and_split():
    model = make_model([node("Clip", ["x", "lo", "hi"], ["y"])], [("x", [3, 37]), ("lo", []), ("hi", [1])], ["y"], opset=13)
    x = np.stack([SPECIALS, SPECIALS[::-1], np.roll(SPECIALS, 5)])
    check_close(model, feeds={"x": x, "lo": f32(0.5), "hi": f32([-0.5])})   # min > max: every value is max
    check_close(model, feeds={"x": x, "lo": f32(-2), "hi": f32([3])})
    split = make_model([node("Clip", ["x", "lo", "hi"], ["y"])], [("x", SPLIT_SHAPE), ("lo", []), ("hi", [])], ["y"],
                       opset=13)
    check_close(split, gen={"x": uniform(-2, 2), "lo": lambda s, r: f32(-0.5), "hi": lambda s, r: f32(1.5)}, num_threads=2)


def test_clip_bound_must_be_a_scalar():
    model = make_model([node("Clip", ["x", "lo"], ["y"])], [("x", ["N", 3]), ("lo", [2])], ["y"], opset=13)
    with pytest.raises(drsn.InvalidModelError, match="Clip min"):
        drsn.Model(model.SerializeToString())


def _positive(shape, rng):
    return rng.uniform(0.2, 2.0, size=shape).astype(np.float32)


# which of scale, B, mean, var are graph inputs (the others initializers)
BN_RUNTIME = ["scale,B,mean,var", "mean,var", "scale", "var", "B,mean"]


@pytest.mark.parametrize("opset", [9, 14, 15])
@pytest.mark.parametrize("shape", [["N", 5], ["N", 5, 7], ["N", 5, 3, 7]], ids=["Nx5", "Nx5x7", "Nx5x3x7"])
@pytest.mark.parametrize("runtime", BN_RUNTIME)
def test_batch_normalization_runtime_parameters(runtime, shape, opset):
    names = ["scale", "B", "mean", "var"]
    dynamic = runtime.split(",")
    rng = np.random.default_rng(4)
    inits = {n: (_positive((5,), rng) if n == "var" else rng.uniform(-1, 1, size=5).astype(np.float32))
             for n in names if n not in dynamic}
    inputs = [("x", shape)] + [(n, [5]) for n in names if n in dynamic]
    model = make_model([node("BatchNormalization", ["x"] + names, ["y"], epsilon=1e-3)], inputs, ["y"], inits, opset=opset)
    check_close(model, gen={"x": uniform(-3, 3), "scale": uniform(), "B": uniform(), "mean": uniform(), "var": _positive})


def test_batch_normalization_runtime_parameters_then_relu_and_conv():
    # the BN -> ReLU fusion and the conv prologue fusion must not take runtime coefficients
    w = np.random.default_rng(5).uniform(-0.5, 0.5, size=(4, 3, 3, 3)).astype(np.float32)
    nodes = [node("BatchNormalization", ["x", "scale", "B", "mean", "var"], ["b"]), node("Relu", ["b"], ["r"]),
             node("Conv", ["r", "w"], ["y"], pads=[1, 1, 1, 1])]
    model = make_model(nodes, [("x", ["N", 3, 9, 9]), ("scale", [3]), ("mean", [3]), ("var", [3])], ["y"],
                       {"B": f32([0.1, -0.2, 0.3]), "w": w})
    check_close(model, gen={"x": uniform(-3, 3), "scale": uniform(), "mean": uniform(), "var": _positive}, num_threads=2)


def test_batch_normalization_runtime_parameter_shape_is_checked():
    model = make_model([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])],
                       [("x", ["N", 3, 4]), ("s", [3]), ("v", [4])], ["y"], {"b": f32([0, 0, 0]), "m": f32([0, 0, 0])})
    with pytest.raises(drsn.ShapeError, match="var"):
        drsn.Model(model.SerializeToString())


@pytest.mark.parametrize("opset", [11, 13, 18, 21])
def test_pad_runtime_constant_value(opset):
    inits = {"pads": i64(0, 1, 2, 0, 2, 1)}
    model = make_model([node("Pad", ["x", "pads", "v"], ["y"], mode="constant")], [("x", ["N", 3, 5]), ("v", [])], ["y"],
                       inits, opset=opset)
    check_close(model, gen={"x": uniform(), "v": lambda s, r: r.uniform(-5, 5, size=s).astype(np.float32)})


def test_pad_runtime_constant_value_crop_and_axes():
    model = make_model([node("Pad", ["x", "pads", "v", "axes"], ["y"])], [("x", ["N", 3, 5]), ("v", [1])], ["y"],
                       {"pads": i64(2, -1, 1, 3), "axes": i64(1, 2)}, opset=18)
    check_close(model, gen={"x": uniform(), "v": lambda s, r: f32([np.nan])})


# ---- the light model zoo of the onnx package ------------------------------------------------

LIGHT_ZOO = Path(onnx_backend_test.__file__).parent / "data" / "light"


@pytest.mark.parametrize("name,limits", [("resnet50", None), ("shufflenet", None), ("squeezenet", None),
                                         ("vgg19", {"max_value_elements": 1 << 28})])
def test_light_zoo_models(name, limits):
    # refused before only by Sum (resnet50, shufflenet) or Dropout's unread mask (squeezenet,
    # vgg19; vgg19's 140M weights also need a larger constant budget than the default)
    path = LIGHT_ZOO / f"light_{name}.onnx"
    if not path.is_file():
        pytest.skip(f"onnx's light model zoo is not installed ({path})")
    data = path.read_bytes()
    m = drsn.Model(data, limits=limits) if limits else drsn.Model(data)
    try:
        x = np.random.default_rng(0).uniform(0, 1, size=[d if d > 0 else 1 for d in m.inputs[0].shape]).astype(np.float32)
        session = oracle.ort_session(data)
        compare_close(m.run_dict({m.inputs[0].name: x}), oracle.ort_run(session, {m.inputs[0].name: x}), name)
    finally:
        m.close()
