"""The DRSN export zoo (Tests/models/zoo/*.onnx, written by Tests/models/export_zoo.py):
real-world DRSN variants (pre-/post-activation units, identity / pad / projection
shortcuts, four soft-threshold forms, Linear or 1x1-Conv threshold networks,
channel-wise and channel-shared units, 1-D and 2-D) exported by the TorchScript
exporter at opsets 11/13/17/18 and by the dynamo exporter.

Each model must:
* reproduce <name>.out.npy on <name>.in.npy (batch 3) within 1e-4;
* agree with onnxruntime run live at batch 1, 3 and 7 within 1e-4;
* have its shrinkage units recognised and fused: ``summary()['shrinkage_units']`` lists
  one unit per residual shrinkage unit of the network (counted in the ONNX graph as its
  Sigmoid nodes, one per threshold network), with one threshold per sample for the
  channel-shared (``_cs_``) variants and one per channel otherwise.
"""

from pathlib import Path

import numpy as np
import onnx
import pytest

import drsn
import oracle
from oracle import ATOL, compare, ort_run, ort_session

REPO_ROOT = Path(__file__).resolve().parents[2]
ZOO = REPO_ROOT / "Tests" / "models" / "zoo"
MODELS = sorted(ZOO.glob("*.onnx"))

if not MODELS:
    pytest.skip(f"no zoo models in {ZOO} (run Tests/models/export_zoo.py)", allow_module_level=True)


def _stem(path: Path) -> str:
    return path.name[: -len(".onnx")]


def _batch(x: np.ndarray, n: int) -> np.ndarray:
    """n samples taken cyclically from x (slice when n <= len(x), tile otherwise)."""
    reps = -(-n // x.shape[0])
    return np.ascontiguousarray(np.concatenate([x] * reps, axis=0)[:n])


def _graph_units(model: onnx.ModelProto) -> int:
    """Residual shrinkage units in the exported graph: one Sigmoid per threshold network
    (the zoo's networks use no other Sigmoid)."""
    return sum(1 for n in model.graph.node if n.op_type == "Sigmoid")


@pytest.fixture(scope="module", params=MODELS, ids=_stem)
def zoo_model(request):
    path = request.param
    stem = _stem(path)
    x = np.load(path.with_name(stem + ".in.npy"))
    y = np.load(path.with_name(stem + ".out.npy"))
    session = ort_session(path.read_bytes())
    model = None
    if not oracle.ORACLE_ONLY:
        try:
            model = drsn.Model(path)
        except drsn.Error as exc:  # every test that needs the model fails with it
            model = exc
    yield path, x, y, session, model
    if isinstance(model, drsn.Model):
        model.close()


def _loaded(model):
    """The drsn model, or the load error raised again (the test fails with it)."""
    if model is None:
        pytest.skip("needs libdrsn (--oracle-only)")
    if isinstance(model, Exception):
        raise model
    return model


def test_files(zoo_model):
    path, x, y, session, _ = zoo_model
    assert path.stat().st_size < 200_000, f"{path.name}: {path.stat().st_size} bytes"
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.shape[0] == 3 and y.shape == (3, 10)
    oracle.validate(onnx.load(path))
    live = ort_run(session, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(next(iter(live.values())), y, rtol=0, atol=ATOL,
                               err_msg="onnxruntime (live) vs stored output")


def test_reference_output(zoo_model):
    path, x, y, _, model = zoo_model
    model = _loaded(model)
    (out,) = model.run(x)
    worst = compare({"out": out}, {"out": y}, context=f"{path.name} vs stored output")
    print(f"\n{path.name}: batch 3 max |drsn - stored| = {worst:.3e}")


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_against_onnxruntime(zoo_model, batch):
    path, x, _, session, model = zoo_model
    xb = _batch(x, batch)
    expected = ort_run(session, {session.get_inputs()[0].name: xb})
    if oracle.ORACLE_ONLY:
        return
    model = _loaded(model)
    actual = model.run_dict({model.inputs[0].name: xb})
    worst = compare(actual, expected, context=f"{path.name} batch {batch}")
    print(f"\n{path.name}: batch {batch} max |drsn - onnxruntime| = {worst:.3e}")


def test_shrinkage_units_fused(zoo_model):
    path, x, _, _, model = zoo_model
    model = _loaded(model)
    expected = _graph_units(onnx.load(path))
    assert expected > 0, f"{path.name}: no shrinkage unit found in the graph"
    summary = model.summary()
    units = summary.get("shrinkage_units", [])
    passes = [p for p in summary.get("passes", []) if "shrinkage" in p or "threshold" in p]
    print(f"\n{path.name}: {len(units)} of {expected} shrinkage units fused; {passes}")
    assert len(units) == expected, (
        f"{path.name}: drsn fused {len(units)} shrinkage units, the graph has {expected}; "
        f"passes: {summary.get('passes')}")
    per_sample = [u["thresholds_per_sample"] for u in units]
    if "_cs_" in path.name:
        assert per_sample == [1] * expected, per_sample
    else:
        assert all(t > 1 for t in per_sample), per_sample
    # the units the model reports for a batch-3 input agree with the summary
    listed = model.shrinkage_units(x.shape)
    assert len(listed) == expected
