"""`drsn monitor` (bindings/python/drsn/cli.py) run as `python3 -m drsn` in a subprocess:
it replays the shipped bearing recording (.npy, .wav, in real time too) or reads raw samples
from stdin (float32 and 16-bit PCM, interleaved channels), prints one line per window and a
line when the majority class changes. The per-window classes are checked against
Model.run_windows on the same signal (the reference of the stream underneath), and the
recording's class against its label (IR007)."""

import json
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

import drsn
from oracle import make_model, node

REPO_ROOT = Path(__file__).resolve().parents[2]
BINDING = REPO_ROOT / "bindings" / "python"
BEARING = REPO_ROOT / "examples" / "bearing"
MODEL = BEARING / "model" / "drsn_cwru.onnx"
CLASSES = BEARING / "data" / "classes.json"
TAIL = BEARING / "data" / "IR007_1_tail.npy"
NAMES = json.loads(CLASSES.read_text())

pytestmark = pytest.mark.usefixtures("needs_library")


def monitor(*args, stdin=None, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(BINDING) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "drsn", "monitor", *map(str, args)], input=stdin,
                          capture_output=True, env=env, timeout=timeout, cwd=str(REPO_ROOT))


def events(p):
    assert p.returncode == 0, p.stderr.decode()
    assert b"Traceback" not in p.stderr
    records = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert records and records[-1]["event"] == "end"
    return records


def expected_labels(signal, window, hop, model=MODEL):
    with drsn.Model(model) as m:
        (logits, *_rest) = m.run_windows(signal, window, hop)
    return logits.argmax(axis=1).tolist()


def test_replays_the_bearing_recording():
    signal = np.load(TAIL)
    p = monitor(MODEL, TAIL, "--window", 2048, "--hop", 512, "--classes", CLASSES, "--rate", 12000, "--jsonl")
    records = events(p)
    windows = [r for r in records if r["event"] == "window"]
    labels = expected_labels(signal, 2048, 512)
    assert [w["label"] for w in windows] == labels
    assert [w["start"] for w in windows] == [512 * k for k in range(len(labels))]
    assert windows[3]["time"] == pytest.approx(3 * 512 / 12000)
    assert all(0 < w["confidence"] <= 1 and w["latency_ms"] >= 0 for w in windows)
    assert records[-1]["majority"] == "IR007" and records[-1]["windows"] == len(labels)
    majority = [r for r in records if r["event"] == "majority"]
    assert majority and majority[0]["index"] == 0 and majority[-1]["class"] == "IR007"


def test_human_output():
    p = monitor(MODEL, TAIL, "--window", 2048, "--hop", 1024, "--classes", CLASSES, "--rate", 12000)
    assert p.returncode == 0, p.stderr.decode()
    lines = p.stdout.decode().splitlines()
    n = drsn.window_count(np.load(TAIL).size, 2048, 1024)
    window_lines = [line for line in lines if " window " in line]
    assert len(window_lines) == n and all("IR007" in line for line in window_lines[1:])
    assert "0.085 s" in window_lines[1]                        # 1024 / 12000
    assert any("majority -> IR007" in line for line in lines)
    assert "majority IR007" in p.stderr.decode()


def write_wav(path, signal, rate=12000, channels=1):
    pcm = np.round(signal / np.abs(signal).max() * 32000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def test_wav_in_real_time(tmp_path):
    signal = np.load(TAIL)[:6000]                              # 0.5 s at 12 kHz
    path = tmp_path / "rec.wav"
    write_wav(path, signal)
    t0 = time.monotonic()
    p = monitor(MODEL, path, "--window", 2048, "--hop", 512, "--classes", CLASSES, "--realtime", "--jsonl")
    elapsed = time.monotonic() - t0
    records = events(p)
    windows = [r for r in records if r["event"] == "window"]
    assert len(windows) == drsn.window_count(6000, 2048, 512)
    assert all(w["class"] == "IR007" for w in windows) and records[-1]["majority"] == "IR007"
    assert windows[1]["time"] == pytest.approx(512 / 12000)   # the rate comes from the file
    assert elapsed >= 0.45                                     # replayed at its rate, not faster


def test_stdin_float32_and_pcm16():
    signal = np.load(TAIL)[:12000]
    labels = expected_labels(signal, 2048, 1024)
    p = monitor(MODEL, "--window", 2048, "--hop", 1024, "--classes", CLASSES, "--jsonl",
                stdin=signal.astype("<f4").tobytes())
    assert [r["label"] for r in events(p) if r["event"] == "window"] == labels
    scaled = signal / np.abs(signal).max() * 0.9
    pcm = np.round(scaled * 32767).astype("<i2")
    p = monitor(MODEL, "-", "--format", "s16", "--rate", 12000, "--window", 2048, "--hop", 1024,
                "--classes", CLASSES, "--jsonl", stdin=pcm.tobytes())
    records = events(p)
    assert [r["label"] for r in records if r["event"] == "window"] == \
        expected_labels((pcm.astype(np.float32) / 32768).astype(np.float32), 2048, 1024)
    assert records[-1]["majority"] == "IR007"


def test_stdin_interleaved_channels(tmp_path):
    """Two channels arrive interleaved; the windows are run_windows' on [2, length]."""
    rng = np.random.default_rng(3)
    inits = {"w": rng.uniform(-1, 1, (4, 2, 3)).astype(np.float32), "fw": rng.uniform(-1, 1, (3, 4)).astype(np.float32)}
    nodes = [node("Conv", ["x", "w"], ["c"], kernel_shape=[3]), node("Relu", ["c"], ["r"]),
             node("GlobalAveragePool", ["r"], ["g3"]), node("Flatten", ["g3"], ["g"]),
             node("Gemm", ["g", "fw"], ["y"], transB=1)]
    path = tmp_path / "two.onnx"
    path.write_bytes(make_model(nodes, [("x", ["N", 2, "W"])], ["y"], inits).SerializeToString())
    signal = np.stack([rng.standard_normal(3000) * 2, np.sin(np.arange(3000) / 7) + 0.1 * rng.standard_normal(3000)])
    signal = signal.astype(np.float32)
    p = monitor(path, "--channels", 2, "--window", 64, "--hop", 48, "--jsonl",
                stdin=np.ascontiguousarray(signal.T).astype("<f4").tobytes())
    records = events(p)
    assert [r["label"] for r in records if r["event"] == "window"] == expected_labels(signal, 64, 48, model=path)
    assert [r["class"] for r in records if r["event"] == "window"][0].startswith("class ")


def test_majority_changes():
    """Normal windows then IR007 windows: the majority of the last 3 goes Normal -> IR007."""
    windows = np.load(BEARING / "data" / "test_windows.npy")
    labels = np.load(BEARING / "data" / "test_labels.npy")
    with drsn.Model(MODEL) as m:
        (logits,) = m.run_windows(windows.reshape(-1), 2048, 2048)
    right = logits.argmax(axis=1) == labels
    normal = windows[(labels == 0) & right][:5]
    ir007 = windows[(labels == 4) & right][:6]
    signal = np.concatenate([normal.reshape(-1), ir007.reshape(-1)]).astype(np.float32)
    p = monitor(MODEL, "--window", 2048, "--vote", 3, "--classes", CLASSES, "--jsonl",
                stdin=signal.astype("<f4").tobytes())
    records = events(p)
    changes = [(r["index"], r["class"]) for r in records if r["event"] == "majority"]
    assert changes == [(0, "Normal"), (6, "IR007")]            # window 6: 2 of the last 3 are IR007
    assert records[-1]["majority"] == "IR007"


def test_errors(tmp_path):
    def one_line_error(p, fragment, status):
        assert p.returncode == status, p.stderr.decode()
        lines = p.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("drsn: error: ") and fragment in lines[0], lines
    one_line_error(monitor(MODEL, "--window", 2048, "--realtime", stdin=b""), "--realtime", 2)
    one_line_error(monitor(MODEL, TAIL, "--window", 2048, "--realtime"), "--rate", 2)
    one_line_error(monitor(MODEL, TAIL, "--window", 1024), "2048", 1)
    one_line_error(monitor(MODEL, "--window", 2048, "--channels", 2, stdin=b""), "channel", 1)
    one_line_error(monitor(MODEL, "--window", 2048, "--format", "u8", stdin=b""), "format", 2)
    one_line_error(monitor(MODEL, tmp_path / "missing.npy", "--window", 2048), "does not exist", 1)
    # empty stdin: no windows, a clean end
    p = monitor(MODEL, "--window", 2048, "--jsonl", stdin=b"")
    assert events(p)[-1] == {"event": "end", "windows": 0, "majority": None}
