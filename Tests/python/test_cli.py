"""The `drsn` command-line tool (bindings/python/drsn/cli.py), run as `python3 -m drsn`
in a subprocess: inspect, run, classify, bench, and its error handling (one line
`drsn: error: ...` on stderr, non-zero exit status, never a traceback)."""

import io
import json
import os
import select
import subprocess
import sys
import time
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


# ---- progress bar ----------------------------------------------------------------------------------

def test_progress_forced_on_a_short_job():
    """--progress draws the bar even for a job far below half a second and without a TTY."""
    p = drsn_cli("classify", MODEL, TAIL, "--window", 2048, "--hop", 1024, "--progress")
    assert_ok(p)
    # (text mode reads the bar's leading \r as a line break)
    assert "[##############################] 34/34 windows" in p.stderr, repr(p.stderr)
    assert "\x1b[" not in p.stderr  # no terminal escape codes when stderr is not a terminal
    assert "[#" not in p.stdout and "majority class: class 4" in p.stdout


def test_no_progress_by_default_without_a_terminal():
    """Default mode, stderr a pipe: no bar, short job or long (hop 16: 2160 windows)."""
    for hop in (1024, 16):
        p = drsn_cli("classify", MODEL, TAIL, "--window", 2048, "--hop", hop)
        assert_ok(p)
        assert p.stderr == "", repr(p.stderr)


def run_with_terminal_stderr(args, timeout=120):
    """Runs the tool with stderr on a pseudo-terminal (stdout a pipe); (status, stdout, stderr)."""
    pty = pytest.importorskip("pty")
    try:
        master, slave = pty.openpty()
    except OSError as exc:
        pytest.skip(f"no pseudo-terminal: {exc}")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(BINDING) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen([sys.executable, "-m", "drsn", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, env=env, cwd=str(REPO_ROOT))
    os.close(slave)
    received, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                received.append(data)
            elif proc.poll() is not None:
                break
        stdout = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, stdout.decode(), b"".join(received).decode(errors="replace")


def test_no_progress_on_a_terminal_for_a_short_job():
    """A terminal alone does not bring the bar: 34 windows finish in one short run."""
    status, stdout, stderr = run_with_terminal_stderr(
        ["classify", MODEL, TAIL, "--window", 2048, "--hop", 1024])
    assert status == 0, stderr
    assert "majority class: class 4" in stdout
    assert "windows" not in stderr and "[#" not in stderr, repr(stderr)
    status, stdout, stderr = run_with_terminal_stderr(
        ["classify", MODEL, TAIL, "--window", 2048, "--hop", 1024, "--progress"])
    assert status == 0 and "34/34 windows" in stderr, repr(stderr)


class FakeTerminal(io.StringIO):
    def __init__(self, terminal=True):
        super().__init__()
        self.terminal = terminal

    def isatty(self):
        return self.terminal


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def progress(total, mode="auto", terminal=True):
    from drsn.cli import Progress
    clock, stream = FakeClock(), FakeTerminal(terminal)
    return Progress(total, mode, stream=stream, clock=clock, interval=0.0), clock, stream


def test_progress_decides_by_expected_time():
    """Unit test of the decision (a fake clock and terminal): drawn on a terminal when the
    job is expected to take more than PROGRESS_MIN_SECONDS, estimated from the first chunk."""
    from drsn.cli import PROGRESS_MIN_SECONDS
    assert PROGRESS_MIN_SECONDS == 0.5
    # 64 of 10,000 windows in 10 ms: about 1.6 s expected -> drawn from the first chunk on
    bar, clock, stream = progress(10_000)
    assert bar.possible
    clock.now += 0.010
    bar.update(64)
    assert "64/10000 windows" in stream.getvalue()
    clock.now += 1.5
    bar.update(10_000)
    bar.close()
    assert "10000/10000 windows" in stream.getvalue() and stream.getvalue().endswith("\n")
    # 64 of 600 windows in 10 ms: about 0.09 s expected -> nothing, ever
    bar, clock, stream = progress(600)
    for done in range(64, 601, 64):
        clock.now += 0.010
        bar.update(min(done, 600))
    bar.close()
    assert stream.getvalue() == ""
    # a job that turns out slower than estimated: drawn once half a second has passed
    bar, clock, stream = progress(1_000)
    clock.now += 0.020
    bar.update(100)          # 0.2 s expected
    assert stream.getvalue() == ""
    clock.now += 0.6
    bar.update(200)          # 0.62 s already spent
    assert "200/1000 windows" in stream.getvalue()
    # a job done in its first chunk draws nothing, however long it took
    bar, clock, stream = progress(50)
    clock.now += 2.0
    bar.update(50)
    bar.close()
    assert stream.getvalue() == ""


def test_progress_modes():
    # auto without a terminal: not possible at all (the caller does not even chunk)
    bar, clock, stream = progress(10_000, terminal=False)
    assert not bar.possible
    clock.now += 5.0
    bar.update(64)
    bar.close()
    assert stream.getvalue() == ""
    # always (--progress): drawn for a tiny job, without a terminal, no escape codes
    bar, clock, stream = progress(3, "always", terminal=False)
    bar.update(3)
    bar.close()
    assert stream.getvalue().startswith("\r[###") and "3/3 windows" in stream.getvalue()
    assert "\x1b" not in stream.getvalue()
    # never (--no-progress): nothing even for a long job on a terminal
    bar, clock, stream = progress(10_000, "never")
    assert not bar.possible
    clock.now += 5.0
    bar.update(64)
    bar.close()
    assert stream.getvalue() == ""


def test_progress_chunks():
    from drsn.cli import _chunks
    assert _chunks(5000, 64, False) == [(0, 5000)]  # no bar possible: one run_windows call
    for total, batch in ((5000, 64), (34, 64), (68, 16), (1_000_000, 64), (1, 1)):
        spans = _chunks(total, batch, True)
        assert spans[0] == (0, min(batch, total))  # the first chunk times the job
        assert sum(n for _, n in spans) == total
        assert all(a + n == b for (a, n), (b, _) in zip(spans, spans[1:]))
        assert max(n for _, n in spans) <= max(batch, 4096)


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
    for cmd in ("inspect", "run", "classify", "score", "bench"):
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
