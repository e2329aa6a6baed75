"""Exported DRSN models from ../shared/fixtures (relative to the repository root):
drsn must reproduce <name>.out.npy on <name>.in.npy and agree with onnxruntime run
live, within 1e-4 absolute, also at batch 1 and batch 7 (sliced / tiled inputs).
The module is skipped when the fixtures folder is absent (it fails then when
DRSN_REQUIRE_FIXTURES=1, see shared_fixtures.py).
"""

import numpy as np
import pytest

import drsn
import oracle
from oracle import ATOL, compare, ort_run, ort_session
from shared_fixtures import FIXTURES, missing

MODELS = sorted(FIXTURES.glob("*.onnx"))
if not MODELS:
    missing(FIXTURES / "*.onnx", allow_module_level=True)


def _batch(x: np.ndarray, n: int) -> np.ndarray:
    """n samples taken cyclically from x (slice when n <= len(x), tile otherwise)."""
    reps = -(-n // x.shape[0])
    return np.ascontiguousarray(np.concatenate([x] * reps, axis=0)[:n])


@pytest.fixture(scope="module", params=MODELS, ids=lambda p: p.stem)
def fixture_model(request):
    path = request.param
    stem = path.name[: -len(".onnx")]
    x = np.load(path.with_name(stem + ".in.npy"))
    y = np.load(path.with_name(stem + ".out.npy"))
    session = ort_session(path.read_bytes())
    model = None if oracle.ORACLE_ONLY else drsn.Model(path)
    yield path, x, y, session, model
    if model is not None:
        model.close()


def test_inputs_are_float32(fixture_model):
    _, x, y, _, _ = fixture_model
    assert x.dtype == np.float32 and y.dtype == np.float32


def test_reference_output(fixture_model):
    """drsn on <name>.in.npy against the stored <name>.out.npy (and ORT against it)."""
    path, x, y, session, model = fixture_model
    name = session.get_inputs()[0].name
    live = ort_run(session, {name: x})
    np.testing.assert_allclose(next(iter(live.values())), y, rtol=0, atol=ATOL,
                               err_msg="onnxruntime (live) vs stored output")
    if model is None:
        return
    (out,) = model.run(x)
    worst = compare({"out": out}, {"out": y}, context=f"{path.name} vs stored output")
    print(f"\n{path.name}: batch {x.shape[0]} max |drsn - stored| = {worst:.3e}")


@pytest.mark.parametrize("batch", [1, 7, 5, 64])
def test_against_onnxruntime(fixture_model, batch):
    path, x, _, session, model = fixture_model
    xb = _batch(x, batch)
    name = session.get_inputs()[0].name
    expected = ort_run(session, {name: xb})
    if model is None:
        return
    actual = model.run_dict({model.inputs[0].name: xb})
    # names may differ only if drsn renamed outputs, which it must not
    worst = compare(actual, expected, context=f"{path.name} batch {batch}")
    print(f"\n{path.name}: batch {batch} max |drsn - onnxruntime| = {worst:.3e}")


def test_batch_rows_independent(fixture_model):
    """Row i of a batch-7 run equals a batch-1 run on sample i (within 1e-4)."""
    _, x, _, _, model = fixture_model
    if model is None:
        pytest.skip("needs libdrsn (--oracle-only)")
    xb = _batch(x, 7)
    (full,) = model.run(xb)
    for i in range(7):
        (single,) = model.run(xb[i:i + 1])
        np.testing.assert_allclose(single[0], full[i], rtol=0, atol=ATOL)


def test_introspection(fixture_model):
    _, x, y, session, model = fixture_model
    if model is None:
        pytest.skip("needs libdrsn (--oracle-only)")
    (inp,) = model.inputs
    (out,) = model.outputs
    assert inp.name == session.get_inputs()[0].name
    assert out.name == session.get_outputs()[0].name
    assert inp.shape == (None,) + x.shape[1:]
    assert out.shape == (None,) + y.shape[1:]
    assert inp.dtype == np.float32 and out.dtype == np.float32
