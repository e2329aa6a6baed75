"""The benchmark models (benchmarks/models/*.onnx, TorchScript exports of DRSN-CW and
DRSN-CS networks, see benchmarks/export_models.py) as correctness fixtures: drsn must
agree with onnxruntime within 1e-4 absolute at batch 1 and batch 7, on the committed
input (<name>.in.npy, batch 64, sliced).
"""

from pathlib import Path

import numpy as np
import pytest

import drsn
import oracle
from oracle import compare, ort_run, ort_session

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "benchmarks" / "models"
MODELS = sorted(MODELS_DIR.glob("*.onnx"))

if not MODELS:
    pytest.skip(f"no benchmark models in {MODELS_DIR}", allow_module_level=True)


@pytest.fixture(scope="module", params=MODELS, ids=lambda p: p.stem)
def bench_model(request):
    path = request.param
    x = np.load(path.with_name(path.stem + ".in.npy"))
    session = ort_session(path.read_bytes())
    model = None if oracle.ORACLE_ONLY else drsn.Model(path)
    yield path, x, session, model
    if model is not None:
        model.close()


def test_input_file(bench_model):
    path, x, session, _ = bench_model
    (inp,) = session.get_inputs()
    assert x.dtype == np.float32 and x.flags.c_contiguous
    assert x.shape[0] == 64 and list(x.shape[1:]) == list(inp.shape[1:]), (path.name, x.shape)


@pytest.mark.parametrize("batch", [1, 7])
def test_against_onnxruntime(bench_model, batch):
    path, x, session, model = bench_model
    xb = np.ascontiguousarray(x[:batch])
    expected = ort_run(session, {session.get_inputs()[0].name: xb})
    if model is None:
        return
    actual = model.run_dict({model.inputs[0].name: xb})
    worst = compare(actual, expected, context=f"{path.name} batch {batch}")
    print(f"\n{path.name}: batch {batch} max |drsn - onnxruntime| = {worst:.3e}")


def test_introspection(bench_model, needs_library):
    path, x, session, model = bench_model
    (inp,) = model.inputs
    (out,) = model.outputs
    assert (inp.name, out.name) == ("input", "logits")
    assert inp.shape == (None,) + x.shape[1:]
    assert out.shape == (None, 10)
