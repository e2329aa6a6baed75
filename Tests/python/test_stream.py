"""Streaming inference (drsn.Stream, drsn_stream_*) against Model.run_windows
(drsn_model_run_windows) on the whole signal, the reference: for any chunking of the signal,
the windows a stream returns, their start samples and their outputs must be run_windows',
bit for bit (run_windows itself is checked against hand-cut windows and onnxruntime in
test_windows.py).

Models: the shipped bearing DRSN (one channel, windows of 2048) and small models built
here with a symbolic window length and 1-3 channels (Conv -> Relu -> GlobalAveragePool ->
Gemm, two outputs), so that many windows, hops and chunkings run in little time."""

import threading
import zlib
from ctypes import byref, c_size_t, c_void_p
from pathlib import Path

import numpy as np
import pytest

import drsn
from oracle import make_model, node

REPO_ROOT = Path(__file__).resolve().parents[2]
BEARING = REPO_ROOT / "examples" / "bearing"
CWRU_MODEL = BEARING / "model" / "drsn_cwru.onnx"
TAIL = BEARING / "data" / "IR007_1_tail.npy"
STATUS_BUFFER_TOO_SMALL = drsn.BufferTooSmallError.STATUS

pytestmark = pytest.mark.usefixtures("needs_library")


def small_model(channels: int, rank3: bool = True, seed: int = 0) -> bytes:
    """x [N, C, W] (or [N, W]) -> Conv(C->4, k3) -> Relu -> GAP -> Flatten -> Gemm: y [N, 3],
    and the pooled features g [N, 4] as a second output."""
    rng = np.random.default_rng(seed)
    inits = {"w": rng.uniform(-1, 1, (4, channels, 3)).astype(np.float32),
             "b": rng.uniform(-0.5, 0.5, 4).astype(np.float32),
             "fw": rng.uniform(-1, 1, (3, 4)).astype(np.float32),
             "fb": rng.uniform(-0.5, 0.5, 3).astype(np.float32)}
    nodes = []
    x = "x"
    if not rank3:
        inits["axes"] = np.array([1], np.int64)
        nodes.append(node("Unsqueeze", ["x", "axes"], ["x3"]))
        x = "x3"
    nodes += [node("Conv", [x, "w", "b"], ["c"], kernel_shape=[3], pads=[1, 1]),
              node("Relu", ["c"], ["r"]),
              node("GlobalAveragePool", ["r"], ["g3"]),
              node("Flatten", ["g3"], ["g"]),
              node("Gemm", ["g", "fw", "fb"], ["y"], transB=1)]
    shape = ["N", channels, "W"] if rank3 else ["N", "W"]
    return make_model(nodes, [("x", shape)], ["y", "g"], inits).SerializeToString()


@pytest.fixture(scope="module")
def small_models():
    models = {c: drsn.Model(small_model(c, seed=c)) for c in (1, 2, 3)}
    models["rank2"] = drsn.Model(small_model(1, rank3=False, seed=7))
    yield models
    for m in models.values():
        m.close()


@pytest.fixture(scope="module")
def cwru():
    with drsn.Model(CWRU_MODEL) as model:
        yield model


@pytest.fixture(scope="module")
def tail():
    return np.load(TAIL)


def chunk_sizes(rng, total, window, mode):
    """Chunk sizes summing to `total`: single frames, sizes up to several windows, or a mix
    with empty pushes."""
    sizes = []
    left = total
    while left > 0:
        if mode == "frames":
            n = 1
        elif mode == "large":
            n = int(rng.integers(window // 2 + 1, 4 * window + 2))
        else:
            n = int(rng.choice([0, 1, int(rng.integers(1, window + 1)), int(rng.integers(1, 3 * window))]))
        n = min(n, left)
        sizes.append(n)
        left -= n
    return sizes


def stream_all(stream, signal, sizes, flush=True):
    """Pushes `signal` ([channels, length] or [length]) in chunks of `sizes`; returns
    (starts, outputs) of every push (and the flush) joined."""
    starts, outputs = [], []
    pos = 0
    for n in sizes:
        result = stream.push(signal[..., pos:pos + n])
        pos += n
        starts.append(result.starts)
        outputs.append(result.outputs)
        assert all(o.shape[0] == result.starts.shape[0] for o in result.outputs)
    if flush:
        result = stream.flush()
        starts.append(result.starts)
        outputs.append(result.outputs)
    joined = [np.concatenate([o[j] for o in outputs]) for j in range(len(outputs[0]))]
    return np.concatenate(starts), joined


def assert_same_as_run_windows(model, signal, window, hop, starts, outputs, **options):
    expected = model.run_windows(signal, window, hop, **options)
    n = drsn.window_count(signal.shape[-1], window, hop)
    assert starts.dtype == np.int64
    np.testing.assert_array_equal(starts, np.arange(n, dtype=np.int64) * hop)
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)  # bit for bit (NaN where run_windows has NaN)


# ---- the property: any chunking gives run_windows' bits --------------------------------------

CASES = [  # (model key, window, hop)
    (1, 16, 5), (1, 16, 16), (1, 16, 23), (1, 40, 1), (2, 24, 7), (2, 24, 24), (2, 12, 30),
    (3, 20, 9), (3, 33, 33), (3, 8, 13), ("rank2", 16, 4), ("rank2", 10, 25),
]
NORMALIZE = [("zscore", 1e-8), ("zscore", 0.5), (None, 1e-8)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("key, window, hop", CASES)
@pytest.mark.parametrize("normalize, epsilon", NORMALIZE, ids=["zscore", "zscore-eps0.5", "none"])
def test_random_chunkings_give_run_windows_bits(small_models, key, window, hop, normalize, epsilon, seed):
    model = small_models[key]
    channels = 1 if key == "rank2" else key
    seed = zlib.crc32(repr((key, window, hop, normalize, epsilon, seed)).encode())
    rng = np.random.default_rng(seed)
    length = window + hop * int(rng.integers(3, 12)) + int(rng.integers(0, hop + 3))
    signal = (rng.standard_normal((channels, length)) * 3 + rng.uniform(-5, 5, (channels, 1)))
    signal = signal.astype(np.float32)
    if channels == 1 and rng.integers(2):
        signal = signal[0]  # 1-D chunks too
    for mode, batch_size, max_waiting in (("frames", 64, 0), ("large", 3, 0), ("mixed", 1, 2),
                                          ("mixed", 64, 0), ("large", 64, 5)):
        sizes = chunk_sizes(rng, length, window, mode)
        with model.stream(window=window, hop=hop, channels=channels, normalize=normalize,
                          epsilon=epsilon, batch_size=batch_size, max_waiting=max_waiting) as stream:
            starts, outputs = stream_all(stream, signal, sizes)
        assert_same_as_run_windows(model, signal, window, hop, starts, outputs,
                                   normalize=normalize, epsilon=epsilon)


@pytest.mark.parametrize("hop", [512, 2048, 3000])
def test_bearing_recording_in_random_chunks(cwru, tail, hop):
    rng = np.random.default_rng(hop)
    signal = tail[: 2048 + 20 * hop] if hop > 512 else tail[:20000]
    sizes = chunk_sizes(rng, signal.size, 2048, "mixed")
    with cwru.stream(window=2048, hop=hop) as stream:
        starts, outputs = stream_all(stream, signal, sizes)
    assert_same_as_run_windows(cwru, signal, 2048, hop, starts, outputs)
    assert np.mean(outputs[0].argmax(axis=1) == 4) > 0.9  # IR007


def test_a_push_returns_the_windows_it_completed(small_models):
    model = small_models[1]
    signal = np.random.default_rng(0).standard_normal(100).astype(np.float32)
    with model.stream(window=10, hop=4) as stream:
        assert stream.push(signal[:9]).starts.size == 0           # window 0 needs 10 frames
        assert stream.push(signal[9:10]).starts.tolist() == [0]   # frame 9 completes it
        assert stream.push(signal[10:22]).starts.tolist() == [4, 8, 12]
        assert stream.push(signal[22:22]).starts.size == 0        # zero frames
        assert stream.flush().starts.size == 0                    # nothing waits
        # an incomplete window survives flush: frames 16..23 of window 16 are in
        assert stream.push(signal[22:26]).starts.tolist() == [16]


def test_max_waiting_is_the_latency_bound(small_models):
    model = small_models[2]
    signal = np.random.default_rng(1).standard_normal((2, 8 + 4 * 30)).astype(np.float32)
    with model.stream(window=8, hop=4, channels=2, max_waiting=3) as stream:
        returned = [stream.push(signal[:, :8]).starts.size]
        for k in range(30):
            returned.append(stream.push(signal[:, 8 + 4 * k: 12 + 4 * k]).starts.size)
        # windows wait until 4 are complete, then run together
        assert returned[:9] == [0, 0, 0, 4, 0, 0, 0, 4, 0]
        tail = stream.flush()
        assert sum(returned) + tail.starts.size == 31
        assert tail.starts.size == 31 % 4


def test_reset_starts_over(small_models):
    model = small_models[1]
    rng = np.random.default_rng(3)
    a = rng.standard_normal(300).astype(np.float32)
    b = rng.standard_normal(250).astype(np.float32)
    with model.stream(window=20, hop=7) as stream:
        stream.push(a[:123])                                  # leave frames and windows inside
        stream.reset()
        starts, outputs = stream_all(stream, b, chunk_sizes(rng, b.size, 20, "mixed"))
    assert_same_as_run_windows(model, b, 20, 7, starts, outputs)


def test_process_iterates_a_chunk_source(cwru, tail):
    signal = tail[:12000]

    def source():
        for pos in range(0, signal.size, 1000):
            yield signal[pos:pos + 1000]

    with cwru.stream(window=2048, hop=1024, max_waiting=2) as stream:
        results = list(stream.process(source()))
    assert all(r.starts.size > 0 for r in results)
    starts = np.concatenate([r.starts for r in results])
    outputs = [np.concatenate([r.outputs[0] for r in results])]
    assert_same_as_run_windows(cwru, signal, 2048, 1024, starts, outputs)


def test_introspection_per_window(cwru, tail):
    signal = tail[:2048 + 9 * 700]
    windows = np.stack([signal[k * 700:k * 700 + 2048] for k in range(10)]).astype(np.float64)
    windows = ((windows - windows.mean(1, keepdims=True)) / (windows.std(1, keepdims=True) + 1e-8))
    outputs, thresholds, zeroed = cwru.run_introspect(windows.astype(np.float32)[:, None, :])
    rng = np.random.default_rng(5)
    with cwru.stream(window=2048, hop=700, introspect=True) as stream:
        parts = [stream.push(signal[p:p + n]) for p, n in
                 zip(np.cumsum([0] + chunk_sizes(rng, signal.size, 2048, "mixed")),
                     chunk_sizes(np.random.default_rng(5), signal.size, 2048, "mixed"))]
    assert all(isinstance(r, drsn.StreamIntrospection) for r in parts)
    got_t = [np.concatenate([r.thresholds[u] for r in parts]) for u in range(len(thresholds))]
    got_z = [np.concatenate([r.zero_fractions[u] for r in parts]) for u in range(len(zeroed))]
    got_y = np.concatenate([r.outputs[0] for r in parts])
    assert len(thresholds) > 0
    np.testing.assert_array_equal(got_y, cwru.run_windows(signal, 2048, 700)[0])
    np.testing.assert_allclose(got_y, outputs[0], atol=1e-5)  # hand-normalised windows
    for u in range(len(thresholds)):
        assert got_t[u].shape == thresholds[u].shape and got_z[u].shape == zeroed[u].shape
        np.testing.assert_allclose(got_t[u], thresholds[u], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got_z[u], zeroed[u], atol=2e-3)


def test_introspection_is_batch_invariant(cwru, tail):
    """Thresholds and zeroed fractions from one-window pushes equal those of one batch."""
    signal = tail[:2048 + 7 * 512]
    with cwru.stream(window=2048, hop=512, introspect=True) as one:
        whole = one.push(signal)
    with cwru.stream(window=2048, hop=512, introspect=True) as many:
        parts = [many.push(signal[:2048])] + [many.push(signal[2048 + 512 * k:2560 + 512 * k])
                                              for k in range(7)]
    assert whole.starts.size == 8 and all(p.starts.size == 1 for p in parts)
    for u in range(len(whole.thresholds)):
        np.testing.assert_array_equal(np.concatenate([p.thresholds[u] for p in parts]), whole.thresholds[u])
        np.testing.assert_array_equal(np.concatenate([p.zero_fractions[u] for p in parts]),
                                      whole.zero_fractions[u])


# ---- the room contract of the C API: nothing is lost ------------------------------------------

@pytest.mark.parametrize("window, hop", [(12, 5), (4, 5)])
def test_too_small_buffers_lose_nothing(small_models, window, hop):
    """drsn_stream_push with room for fewer windows than are ready: the first ones are
    written, the rest stay pending (DRSN_ERR_BUFFER_TOO_SMALL), later calls return them."""
    model = small_models[2]
    lib = drsn._library.load()
    rng = np.random.default_rng(11)
    signal = rng.standard_normal((2, 400)).astype(np.float32)
    expected_y, expected_g = model.run_windows(signal, window, hop)
    with model.stream(window=window, hop=hop, channels=2) as stream:
        handle = stream._handle
        got_starts, got_y, got_g = [], [], []

        def call(frames_array, capacity):
            y = np.full((max(capacity, 1), 3), np.nan, np.float32)
            g = np.full((max(capacity, 1), 4), np.nan, np.float32)
            starts = np.full(max(capacity, 1), -1, np.int64)
            outs = (c_void_p * 2)(y.ctypes.data, g.ctypes.data)
            written, pending = c_size_t(99), c_size_t(99)
            if frames_array is None:
                status = lib.stream_flush(handle, capacity, 2, outs, starts.ctypes.data, 0, None, None,
                                          byref(written), byref(pending))
            else:
                chunk = np.ascontiguousarray(frames_array)
                status = lib.stream_push(handle, chunk.ctypes.data if chunk.shape[1] else None, 2,
                                         chunk.shape[1], 0, capacity, 2, outs, starts.ctypes.data,
                                         0, None, None, byref(written), byref(pending))
            n = written.value
            assert n <= capacity
            assert np.all(starts[n:] == -1) and np.all(np.isnan(y[n:]))  # nothing past the room
            got_starts.append(starts[:n].copy())
            got_y.append(y[:n].copy())
            got_g.append(g[:n].copy())
            return status, n, pending.value

        first = drsn.window_count(100, window, hop)              # 18 or 20 windows ready
        status, n, pending = call(signal[:, :100], 3)             # room for 3
        assert (status, n, pending) == (STATUS_BUFFER_TOO_SMALL, 3, first - 3)
        assert f"{first - 3} stay pending" in drsn._library.load().last_error().decode()
        status, n, pending = call(signal[:, 100:100], 0)          # a query: no room at all
        assert (status, n, pending) == (STATUS_BUFFER_TOO_SMALL, 0, first - 3)
        status, n, pending = call(signal[:, 100:237], 4)          # more windows
        complete = drsn.window_count(237, window, hop)
        assert (status, n, pending) == (STATUS_BUFFER_TOO_SMALL, 4, complete - 7)
        ready = c_size_t(0)
        assert lib.stream_windows_ready(handle, 0, byref(ready)) == 0 and ready.value == complete - 7
        assert lib.stream_windows_ready(handle, 163, byref(ready)) == 0
        assert ready.value == drsn.window_count(400, window, hop) - 7
        status, n, pending = call(None, 30)                    # flush with room for 30
        assert (status, n, pending) == (STATUS_BUFFER_TOO_SMALL, 30, complete - 37)
        status, n, pending = call(signal[:, 237:], 100)        # the rest: everything fits
        assert (status, pending) == (0, 0) and n == ready.value - 30
    starts = np.concatenate(got_starts)
    np.testing.assert_array_equal(starts, np.arange(expected_y.shape[0]) * hop)
    np.testing.assert_array_equal(np.concatenate(got_y), expected_y)
    np.testing.assert_array_equal(np.concatenate(got_g), expected_g)


@pytest.mark.parametrize("channels", [2, 3])
def test_interleaved_frames(small_models, channels):
    """DRSN_LAYOUT_INTERLEAVED (frame by frame, as cards deliver them) and planar chunks
    mixed in one stream give run_windows' windows of the [channels, length] signal."""
    model = small_models[channels]
    lib = drsn._library.load()
    rng = np.random.default_rng(channels)
    window, hop, length = 20, 7, 500
    signal = rng.standard_normal((channels, length)).astype(np.float32)
    expected = model.run_windows(signal, window, hop)
    n = expected[0].shape[0]
    y = np.empty((n, 3), np.float32)
    g = np.empty((n, 4), np.float32)
    starts = np.empty(n, np.int64)
    written, pending = c_size_t(0), c_size_t(0)
    done = 0
    with model.stream(window=window, hop=hop, channels=channels) as stream:
        pos = 0
        for k, size in enumerate(chunk_sizes(rng, length, window, "mixed")):
            part = signal[:, pos:pos + size]
            interleaved = k % 2 == 0
            chunk = np.ascontiguousarray(part.T if interleaved else part)
            outs = (c_void_p * 2)(y[done:].ctypes.data, g[done:].ctypes.data)
            status = lib.stream_push(stream._handle, chunk.ctypes.data if size else None, channels, size,
                                     1 if interleaved else 0, n - done, 2, outs, starts[done:].ctypes.data,
                                     0, None, None, byref(written), byref(pending))
            assert status == 0 and pending.value == 0
            done += written.value
            pos += size
    assert done == n
    np.testing.assert_array_equal(starts, np.arange(n) * hop)
    np.testing.assert_array_equal(y, expected[0])
    np.testing.assert_array_equal(g, expected[1])


# ---- bad input: a clear error, and the stream goes on -------------------------------------------

def test_bad_chunks_leave_the_stream_usable(small_models):
    model = small_models[2]
    rng = np.random.default_rng(2)
    signal = rng.standard_normal((2, 200)).astype(np.float32)
    with model.stream(window=16, hop=6, channels=2) as stream:
        parts = [stream.push(signal[:, :50])]
        with pytest.raises(drsn.DtypeError, match="float64"):
            stream.push(signal[:, 50:80].astype(np.float64))
        with pytest.raises(drsn.ShapeError, match="2 channel"):
            stream.push(signal[0, 50:80])                      # one channel
        with pytest.raises(drsn.ShapeError, match="2 channel"):
            stream.push(np.zeros((3, 30), np.float32))
        with pytest.raises(drsn.ShapeError):
            stream.push(np.zeros((1, 2, 30), np.float32))
        parts.append(stream.push(signal[:, 50:50]))            # zero frames: fine, nothing
        assert parts[-1].starts.size == 0
        parts.append(stream.push(signal[:, 50:]))
        parts.append(stream.flush())
    starts = np.concatenate([p.starts for p in parts])
    outputs = [np.concatenate([p.outputs[j] for p in parts]) for j in range(2)]
    assert_same_as_run_windows(model, signal, 16, 6, starts, outputs)


def test_nan_samples_are_computed(small_models):
    model = small_models[1]
    signal = np.random.default_rng(4).standard_normal(200).astype(np.float32)
    signal[57] = np.nan
    signal[120] = np.inf
    with model.stream(window=20, hop=10) as stream:
        starts, outputs = stream_all(stream, signal, [13] * 15 + [5])
    assert_same_as_run_windows(model, signal, 20, 10, starts, outputs)
    y = outputs[0]
    nan_rows = np.isnan(y).any(axis=1)
    assert nan_rows[4] and nan_rows[5] and not nan_rows[0] and not nan_rows[-1]


def test_c_argument_errors(small_models):
    """NULL buffers, a wrong channel count, layout or output count: an error naming the
    problem, and the stream is unchanged."""
    model = small_models[1]
    lib = drsn._library.load()
    signal = np.random.default_rng(6).standard_normal(64).astype(np.float32)
    y = np.empty((8, 3), np.float32)
    g = np.empty((8, 4), np.float32)
    outs = (c_void_p * 2)(y.ctypes.data, g.ctypes.data)
    written, pending = c_size_t(0), c_size_t(0)
    with model.stream(window=16, hop=16) as stream:
        h = stream._handle
        data = signal.ctypes.data

        def push(samples, channels, frames, layout=0, capacity=8, n_out=2, outputs=outs, units=0):
            return lib.stream_push(h, samples, channels, frames, layout, capacity, n_out, outputs, None,
                                   units, None, None, byref(written), byref(pending))

        def error():
            return lib.last_error().decode()

        assert push(None, 1, 20) == drsn.InvalidArgumentError.STATUS and "samples is NULL" in error()
        assert push(data, 2, 20) == drsn.ShapeError.STATUS and "1 channel" in error()
        assert push(data, 1, 20, layout=7) == drsn.InvalidArgumentError.STATUS and "layout" in error()
        assert push(data, 1, 20, n_out=1) == drsn.InvalidArgumentError.STATUS and "output" in error()
        assert push(data, 1, 20, outputs=None) == drsn.InvalidArgumentError.STATUS and "outputs is NULL" in error()
        nulls = (c_void_p * 2)(y.ctypes.data, None)
        assert push(data, 1, 20, outputs=nulls) == drsn.InvalidArgumentError.STATUS and "outputs[1]" in error()
        assert push(data, 1, 20, units=2) == drsn.InvalidArgumentError.STATUS and "INTROSPECT" in error()
        # no room: the frames are taken, window 0 waits
        assert push(data, 1, 20, capacity=0, outputs=None) == STATUS_BUFFER_TOO_SMALL
        assert (written.value, pending.value) == (0, 1)
        assert push(data, 1, 0) == 0 and written.value == 1       # window 0 was waiting for room
        assert lib.stream_push(None, data, 1, 20, 0, 8, 2, outs, None, 0, None, None, None, None) \
            == drsn.InvalidArgumentError.STATUS and "stream is NULL" in error()
        assert lib.stream_flush(None, 0, 2, None, None, 0, None, None, None, None) \
            == drsn.InvalidArgumentError.STATUS
        assert lib.stream_reset(None) == drsn.InvalidArgumentError.STATUS
        elements = c_size_t(0)
        assert lib.stream_output_elements(h, 1, byref(elements)) == 0 and elements.value == 4
        assert lib.stream_output_elements(h, 2, byref(elements)) == drsn.InvalidArgumentError.STATUS
        assert lib.stream_windows_ready(h, 0, None) == drsn.InvalidArgumentError.STATUS
        lib.stream_destroy(None)
        # after all that: the remaining frames give run_windows' windows 1..3
        assert push(data + 4 * 20, 1, 44) == 0 and written.value == 3
        expected = model.run_windows(signal, 16, 16)
        np.testing.assert_array_equal(y[:3], expected[0][1:4])


def test_bad_creation_arguments(small_models, cwru):
    model = small_models[1]
    for kwargs in ({"window": 0, "hop": 1}, {"window": 8, "hop": 0},
                   {"window": 8, "hop": 1, "batch_size": 0},
                   {"window": 8, "hop": 1, "normalize": "minmax"},
                   {"window": 8, "hop": 1, "epsilon": -1.0},
                   {"window": 8, "hop": 1, "epsilon": float("nan")},
                   {"window": 8, "hop": 1, "channels": 0},
                   {"window": 8, "hop": 1, "max_waiting": -1},
                   {"window": 8, "hop": 1, "introspect": "yes"}):
        with pytest.raises(drsn.InvalidArgumentError):
            model.stream(**kwargs)
    with pytest.raises(drsn.ShapeError):
        model.stream(window=8, hop=4, channels=2)          # the model takes one channel
    with pytest.raises(drsn.ShapeError):
        small_models["rank2"].stream(window=8, hop=4, channels=2)
    with pytest.raises(drsn.ShapeError):
        cwru.stream(window=1024, hop=512)                  # the model's windows are 2048 long
    lib = drsn._library.load()
    out = c_void_p(1)
    h = model._begin()
    try:
        assert lib.stream_create(h, 1, 8, 4, 9, 1e-8, 0, 0, 0, byref(out)) == drsn.InvalidArgumentError.STATUS
        assert out.value is None and "normalization" in lib.last_error().decode()
        assert lib.stream_create(h, 1, 8, 4, 1, 1e-8, 0, 0, 6, byref(out)) == drsn.InvalidArgumentError.STATUS
        assert "flags" in lib.last_error().decode()
        assert lib.stream_create(None, 1, 8, 4, 1, 1e-8, 0, 0, 0, byref(out)) == drsn.InvalidArgumentError.STATUS
        assert lib.stream_create(h, 1, 8, 4, 1, 1e-8, 0, 0, 0, None) == drsn.InvalidArgumentError.STATUS
        assert lib.stream_create(h, 1, 8, 4, 1, 1e-8, 1 << 21, 0, 0, byref(out)) == drsn.InvalidArgumentError.STATUS
    finally:
        model._end()
    two_inputs = make_model([node("Add", ["a", "b"], ["y"])], [("a", ["N", 1, 8]), ("b", ["N", 1, 8])], ["y"])
    with drsn.Model(two_inputs.SerializeToString()) as m:
        with pytest.raises(drsn.InvalidArgumentError):
            m.stream(window=8, hop=8)


def test_the_stream_outlives_a_closed_model(small_models):
    data = small_model(1, seed=21)
    model = drsn.Model(data)
    signal = np.random.default_rng(8).standard_normal(120).astype(np.float32)
    stream = model.stream(window=10, hop=10)
    first = stream.push(signal[:60])
    model.close()                                          # the stream keeps the library's model
    rest = stream.push(signal[60:])
    stream.close()
    stream.close()                                         # idempotent
    with pytest.raises(drsn.ClosedError):
        stream.push(signal)
    with drsn.Model(data) as again:
        expected = again.run_windows(signal, 10, 10)
    np.testing.assert_array_equal(np.concatenate([first.outputs[0], rest.outputs[0]]), expected[0])


def test_one_thread_at_a_time(small_models):
    with small_models[1].stream(window=8, hop=8) as stream:
        assert stream._busy.acquire()                      # as if another thread were pushing
        try:
            with pytest.raises(drsn.InvalidArgumentError, match="another thread"):
                stream.push(np.zeros(8, np.float32))
        finally:
            stream._busy.release()
        assert stream.push(np.zeros(8, np.float32)).starts.tolist() == [0]


# ---- threads: one model, a stream per thread ----------------------------------------------------

@pytest.mark.parametrize("threads_per_run", [1, 2])
def test_eight_threads_with_their_own_streams(tail, threads_per_run):
    with drsn.Model(CWRU_MODEL, num_threads=threads_per_run) as model:
        signals = [np.roll(tail[:14000], 997 * t) for t in range(8)]
        expected = [model.run_windows(s, 2048, 512) for s in signals]
        results = [None] * 8
        errors = []
        barrier = threading.Barrier(8)

        def worker(t):
            try:
                rng = np.random.default_rng(100 + t)
                with model.stream(window=2048, hop=512) as stream:
                    barrier.wait()
                    results[t] = stream_all(stream, signals[t], chunk_sizes(rng, 14000, 2048, "mixed"))
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors, errors
        for t in range(8):
            starts, outputs = results[t]
            np.testing.assert_array_equal(starts, np.arange(expected[t][0].shape[0]) * 512)
            np.testing.assert_array_equal(outputs[0], expected[t][0])
