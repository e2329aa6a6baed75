"""Sliding-window inference: Model.run_windows (drsn_model_run_windows) and
drsn.window_count against windows cut, normalised and batched by hand in numpy.

The bearing model (examples/bearing/model/drsn_cwru.onnx) runs on a full CWRU recording
from ../shared/data/cwru next to the repository (or $DRSN_CWRU_DATA) when present, else
on the shipped 3 s excerpt (examples/bearing/data/IR007_1_tail.npy). Multi-channel and
rank-2 inputs use small models built here with onnx.helper."""

import os
from pathlib import Path

import numpy as np
import pytest

import drsn
from oracle import make_model, node, ort_run, ort_session

REPO_ROOT = Path(__file__).resolve().parents[2]
BEARING = REPO_ROOT / "examples" / "bearing"
CWRU_MODEL = BEARING / "model" / "drsn_cwru.onnx"
TAIL = BEARING / "data" / "IR007_1_tail.npy"
EPS = 1e-8
TOL = 1e-5  # |run_windows - run(hand-cut windows)|

pytestmark = pytest.mark.usefixtures("needs_library")


def cwru_dir():
    for d in (os.environ.get("DRSN_CWRU_DATA"), REPO_ROOT.parent / "shared" / "data" / "cwru"):
        if d and (Path(d) / "manifest.json").is_file():
            return Path(d)
    return None


def cut(signal: np.ndarray, window: int, hop: int, normalize: bool = True, eps: float = EPS) -> np.ndarray:
    """[channels, length] (or [length]) -> [n, channels, window] windows, each window and
    channel z-scored on its own in float64 (population std), as in training."""
    s = signal[None, :] if signal.ndim == 1 else signal
    n = (s.shape[1] - window) // hop + 1
    idx = np.arange(n)[:, None] * hop + np.arange(window)[None, :]
    w = np.transpose(s[:, idx], (1, 0, 2)).astype(np.float64)
    if normalize:
        w = (w - w.mean(axis=2, keepdims=True)) / (w.std(axis=2, keepdims=True) + eps)
    return np.ascontiguousarray(w, dtype=np.float32)


@pytest.fixture(scope="module")
def cwru():
    return drsn.Model(CWRU_MODEL)


@pytest.fixture(scope="module")
def recording():
    """(name, float32 1-D signal): a full CWRU recording when present, else the excerpt."""
    d = cwru_dir()
    if d is not None and (d / "IR007_1.npy").is_file():
        return "IR007_1.npy (full)", np.load(d / "IR007_1.npy").astype(np.float32, copy=False).reshape(-1)
    return "IR007_1_tail.npy", np.load(TAIL)


def two_channel_model(window="W", rank3=True, seed=4) -> bytes:
    """x [N, 2, W] -> Conv(2->4, k5) -> Relu -> GAP -> Flatten -> Gemm -> y [N, 3]; or with
    rank3=False x [N, W] -> Unsqueeze -> the same with one channel."""
    rng = np.random.default_rng(seed)
    cin = 2 if rank3 else 1
    inits = {"w": rng.uniform(-1, 1, (4, cin, 5)).astype(np.float32),
             "b": rng.uniform(-0.5, 0.5, 4).astype(np.float32),
             "fw": rng.uniform(-1, 1, (3, 4)).astype(np.float32),
             "fb": rng.uniform(-0.5, 0.5, 3).astype(np.float32)}
    nodes = []
    x = "x"
    if not rank3:
        inits["axes"] = np.array([1], np.int64)
        nodes.append(node("Unsqueeze", ["x", "axes"], ["x3"]))
        x = "x3"
    nodes += [node("Conv", [x, "w", "b"], ["c"], kernel_shape=[5], pads=[2, 2]),
              node("Relu", ["c"], ["r"]),
              node("GlobalAveragePool", ["r"], ["g"]),
              node("Flatten", ["g"], ["f"]),
              node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
    shape = ["N", cin, window] if rank3 else ["N", window]
    return make_model(nodes, [("x", shape)], ["y"], inits).SerializeToString()


# ---- the bearing model on a real recording ------------------------------------------------

@pytest.mark.parametrize("hop", [1024, 2048])
def test_recording_matches_hand_cut_windows(cwru, recording, hop):
    name, signal = recording
    expected_windows = drsn.window_count(signal.size, 2048, hop)
    assert expected_windows == (signal.size - 2048) // hop + 1
    (by_windows,) = cwru.run_windows(signal, 2048, hop)
    (by_hand,) = cwru.run(cut(signal, 2048, hop))
    assert by_windows.shape == (expected_windows, 10) == by_hand.shape
    dev = float(np.abs(by_windows - by_hand).max())
    assert dev <= TOL, f"{name}, hop {hop}: max |run_windows - run| = {dev:.3e}"
    # the recording is IR007 (label 4): the model sees it as such
    assert np.mean(by_windows.argmax(axis=1) == 4) > 0.95


@pytest.mark.parametrize("hop", [1, 37, 500, 2048, 3001])
def test_hops(cwru, recording, hop):
    _, signal = recording
    length = 2048 + 40 if hop == 1 else 2048 + 10 * hop + hop // 2  # a partial window at the end
    s = signal[:length]
    n = drsn.window_count(s.size, 2048, hop)
    assert n == (s.size - 2048) // hop + 1
    (y,) = cwru.run_windows(s, 2048, hop, batch_size=16)
    (ref,) = cwru.run(cut(s, 2048, hop))
    assert y.shape == (n, 10)
    assert float(np.abs(y - ref).max()) <= TOL


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_batch_sizes_give_the_same_results(cwru, recording, batch_size):
    _, signal = recording
    # 100 windows: batches of 1, 7 (+ a partial one) and 64 (+ 36). Hop 320 keeps them within
    # the shipped excerpt (36,598 samples) as well as a full recording.
    s = signal[: 2048 + 99 * 320]
    assert s.size == 2048 + 99 * 320, f"{s.size} samples: the recording is too short for 100 windows"
    (y,) = cwru.run_windows(s, 2048, 320, batch_size=batch_size)
    (ref,) = cwru.run(cut(s, 2048, 320))
    assert y.shape == (100, 10)
    assert float(np.abs(y - ref).max()) <= TOL


def test_no_normalization(cwru, recording):
    _, signal = recording
    s = signal[: 2048 * 5]
    for normalize in (None, "none"):
        (y,) = cwru.run_windows(s, 2048, 2048, normalize=normalize)
        (ref,) = cwru.run(cut(s, 2048, 2048, normalize=False))
        assert float(np.abs(y - ref).max()) <= TOL


def test_epsilon(cwru, recording):
    _, signal = recording
    s = signal[: 2048 * 3]
    (y,) = cwru.run_windows(s, 2048, 2048, epsilon=0.5)
    (ref,) = cwru.run(cut(s, 2048, 2048, eps=0.5))
    assert float(np.abs(y - ref).max()) <= TOL


def test_noncontiguous_and_readonly_signal(cwru, recording):
    _, signal = recording
    s = np.ascontiguousarray(signal[: 2 * 2048 * 4])
    strided = s[::2]                      # not contiguous: copied by the binding
    assert not strided.flags.c_contiguous
    (y,) = cwru.run_windows(strided, 2048, 1024)
    (ref,) = cwru.run_windows(np.ascontiguousarray(strided), 2048, 1024)
    np.testing.assert_array_equal(y, ref)
    ro = s.copy()
    ro.flags.writeable = False
    (y_ro,) = cwru.run_windows(ro, 2048, 2048)
    assert y_ro.shape == (8, 10)


# ---- channels, input ranks -----------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_two_channels(batch_size):
    data = two_channel_model()
    model = drsn.Model(data)
    rng = np.random.default_rng(9)
    signal = np.stack([rng.standard_normal(1500) * 3 + 1, rng.standard_normal(1500) * 0.2 - 5]).astype(np.float32)
    (y,) = model.run_windows(signal, 64, 20, batch_size=batch_size)
    windows = cut(signal, 64, 20)
    assert windows.shape == (72, 2, 64)
    (ref,) = model.run(windows)
    assert y.shape == (72, 3)
    assert float(np.abs(y - ref).max()) <= TOL
    oracle = ort_run(ort_session(data), {"x": windows})["y"]
    assert float(np.abs(y - oracle).max()) <= 1e-4
    # channel-major layout matters: a [length, channels] array transposed is not contiguous
    (y_t,) = model.run_windows(np.ascontiguousarray(signal.T).T, 64, 20, batch_size=batch_size)
    np.testing.assert_array_equal(y_t, y)


def test_rank2_input():
    model = drsn.Model(two_channel_model(window=100, rank3=False))
    signal = np.random.default_rng(2).standard_normal(1000).astype(np.float32)
    (y,) = model.run_windows(signal, 100, 30)
    (ref,) = model.run(cut(signal, 100, 30)[:, 0, :])
    assert y.shape == (31, 3)
    assert float(np.abs(y - ref).max()) <= TOL
    (y2,) = model.run_windows(signal[None, :], 100, 30)  # [1, length] is one channel too
    np.testing.assert_array_equal(y2, y)
    with pytest.raises(drsn.ShapeError):
        model.run_windows(np.stack([signal, signal]), 100, 30)


# ---- errors ------------------------------------------------------------------------------------

def test_signal_shorter_than_a_window(cwru):
    with pytest.raises(drsn.ShapeError) as info:
        cwru.run_windows(np.zeros(2047, np.float32), 2048, 512)
    assert "2047" in str(info.value) and "2048" in str(info.value)
    assert drsn.window_count(2047, 2048, 512) == 0


def test_float64_signal_is_an_error(cwru, recording):
    _, signal = recording
    with pytest.raises(drsn.DtypeError) as info:
        cwru.run_windows(signal[:4096].astype(np.float64), 2048, 2048)
    assert "float64" in str(info.value)
    with pytest.raises(drsn.DtypeError):
        cwru.run_windows(np.zeros(4096, np.int16), 2048, 2048)
    with pytest.raises(drsn.DtypeError):
        cwru.run_windows([0.0] * 4096, 2048, 2048)  # a list becomes float64: refused too


def test_bad_arguments(cwru):
    s = np.zeros(4096, np.float32)
    for kwargs in ({"window": 0, "hop": 1}, {"window": 2048, "hop": 0},
                   {"window": 2048, "hop": 1, "batch_size": 0},
                   {"window": 2048, "hop": 1, "normalize": "minmax"},
                   {"window": 2048, "hop": 1, "epsilon": -1.0},
                   {"window": 2048, "hop": 1, "epsilon": float("nan")},
                   {"window": 2048.0, "hop": 1}):
        with pytest.raises(drsn.InvalidArgumentError):
            cwru.run_windows(s, **kwargs)
    with pytest.raises(drsn.ShapeError):      # rank 3
        cwru.run_windows(np.zeros((1, 1, 4096), np.float32), 2048, 2048)
    with pytest.raises(drsn.ShapeError):      # the model has one channel
        cwru.run_windows(np.zeros((2, 4096), np.float32), 2048, 2048)
    with pytest.raises(drsn.ShapeError):      # the model's input is 2048 samples long
        cwru.run_windows(s, 1024, 1024)
    with pytest.raises(drsn.InvalidArgumentError):
        drsn.window_count(100, 0, 1)
    with pytest.raises(drsn.InvalidArgumentError):
        drsn.window_count(100, 10, 0)
    assert drsn.window_count(0, 10, 1) == 0
    assert drsn.window_count(10, 10, 100) == 1
    assert drsn.window_count(109, 10, 10) == 10


def test_multi_input_model_is_refused():
    nodes = [node("Add", ["a", "b"], ["y"])]
    model = drsn.Model(make_model(nodes, [("a", ["N", 1, 8]), ("b", ["N", 1, 8])], ["y"]).SerializeToString())
    with pytest.raises(drsn.InvalidArgumentError):
        model.run_windows(np.zeros(64, np.float32), 8, 8)


def test_zscore_precision_with_a_dc_offset():
    """A DC offset large against the std: the two-pass double-precision z-score stays exact."""
    model = drsn.Model(make_model([node("Identity", ["x"], ["y"])], [("x", ["N", 1, 2048])],
                                  ["y"]).SerializeToString())
    rng = np.random.default_rng(0)
    signal = (1000.0 + 0.01 * rng.standard_normal(4096)).astype(np.float32)  # e.g. ADC counts
    (normalised,) = model.run_windows(signal, 2048, 2048)
    assert float(np.abs(normalised - cut(signal, 2048, 2048)).max()) <= 1e-4
