"""The `drsn` command-line tool (bindings/python/drsn/cli.py), run as `python3 -m drsn`
in a subprocess: inspect, run, classify, bench, and its error handling (one line
`drsn: error: ...` on stderr, non-zero exit status, never a traceback)."""

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

import drsn

REPO_ROOT = Path(__file__).resolve().parents[2]
BINDING = REPO_ROOT / "bindings" / "python"
BEARING = REPO_ROOT / "examples" / "bearing"
MODEL = BEARING / "model" / "drsn_cwru.onnx"
CLASSES = BEARING / "data" / "classes.json"
TAIL = BEARING / "data" / "IR007_1_tail.npy"

pytestmark = pytest.mark.usefixtures("needs_library")


def drsn_cli(*args, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(BINDING) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("COLUMNS", None)
    return subprocess.run([sys.executable, "-m", "drsn", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=str(REPO_ROOT))


def assert_ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    assert "Traceback" not in p.stderr


def assert_one_line_error(p, *fragments, status=None):
    assert p.returncode != 0, p.stdout
    if status is not None:
        assert p.returncode == status, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("drsn: error: "), lines[0]
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def normalise(w):
    w = w.astype(np.float64)
    return ((w - w.mean(1, keepdims=True)) / (w.std(1, keepdims=True) + 1e-8)).astype(np.float32)


# ---- commands ------------------------------------------------------------------------------------

def test_console_script_is_declared():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((BINDING / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["drsn"] == "drsn.cli:main"


def test_inspect():
    p = drsn_cli("inspect", MODEL)
    assert_ok(p)
    out = p.stdout
    for text in ("signal", "[?, 1, 2048]", "logits", "[?, 10]", "parameters", "FLOPs per sample",
                 "Conv", "BatchNormalization", "passes / fusions applied", "shrinkage units  9",
                 "unit 8: 16 threshold(s) per sample (channel-wise)"):
        assert text in out, (text, out)
    summary = drsn.Model(MODEL).summary()
    assert f"parameters       {summary['parameters']}" in out
    assert str(summary["flops_per_sample"]) in out
    for name, count in summary["operators"].items():
        assert any(line.split()[:2] == [name, str(count)] for line in out.splitlines()), name
    p = drsn_cli("inspect", MODEL, "--json")
    assert_ok(p)
    assert json.loads(p.stdout) == summary


def test_run(tmp_path):
    x = normalise(np.load(BEARING / "data" / "test_windows.npy")[:5])[:, None, :]
    np.save(tmp_path / "x.npy", x)
    p = drsn_cli("run", MODEL, tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert_ok(p)
    (expected,) = drsn.Model(MODEL).run(x)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), expected)
    p = drsn_cli("run", MODEL, tmp_path / "x.npy", "-o", tmp_path / "y.npz")
    assert_ok(p)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npz")["logits"], expected)
    p = drsn_cli("run", MODEL, tmp_path / "x.npy")  # no -o: printed
    assert_ok(p)
    assert "logits" in p.stdout and "(5, 10)" not in p.stderr


def test_classify_excerpt():
    p = drsn_cli("classify", MODEL, TAIL, "--window", 2048, "--hop", 1024, "--classes", CLASSES)
    assert_ok(p)
    assert "34 of 2048 samples, hop 1024" in p.stdout
    assert "majority class: IR007 (34/34 windows" in p.stdout
    assert "[#" not in p.stderr  # 34 windows: no progress bar
    # without class names
    p = drsn_cli("classify", MODEL, TAIL, "--window", 2048)
    assert_ok(p)
    assert "majority class: class 4" in p.stdout


def test_classify_introspect_and_progress():
    p = drsn_cli("classify", MODEL, TAIL, "--window", 2048, "--hop", 512, "--classes", CLASSES,
                 "--introspect", "--progress", "--batch-size", 16)
    assert_ok(p)
    assert "68/68 windows" in p.stderr  # the bar reached the end (68 > 50 windows)
    assert "majority class: IR007" in p.stdout
    rows = [line.split() for line in p.stdout.splitlines()
            if len(line.split()) == 4 and line.split()[0].isdigit()]
    assert [int(r[0]) for r in rows] == list(range(9))
    assert [int(r[1]) for r in rows] == [4, 4, 4, 8, 8, 8, 16, 16, 16]
    # the mean zeroed fractions equal run_introspect's on the same windows
    model = drsn.Model(MODEL)
    signal = np.load(TAIL)
    idx = np.arange(68)[:, None] * 512 + np.arange(2048)[None, :]
    _, _, fractions = model.run_introspect(normalise(signal[idx])[:, None, :])
    for r, z in zip(rows, fractions):
        assert abs(float(r[3]) - float(z.mean())) <= 1.5e-3
    p = drsn_cli("classify", MODEL, TAIL, "--window", 2048, "--hop", 512, "--no-progress", "--progress")
    assert_ok(p)
    assert "windows" not in p.stderr


def test_classify_full_recording_chunked():
    recording = Path(os.environ.get("DRSN_CWRU_DATA", REPO_ROOT.parent / "shared" / "data" / "cwru")) / "OR021at6_1.npy"
    if not recording.is_file():
        pytest.skip(f"{recording} not present")
    p = drsn_cli("classify", MODEL, recording, "--window", 2048, "--hop", 256, "--classes", CLASSES, "--progress")
    assert_ok(p)
    n = drsn.window_count(np.load(recording).size, 2048, 256)
    assert f"{n}/{n} windows" in p.stderr
    assert "majority class: OR021@6" in p.stdout


def test_classify_csv_and_wav(tmp_path):
    signal = np.load(TAIL)[: 2048 * 6]
    csv_path = tmp_path / "rec.csv"
    with open(csv_path, "w") as f:
        f.write("time,accel\n")
        for i, v in enumerate(signal):
            f.write(f"{i / 12000:.6f},{v:.7g}\n")
    p = drsn_cli("classify", MODEL, csv_path, "--window", 2048, "--column", 1, "--classes", CLASSES)
    assert_ok(p)
    assert "majority class: IR007 (6/6 windows" in p.stdout
    wav_path = tmp_path / "rec.wav"
    pcm = np.round(signal / np.abs(signal).max() * 32000).astype("<i2")
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(12000)
        w.writeframes(pcm.tobytes())
    p = drsn_cli("classify", MODEL, wav_path, "--window", 2048, "--classes", CLASSES)
    assert_ok(p)
    assert "majority class: IR007 (6/6 windows" in p.stdout


def test_bench_quick(tmp_path):
    p = drsn_cli("bench", MODEL, "--batch", "1,4", "--threads", "1", "--quick", "--json", tmp_path / "b.json")
    assert_ok(p)
    rows = json.loads((tmp_path / "b.json").read_text())
    assert [(r["batch"], r["threads"]) for r in rows] == [(1, 1), (4, 1)]
    assert all(r["drsn_ms"] > 0 for r in rows)
    try:
        import onnxruntime  # noqa: F401
        assert all(r["ratio"] > 0 for r in rows) and "ort/drsn" in p.stdout
    except ImportError:
        assert "onnxruntime: not importable" in p.stdout


def test_version_and_help():
    p = drsn_cli("--version")
    assert_ok(p)
    assert drsn.library_version() in p.stdout
    p = drsn_cli("--help")
    assert_ok(p)
    for cmd in ("inspect", "run", "classify", "bench"):
        assert cmd in p.stdout


# ---- errors ----------------------------------------------------------------------------------------

def test_missing_model():
    assert_one_line_error(drsn_cli("inspect", "/nonexistent/model.onnx"), "/nonexistent/model.onnx", status=1)


def test_not_an_onnx_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\xff\xfe not a model")
    assert_one_line_error(drsn_cli("inspect", bad), status=1)


def test_run_float64_input(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 2048)))
    assert_one_line_error(drsn_cli("run", MODEL, tmp_path / "x.npy"), "float64", status=1)


def test_run_wrong_shape(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 2, 2048), np.float32))
    assert_one_line_error(drsn_cli("run", MODEL, tmp_path / "x.npy"), "shape", status=1)


def test_run_not_npy(tmp_path):
    (tmp_path / "x.npy").write_text("hello")
    assert_one_line_error(drsn_cli("run", MODEL, tmp_path / "x.npy"), status=1)


def test_classify_errors(tmp_path):
    np.save(tmp_path / "short.npy", np.zeros(1000, np.float32))
    assert_one_line_error(drsn_cli("classify", MODEL, tmp_path / "short.npy", "--window", 2048),
                          "1000", status=1)
    assert_one_line_error(drsn_cli("classify", MODEL, TAIL, "--window", 1024), "takes windows of 2048", status=1)
    (tmp_path / "classes.json").write_text('["a", "b"]')
    assert_one_line_error(drsn_cli("classify", MODEL, TAIL, "--window", 2048, "--classes",
                                   tmp_path / "classes.json"), "2 classes", status=1)
    (tmp_path / "rec.xyz").write_text("1 2 3")
    assert_one_line_error(drsn_cli("classify", MODEL, tmp_path / "rec.xyz", "--window", 2048),
                          "format", status=1)
    assert_one_line_error(drsn_cli("classify", MODEL, tmp_path / "missing.npy", "--window", 2048),
                          "does not exist", status=1)


def test_usage_errors():
    assert_one_line_error(drsn_cli("classify", MODEL, TAIL), "--window", status=2)
    assert_one_line_error(drsn_cli("frobnicate"), status=2)
    assert_one_line_error(drsn_cli(), "choose a command", status=2)
    assert_one_line_error(drsn_cli("bench", MODEL, "--batch", "a,b"), status=2)
    assert_one_line_error(drsn_cli("classify", MODEL, TAIL, "--window", 0), status=2)


def test_library_not_found(tmp_path):
    env = dict(os.environ, DRSN_LIBRARY=str(tmp_path / "nope.so"),
               PYTHONPATH=str(BINDING))
    p = subprocess.run([sys.executable, "-m", "drsn", "inspect", str(MODEL)], capture_output=True,
                       text=True, env=env, timeout=60)
    assert_one_line_error(p, "libdrsn", status=1)
