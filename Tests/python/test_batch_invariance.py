"""Batch invariance: a sample's outputs are the same bits whatever batch it runs in.

drsn_model_run_windows promises that its results equal running the normalised windows as
one batch (whatever batch_size cuts them into), and a stream (drsn_stream_push) runs the
windows each push completes as one batch, so that it gives run_windows' bits. That needs
every kernel to compute a sample's values in an order that does not depend on the other
samples: here the matrix products (Gemm, MatMul), whose one-row case (batch 1) has its own
path, and whose rows are split among threads, are run on each row alone and in batches of
2 to 13, bit for bit. The oracle for the values themselves is onnxruntime (to 1e-4)."""

import numpy as np
import pytest

import drsn
from oracle import make_model, node, ort_run, ort_session

pytestmark = pytest.mark.usefixtures("needs_library")

BATCHES = (2, 5, 7, 13)


def gemm_model(k, n, trans_a, trans_b, alpha, beta, c_kind, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    inits = {"w": w}
    inputs = ["x", "w"]
    if c_kind == "bias":
        inits["c"] = rng.standard_normal(n).astype(np.float32)
        inputs.append("c")
    elif c_kind == "column":
        inits["c"] = rng.standard_normal((1, n)).astype(np.float32)
        inputs.append("c")
    shape = ["k", "N"] if trans_a else ["N", "k"]
    shape = [k if d == "k" else d for d in shape]
    attrs = dict(transA=int(trans_a), transB=int(trans_b), alpha=alpha, beta=beta)
    return make_model([node("Gemm", inputs, ["y"], **attrs)], [("x", shape)], ["y"], inits)


def rows_alone_and_batched(model_bytes, make_input, rows_of, threads):
    model = drsn.Model(model_bytes, num_threads=threads)
    rng = np.random.default_rng(1)
    for batch in BATCHES:
        x = make_input(batch, rng)
        (y,) = model.run(x)
        for i in range(batch):
            (alone,) = model.run(np.ascontiguousarray(rows_of(x, i)))
            np.testing.assert_array_equal(alone[0], y[i], err_msg=f"row {i} of a batch of {batch}")
    return model


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("k, n", [(5, 1), (64, 10), (300, 3), (600, 70), (33, 129)])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_rows_do_not_depend_on_the_batch(k, n, trans_b, threads):
    for trans_a, alpha, beta, c_kind in ((False, 1.0, 1.0, "bias"), (False, 0.7, 0.5, "column"),
                                         (True, 1.3, 0.0, None)):
        proto = gemm_model(k, n, trans_a, trans_b, alpha, beta, c_kind, seed=k * 1000 + n)
        data = proto.SerializeToString()
        if trans_a:
            make = lambda b, rng: rng.standard_normal((k, b)).astype(np.float32)  # noqa: E731
            rows = lambda x, i: x[:, i:i + 1]  # noqa: E731
        else:
            make = lambda b, rng: rng.standard_normal((b, k)).astype(np.float32)  # noqa: E731
            rows = lambda x, i: x[i:i + 1]  # noqa: E731
        model = rows_alone_and_batched(data, make, rows, threads)
        x = make(7, np.random.default_rng(3))
        (y,) = model.run(x)
        oracle = ort_run(ort_session(data), {"x": x})["y"]
        assert float(np.abs(y - oracle).max()) <= 1e-4 * max(1.0, float(np.abs(oracle).max()))


@pytest.mark.parametrize("k, n", [(7, 1), (300, 20)])
def test_matmul_rows_do_not_depend_on_the_batch(k, n):
    w = np.random.default_rng(k).standard_normal((k, n)).astype(np.float32)
    data = make_model([node("MatMul", ["x", "w"], ["y"])], [("x", ["N", k])], ["y"],
                      {"w": w}).SerializeToString()
    rows_alone_and_batched(data, lambda b, rng: rng.standard_normal((b, k)).astype(np.float32),
                           lambda x, i: x[i:i + 1], threads=2)


def test_bearing_model_windows_alone_and_batched():
    """The shipped bearing DRSN: every window alone gives its bits from a batch of 13."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    model = drsn.Model(root / "examples" / "bearing" / "model" / "drsn_cwru.onnx")
    signal = np.load(root / "examples" / "bearing" / "data" / "IR007_1_tail.npy")[: 2048 + 12 * 700]
    (batched,) = model.run_windows(signal, 2048, 700, batch_size=13)
    (alone,) = model.run_windows(signal, 2048, 700, batch_size=1)
    (mixed,) = model.run_windows(signal, 2048, 700, batch_size=4)
    assert batched.shape == (13, 10)
    np.testing.assert_array_equal(alone, batched)
    np.testing.assert_array_equal(mixed, batched)
