#!/usr/bin/env python3
"""Classifies the shipped CWRU bearing test windows with the shipped DRSN-CW through drsn.

    python3 examples/bearing/classify.py [--threads N] [--json FILE] [--model PATH]

Loads model/drsn_cwru.onnx with the Python binding (imported from bindings/python, no
install needed; libdrsn is found in <repo>/.build/release or via $DRSN_LIBRARY),
normalises every raw window of data/test_windows.npy on its own exactly as in training
(train.py: float64 z-score with the population std, (w - mean) / (std + 1e-8), cast to
float32), and prints the accuracy, the 10x10 confusion matrix, the throughput and, when
onnxruntime is installed, whether drsn and onnxruntime predict the same class on every
window. Needs only numpy (and libdrsn).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

import numpy as np  # noqa: E402

import drsn  # noqa: E402

EPS = 1e-8  # as in train.py


def normalise(windows: np.ndarray) -> np.ndarray:
    """Per-window z-score exactly as train.py: [N, L] raw -> [N, L] float32."""
    w = windows.astype(np.float64)
    mean = w.mean(axis=1, keepdims=True)
    std = w.std(axis=1, keepdims=True)  # population std (ddof=0)
    return ((w - mean) / (std + EPS)).astype(np.float32)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m


def format_confusion(m: np.ndarray, names: list[str]) -> str:
    """Rows: true class, columns: predicted class; zeros shown as '.'."""
    width = max(len(n) for n in names)
    cell = max(max(len(n) for n in names), len(str(m.max()))) + 1
    lines = ["confusion matrix (rows: true class, columns: predicted class)",
             " " * width + "".join(f"{n:>{cell}}" for n in names)]
    for i, n in enumerate(names):
        lines.append(f"{n:<{width}}" + "".join(f"{v:>{cell}}" if v else f"{'.':>{cell}}" for v in m[i]))
    return "\n".join(lines)


def evaluate(model_path: str, threads: int | None = None, repeats: int = 5) -> dict:
    """Runs the example and returns its numbers (also used by Tests/python)."""
    data = os.path.join(HERE, "data")
    raw = np.load(os.path.join(data, "test_windows.npy"))          # [N, 2048] raw float32
    labels = np.load(os.path.join(data, "test_labels.npy"))        # [N] int64
    with open(os.path.join(data, "classes.json")) as f:
        classes = json.load(f)
    x = normalise(raw)[:, None, :]                                 # [N, 1, 2048]

    with drsn.Model(model_path, num_threads=threads) as model:
        (logits,) = model.run(x)                                   # warm-up and result
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.run(x)
            times.append(time.perf_counter() - t0)
    seconds = float(np.median(times))
    predicted = logits.argmax(axis=1)
    result = {
        "windows": int(len(labels)),
        "accuracy": float((predicted == labels).mean()),
        "correct": int((predicted == labels).sum()),
        "confusion": confusion_matrix(labels, predicted, len(classes)).tolist(),
        "classes": classes,
        "seconds_per_batch": seconds,
        "windows_per_second": len(labels) / seconds,
        "predicted": predicted.tolist(),
    }

    reference = os.path.join(os.path.dirname(model_path), "drsn_cwru_reference.npz")
    if os.path.exists(reference) and os.path.basename(model_path) == "drsn_cwru.onnx":
        torch_logits = np.load(reference)["logits"]
        if torch_logits.shape == logits.shape:
            result["max_abs_diff_pytorch"] = float(np.abs(torch_logits - logits).max())

    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    if ort is not None:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        ort_logits = session.run(None, {session.get_inputs()[0].name: x})[0]
        result["onnxruntime"] = {
            "version": ort.__version__,
            "same_predictions": int((ort_logits.argmax(axis=1) == predicted).sum()),
            "max_abs_logit_diff": float(np.abs(ort_logits - logits).max()),
        }
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.path.join(HERE, "model", "drsn_cwru.onnx"))
    parser.add_argument("--threads", type=int, default=None, help="threads per run (default: all cores)")
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    try:
        r = evaluate(args.model, args.threads)
    except (drsn.Error, OSError, ValueError) as exc:
        print(f"classify.py: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1

    print(f"drsn {drsn.library_version()} ({drsn.library_path()})")
    print(f"model   {os.path.relpath(args.model, REPO) if os.path.abspath(args.model).startswith(REPO) else args.model}")
    print(f"windows {r['windows']} CWRU test windows of 2048 samples (12 kHz drive end), "
          f"z-score per window")
    print(f"accuracy: {r['accuracy']:.2%} ({r['correct']}/{r['windows']})")
    print(format_confusion(np.array(r["confusion"]), r["classes"]))
    print(f"throughput: {r['windows_per_second']:,.0f} windows/s "
          f"({r['seconds_per_batch'] * 1e3:.1f} ms for one batch of {r['windows']}, median of 5; "
          f"threads: {'all cores' if args.threads is None else args.threads})")
    if "max_abs_diff_pytorch" in r:
        print(f"max |logit diff| vs the PyTorch reference: {r['max_abs_diff_pytorch']:.2e}")
    o = r.get("onnxruntime")
    if o is None:
        print("onnxruntime not installed: skipped the comparison")
    else:
        print(f"same predictions as onnxruntime on {o['same_predictions']}/{r['windows']} windows "
              f"(max |logit diff| {o['max_abs_logit_diff']:.2e}, onnxruntime {o['version']})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
