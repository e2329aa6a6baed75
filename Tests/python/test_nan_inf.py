"""NaN and Inf inputs: elementwise operators follow IEEE 754 (compared with numpy on every
pair of special values), and whole models run on inputs with NaN/Inf in some samples
without failing, leaving the results of the other samples in the batch bit-identical."""

import numpy as np
import pytest
from onnx import TensorProto, helper

import drsn
from shared_fixtures import FIXTURES, missing

SPECIAL = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-45, 3.4e38, -3.4e38],
                   dtype=np.float32)

pytestmark = pytest.mark.usefixtures("needs_library")


def one_op(op, n_inputs, **attrs):
    names = ["a", "b"][:n_inputs]
    g = helper.make_graph([helper.make_node(op, names, ["y"], **attrs)], "g",
                          [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["N"]) for x in names],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def same_ieee(got, want):
    got, want = np.asarray(got, np.float32), np.asarray(want, np.float32)
    both_nan = np.isnan(got) & np.isnan(want)
    equal = (got == want) & (np.signbit(got) == np.signbit(want))
    return bool(np.all(both_nan | equal))


@pytest.mark.parametrize("op,ref", [("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply),
                                    ("Div", np.divide)])
def test_binary_ops_follow_ieee(op, ref):
    a, b = np.meshgrid(SPECIAL, SPECIAL)
    a, b = a.ravel().astype(np.float32), b.ravel().astype(np.float32)
    with drsn.Model(one_op(op, 2), num_threads=1) as m, np.errstate(all="ignore"):
        (y,) = m.run([a, b])
        assert same_ieee(y, ref(a, b)), f"{op}: {list(zip(a, b, y, ref(a, b)))}"


@pytest.mark.parametrize("op,ref", [("Neg", np.negative), ("Abs", np.abs),
                                    ("Sigmoid", lambda x: (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32))])
def test_unary_ops_follow_ieee(op, ref):
    with drsn.Model(one_op(op, 1), num_threads=1) as m, np.errstate(all="ignore"):
        (y,) = m.run(SPECIAL)
        want = ref(SPECIAL)
        if op == "Sigmoid":  # a few ulps of difference are fine; NaN/0/1 at the ends are not
            ok = np.isnan(y) == np.isnan(want)
            assert ok.all() and np.allclose(y[~np.isnan(y)], want[~np.isnan(want)], rtol=1e-6, atol=1e-7), (y, want)
        else:
            assert same_ieee(y, want), (op, SPECIAL, y, want)


def test_relu_propagates_nan():
    with drsn.Model(one_op("Relu", 1), num_threads=1) as m:
        (y,) = m.run(SPECIAL)
    assert np.isnan(y[0]) and np.isnan(y[1])
    assert y[2] == np.inf and y[3] == 0 and y[9] == np.float32(3.4e38) and y[10] == 0


@pytest.mark.parametrize("name", ["drsn_cw_1d.onnx", "drsn_cw_1d.legacy.onnx", "drsn_cw_2d.onnx",
                                  "drsn_cw_2d.legacy.onnx"])
def test_models_with_special_values_in_some_samples(name):
    path = FIXTURES / name
    if not path.exists():
        missing(path)
    with drsn.Model(str(path)) as m:
        shape = [4] + [d for d in m.inputs[0].shape[1:]]
        x = np.random.default_rng(2).uniform(-1, 1, size=shape).astype(np.float32)
        (clean,) = m.run(x)
        flat = x.reshape(4, -1)
        flat[1, 7] = np.nan
        flat[2, 0] = np.inf
        flat[2, -1] = -np.inf
        flat[3, :] = 3.4e38
        (y,) = m.run(flat.reshape(shape))
    assert y.shape == clean.shape
    assert np.array_equal(y[0], clean[0]), "a sample without special values changed"
    assert not np.isfinite(y[1]).all(), "NaN in sample 1 did not reach its outputs"
