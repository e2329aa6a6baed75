"""Threshold introspection: Model.shrinkage_units / Model.run_introspect
(drsn_model_shrinkage_units / drsn_model_run_introspect) and Model.summary.

* thresholds tau: against onnxruntime's tau_<k> outputs of drsn_cwru_taus.onnx on the
  shipped test windows (1e-4);
* zeroed fractions: against a numpy reference from onnxruntime intermediate values: each
  unit's r (the input of its soft-thresholding Abs node) is exposed as an extra graph
  output, and the fraction is mean(|r| <= tau) per sample (1e-3: a value right at the
  boundary may fall either way in float32);
* a channel-shared (CS) and channel-wise toy model built with the test graph builders.
"""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import drsn
from drsn_graphs import FORMULATIONS, rand, rsbu
from oracle import make_model, node, ort_run, ort_session

REPO_ROOT = Path(__file__).resolve().parents[2]
BEARING = REPO_ROOT / "examples" / "bearing"
MODEL = BEARING / "model" / "drsn_cwru.onnx"
TAUS_MODEL = BEARING / "model" / "drsn_cwru_taus.onnx"
TAU_TOL = 1e-4
FRACTION_TOL = 1e-3

pytestmark = pytest.mark.usefixtures("needs_library")


def normalise(w):
    w = w.astype(np.float64)
    return ((w - w.mean(1, keepdims=True)) / (w.std(1, keepdims=True) + 1e-8)).astype(np.float32)


@pytest.fixture(scope="module")
def windows():
    return normalise(np.load(BEARING / "data" / "test_windows.npy"))[:, None, :]


def with_abs_inputs_as_outputs(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str]]:
    """A copy of `model` whose graph also outputs the input of every Abs node (graph
    order): in the exported DRSN each unit has one Abs, on its residual r."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    names = [n.input[0] for n in m.graph.node if n.op_type == "Abs"]
    for name in names:
        m.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return m, names


@pytest.fixture(scope="module")
def oracle(windows):
    """onnxruntime on drsn_cwru_taus.onnx with every unit's r exposed:
    (logits, [tau_k [N, C_k]], [r_k [N, C_k, L_k]])."""
    model, r_names = with_abs_inputs_as_outputs(onnx.load(str(TAUS_MODEL)))
    out = ort_run(ort_session(model), {"signal": windows})
    taus = [out[f"tau_{k}"] for k in range(len(r_names))]
    return out["logits"], taus, [out[n] for n in r_names]


def zero_fraction(r: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """mean(|r| <= tau) per sample; tau [N, T] with T = channels (CW) or 1 (CS)."""
    t = tau.reshape(tau.shape + (1,) * (r.ndim - 2))
    return (np.abs(r) <= t).reshape(r.shape[0], -1).mean(axis=1)


@pytest.fixture(scope="module")
def cwru():
    return drsn.Model(MODEL)


# ---- the bearing model -----------------------------------------------------------------------

def test_units_of_the_bearing_model(cwru):
    for batch in (1, 2, 64):
        units = cwru.shrinkage_units([(batch, 1, 2048)])
        assert [u.thresholds_per_sample for u in units] == [4, 4, 4, 8, 8, 8, 16, 16, 16], batch
        # channels x positions: 4 x 1024, 8 x 512, 16 x 256
        assert [u.features_per_sample for u in units] == [4096] * 9
        assert all(isinstance(u, tuple) and len(u) == 2 for u in units)
    assert cwru.shrinkage_units({"signal": (3, 1, 2048)}) == cwru.shrinkage_units((3, 1, 2048))


def test_thresholds_match_onnxruntime(cwru, windows, oracle):
    ort_logits, taus, _ = oracle
    outputs, thresholds, fractions = cwru.run_introspect(windows)
    assert len(outputs) == 1 and len(thresholds) == 9 and len(fractions) == 9
    assert float(np.abs(outputs[0] - ort_logits).max()) <= 1e-4
    (plain,) = cwru.run(windows)
    np.testing.assert_array_equal(outputs[0], plain)  # introspection does not change the result
    for k, (t, ref) in enumerate(zip(thresholds, taus)):
        assert t.shape == ref.shape == (len(windows), ref.shape[1]) and t.dtype == np.float32
        dev = float(np.abs(t - ref).max())
        assert dev <= TAU_TOL, f"unit {k}: max |tau - onnxruntime| = {dev:.3e}"


def test_zero_fractions_match_numpy_reference(cwru, windows, oracle):
    _, taus, rs = oracle
    _, _, fractions = cwru.run_introspect(windows)
    for k, (z, tau, r) in enumerate(zip(fractions, taus, rs)):
        ref = zero_fraction(r, tau)
        assert z.shape == (len(windows),)
        dev = float(np.abs(z - ref).max())
        assert dev <= FRACTION_TOL, f"unit {k}: max |zeroed fraction - numpy| = {dev:.3e}"
        assert 0.0 <= z.min() and z.max() <= 1.0
    # and the PyTorch reference shipped with the model (computed the same way in training)
    torch_zf = np.load(BEARING / "model" / "drsn_cwru_reference.npz")["zero_fraction"]
    assert float(np.abs(np.stack(fractions) - torch_zf).max()) <= FRACTION_TOL


@pytest.mark.parametrize("batch", [1, 5])
def test_small_batches_agree_with_the_large_one(cwru, windows, batch):
    _, t_all, z_all = cwru.run_introspect(windows[:64])
    for start in (0, 17, 59):
        _, t, z = cwru.run_introspect(windows[start:start + batch])
        assert len(t) == 9
        for k in range(9):
            assert float(np.abs(t[k] - t_all[k][start:start + batch]).max()) <= 1e-5
            assert float(np.abs(z[k] - z_all[k][start:start + batch]).max()) <= FRACTION_TOL


def test_introspect_errors(cwru):
    with pytest.raises(drsn.DtypeError):
        cwru.run_introspect(np.zeros((1, 1, 2048), np.float64))
    with pytest.raises(drsn.ShapeError):
        cwru.run_introspect(np.zeros((1, 2, 2048), np.float32))
    with pytest.raises(drsn.ShapeError):
        cwru.shrinkage_units([(1, 1, 1000)])
    with pytest.raises(drsn.InvalidArgumentError):
        cwru.shrinkage_units([(1, -1, 2048)])


def test_summary(cwru):
    s = cwru.summary()
    assert s["inputs"][0]["name"] == "signal" and s["outputs"][0]["name"] == "logits"
    assert s["operators"]["Conv"] == 19 and s["operators"]["Abs"] == 9
    assert sum(s["optimized_operators"].values()) <= sum(s["operators"].values())
    assert s["parameters"] > 8000
    assert s["flops_per_sample"] > 3_000_000
    assert len(s["shrinkage_units"]) == 9
    assert [u["thresholds_per_sample"] for u in s["shrinkage_units"]] == [4, 4, 4, 8, 8, 8, 16, 16, 16]
    assert isinstance(s["passes"], list)
    resnet = drsn.Model(BEARING / "model" / "resnet_cwru.onnx")
    assert resnet.summary()["shrinkage_units"] == []
    assert resnet.shrinkage_units([(2, 1, 2048)]) == []
    outputs, thresholds, fractions = resnet.run_introspect(np.zeros((2, 1, 2048), np.float32))
    assert thresholds == [] and fractions == [] and outputs[0].shape == (2, 10)


# ---- toy models: channel-shared and channel-wise -------------------------------------------------

def toy(variant, formulation, seed=21):
    """stem Conv -> two RSBUs (the first downsamples 4 -> 8 channels) -> GAP -> Gemm; also
    returns, per unit, the names of tau and of r in the graph."""
    rng = np.random.default_rng(seed)
    nodes, inits = [], {"stem_w": rand(rng, 4, 1, 3)}
    nodes.append(node("Conv", ["x", "stem_w"], ["stem"], kernel_shape=[3], pads=[1, 1]))
    h = rsbu(rng, nodes, inits, "stem", 4, 8, 2, "u0", [2], variant, formulation)
    h = rsbu(rng, nodes, inits, h, 8, 8, 1, "u1", [2], variant, formulation)
    inits.update({"fc_w": rand(rng, 5, 8), "fc_b": rand(rng, 5)})
    nodes += [node("GlobalAveragePool", [h], ["gap"]), node("Flatten", ["gap"], ["flat"]),
              node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1)]
    units = [("u0_t_tau", "u0_c2"), ("u1_t_tau", "u1_c2")]
    outputs = ["logits"] + [n for pair in units for n in pair]
    return make_model(nodes, [("x", ["N", 1, 96])], outputs, inits), units


@pytest.mark.parametrize("variant,formulation", [("CS", "relu"), ("CS", "where"), ("CW", "clip")])
def test_toy_model(variant, formulation):
    model_with_extras, units = toy(variant, formulation)
    # drsn sees the model as exported: only the logits are graph outputs
    plain = onnx.ModelProto()
    plain.CopyFrom(model_with_extras)
    del plain.graph.output[1:]
    model = drsn.Model(plain.SerializeToString())
    x = np.random.default_rng(3).standard_normal((6, 1, 96)).astype(np.float32)
    found = model.shrinkage_units([(6, 1, 96)])
    t_expected = 1 if variant == "CS" else 8
    assert found == [(t_expected, 8 * 48), (t_expected, 8 * 48)]
    outputs, thresholds, fractions = model.run_introspect(x)
    ref = ort_run(ort_session(model_with_extras), {"x": x})
    assert float(np.abs(outputs[0] - ref["logits"]).max()) <= 1e-4
    for u, (tau_name, r_name) in enumerate(units):
        tau = ref[tau_name]
        assert thresholds[u].shape == (6, t_expected) == tau.shape
        assert float(np.abs(thresholds[u] - tau).max()) <= TAU_TOL
        expected = zero_fraction(ref[r_name], tau)
        assert float(np.abs(fractions[u] - expected).max()) <= FRACTION_TOL
        assert 0.02 < float(expected.mean()) < 0.98  # a meaningful fraction, not all or nothing


def test_every_formulation_is_recognised():
    for formulation in FORMULATIONS:
        model, _ = toy("CS", formulation)
        del model.graph.output[1:]
        assert len(drsn.Model(model.SerializeToString()).shrinkage_units([(1, 1, 96)])) == 2, formulation
