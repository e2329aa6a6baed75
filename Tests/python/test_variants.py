"""DRSN variants beyond the classifier zoo (Tests/models/variants/*.onnx, written by
Tests/models/export_variants.py from PyTorch with the TorchScript and the dynamo exporter):
a DRSN feature extractor followed by a GRU or a 2-layer bidirectional LSTM, a denoising
autoencoder with a ConvTranspose1d decoder, and a DRSN with a LayerNorm / self-attention
block.

Each model must reproduce PyTorch's stored output (<name>.torch.npy on <name>.in.npy) and
agree with onnxruntime run live (batch 1, 3 and 5; one and two threads) within 1e-4 of the
output scale (the largest |value| of the reference output), and have its shrinkage units
fused. A model that needs an operator drsn does not have yet is skipped with that
operator's name, but only for the operators listed in PENDING_OPERATORS (being added in
parallel); any other load error fails.
"""

from pathlib import Path

import numpy as np
import onnx
import pytest

import drsn
import oracle
from oracle import compare, ort_run, ort_session

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIANTS = REPO_ROOT / "Tests" / "models" / "variants"
MODELS = sorted(VARIANTS.glob("*.onnx"))
RTOL = 1e-4
# Operators the exported graphs may need that other work adds to drsn; a model refused for
# one of them is skipped (with its name), never for anything else.
PENDING_OPERATORS = ("LayerNormalization", "Pow", "Sqrt", "Erf", "Tanh", "Gelu", "Split")

if not MODELS:
    pytest.skip(f"no variant models in {VARIANTS} (run Tests/models/export_variants.py)", allow_module_level=True)


def _stem(path: Path) -> str:
    return path.name[: -len(".onnx")]


def _batch(x: np.ndarray, n: int) -> np.ndarray:
    reps = -(-n // x.shape[0])
    return np.ascontiguousarray(np.concatenate([x] * reps, axis=0)[:n])


def _load(data, num_threads=None):
    """The drsn model, or a skip naming the pending operator it needs."""
    if oracle.ORACLE_ONLY:
        pytest.skip("needs libdrsn (--oracle-only)")
    try:
        return drsn.Model(data, num_threads=num_threads)
    except drsn.UnsupportedError as exc:
        pending = [op for op in PENDING_OPERATORS if f"unsupported operator '{op}'" in str(exc)]
        if not pending:
            raise
        pytest.skip(f"needs operator {pending[0]}, not in drsn yet: {str(exc).split(';')[0]}")


def _tolerance(reference: np.ndarray) -> float:
    return RTOL * float(np.max(np.abs(reference)))


@pytest.fixture(scope="module", params=MODELS, ids=_stem)
def variant(request):
    path = request.param
    stem = _stem(path)
    x = np.load(path.with_name(stem + ".in.npy"))
    y = np.load(path.with_name(stem + ".torch.npy"))
    return path, x, y, ort_session(path.read_bytes())


def test_files(variant):
    path, x, y, session = variant
    assert path.stat().st_size < 200_000, f"{path.name}: {path.stat().st_size} bytes"
    assert x.dtype == np.float32 and y.dtype == np.float32 and x.shape[0] == 3 and y.shape[0] == 3
    oracle.validate(onnx.load(path))
    live = next(iter(ort_run(session, {"input": x}).values()))
    np.testing.assert_allclose(live, y, rtol=0, atol=_tolerance(y), err_msg="onnxruntime vs PyTorch")


def test_matches_pytorch(variant):
    path, x, y, _ = variant
    with _load(path) as model:
        worst = compare(model.run_dict({"input": x}), {model.outputs[0].name: y}, atol=_tolerance(y),
                        context=f"{path.name} vs PyTorch")
    print(f"\n{path.name}: max |drsn - PyTorch| = {worst:.3e} (scale {np.max(np.abs(y)):.3g})")


@pytest.mark.parametrize("threads", [1, 2])
def test_matches_onnxruntime(variant, threads):
    path, x, _, session = variant
    with _load(path, num_threads=threads) as model:
        for batch in (1, 3, 5):
            xb = _batch(x, batch)
            expected = ort_run(session, {"input": xb})
            scale = _tolerance(next(iter(expected.values())))
            worst = compare(model.run_dict({"input": xb}), expected, atol=scale,
                            context=f"{path.name} batch {batch}, {threads} thread(s)")
            print(f"\n{path.name}: batch {batch}, {threads} thread(s): max |drsn - onnxruntime| = {worst:.3e}")


def test_shrinkage_units_fused(variant):
    path, x, _, _ = variant
    graph = onnx.load(path)
    # one Sigmoid per threshold network: the recurrent, decoder and attention parts add none
    expected = sum(1 for n in graph.graph.node if n.op_type == "Sigmoid")
    assert expected > 0
    with _load(path) as model:
        units = model.summary().get("shrinkage_units", [])
        assert len(units) == expected, f"{path.name}: {len(units)} units fused, the graph has {expected}"
        assert len(model.shrinkage_units(x.shape)) == expected


NORM_MODELS = [p for p in MODELS if any(n.op_type == "LayerNormalization" for n in onnx.load(p).graph.node)]


@pytest.mark.parametrize("path", NORM_MODELS, ids=_stem)
def test_attention_block_with_norm_bypassed(path):
    # Everything but LayerNormalization (self-attention: batched MatMul of two runtime
    # tensors, Softmax, transposes), checked now: the norm becomes an Identity in both runtimes.
    model = onnx.load(path)
    for n in model.graph.node:
        if n.op_type == "LayerNormalization":
            inputs, outputs, name = [n.input[0]], [n.output[0]], n.name
            n.Clear()
            n.op_type, n.name = "Identity", name
            n.input.extend(inputs)
            n.output.extend(outputs)
    data = model.SerializeToString()
    x = np.load(path.with_name(_stem(path) + ".in.npy"))
    expected = ort_run(ort_session(data), {"input": x})
    if oracle.ORACLE_ONLY:
        return
    with drsn.Model(data) as m:
        compare(m.run_dict({"input": x}), expected, atol=_tolerance(next(iter(expected.values()))),
                context=f"{path.name} with LayerNormalization bypassed")
