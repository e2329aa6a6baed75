"""The bearing-fault example (examples/bearing): classify.py on the shipped CWRU test
windows reaches >= 97 % accuracy and agrees with onnxruntime on every window; run.sh
(Python and C) works end to end when a C compiler is available."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BEARING = REPO_ROOT / "examples" / "bearing"

pytestmark = pytest.mark.usefixtures("needs_library")


def load_example():
    spec = importlib.util.spec_from_file_location("bearing_classify", BEARING / "classify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result():
    return load_example().evaluate(str(BEARING / "model" / "drsn_cwru.onnx"), repeats=1)


def test_accuracy(result):
    labels = np.load(BEARING / "data" / "test_labels.npy")
    assert result["windows"] == len(labels) == 320
    assert result["accuracy"] >= 0.97, result["accuracy"]
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 320
    assert (confusion.sum(axis=1) == np.bincount(labels, minlength=10)).all()
    assert np.trace(confusion) == result["correct"]


def test_agrees_with_onnxruntime(result):
    pytest.importorskip("onnxruntime")
    o = result["onnxruntime"]
    assert o["same_predictions"] == result["windows"], o
    assert o["max_abs_logit_diff"] <= 1e-4, o


def test_agrees_with_the_pytorch_reference(result):
    assert result["max_abs_diff_pytorch"] <= 1e-4


def test_normalisation_is_the_training_one():
    module = load_example()
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((3, 2048)) * 0.3 + 0.05).astype(np.float32)
    x = w.astype(np.float64)
    expected = ((x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-8)).astype(np.float32)
    np.testing.assert_array_equal(module.normalise(w), expected)


def test_script_output(tmp_path):
    p = subprocess.run([sys.executable, str(BEARING / "classify.py"), "--json", str(tmp_path / "r.json")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "accuracy: " in out and "windows/s" in out
    for name in json.loads((BEARING / "data" / "classes.json").read_text()):
        assert name in out
    if "onnxruntime not installed" not in out:
        assert "same predictions as onnxruntime on 320/320 windows" in out
    assert json.loads((tmp_path / "r.json").read_text())["accuracy"] >= 0.97


@pytest.mark.skipif(shutil.which(os.environ.get("CC", "cc")) is None, reason="no C compiler")
def test_run_sh():
    """README's first command as written (the project's .venv, with onnxruntime for the agreement)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "DRSN_LIBRARY")}
    p = subprocess.run(["bash", str(BEARING / "run.sh")], capture_output=True, text=True, timeout=900, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "accuracy: " in p.stdout
    assert "same predictions as onnxruntime on 320/320 windows" in p.stdout
    assert "C: 10/10 correct" in p.stdout or "C: 9/10 correct" in p.stdout
    assert "agrees on 10/10" in p.stdout
