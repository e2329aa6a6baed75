#!/usr/bin/env python3
"""Makes model/drsn_cwru.int8.onnx from model/drsn_cwru.onnx and measures it.

    python3 examples/bearing/quantize_model.py [--data ../shared/data/cwru] [--calibration 512]

Calibration: --calibration training windows (2048 samples, z-scored per window) drawn with a
fixed seed from the training part of every CWRU recording (the first 70 %, as train.py
cuts it; no shipped test window overlaps them), quantized by `drsn.quantize` (onnxruntime's
quantize_static, QDQ, per-channel s8 weights, u8 activations, threshold networks and head
kept float). Then the shipped 320 test windows are classified clean and with white Gaussian
noise at 8, 4, 0 and -4 dB (3 draws, seed 1234, noise added before the z-score, as
noise_introspection.py does) by drsn fp32, drsn int8 and onnxruntime int8 (same file), and
the accuracy table is written to model/int8_results.json and printed as markdown (the
table in README.md is this output). A development tool: needs onnx and onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import drsn  # noqa: E402
from noise_introspection import add_noise, normalise  # noqa: E402  (same noise and z-score)

WIN, TRAIN_HOP, TRAIN_FRACTION = 2048, 512, 0.7
SNRS = [None, 8.0, 4.0, 0.0, -4.0]


def training_windows(data_dir: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    with open(os.path.join(data_dir, "manifest.json")) as f:
        manifest = json.load(f)
    xs, ys = [], []
    for entry in manifest["files"]:
        sig = np.load(os.path.join(data_dir, entry["file"])).astype(np.float32).reshape(-1)
        split = int(TRAIN_FRACTION * len(sig))
        for start in range(0, split - WIN + 1, TRAIN_HOP):
            xs.append(sig[start:start + WIN])
            ys.append(entry["label"])
    x, y = np.stack(xs), np.array(ys)
    pick = np.random.default_rng(seed).choice(len(x), size=min(count, len(x)), replace=False)
    return normalise(x[pick])[:, None, :], y[pick]


def accuracies(run, raw: np.ndarray, labels: np.ndarray, draws: int, seed: int) -> dict:
    out = {}
    for snr in SNRS:
        if snr is None:
            out["clean"] = float(np.mean(run(normalise(raw)[:, None, :]).argmax(1) == labels))
            continue
        rng = np.random.default_rng(seed)
        accs = [float(np.mean(run(normalise(add_noise(raw, snr, rng))[:, None, :]).argmax(1) == labels))
                for _ in range(draws)]
        out[f"{snr:g}dB"] = float(np.mean(accs))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data", "cwru"))
    ap.add_argument("--calibration", type=int, default=512, help="training windows to calibrate on")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--noise-seed", type=int, default=1234)
    args = ap.parse_args()
    import onnxruntime as ort

    fp32 = os.path.join(HERE, "model", "drsn_cwru.onnx")
    int8 = os.path.join(HERE, "model", "drsn_cwru.int8.onnx")
    cal_x, cal_y = training_windows(args.data, args.calibration, args.seed)
    report = drsn.quantize(fp32, cal_x, int8, labels=cal_y)
    print(report.summary())

    raw = np.load(os.path.join(HERE, "data", "test_windows.npy"))
    labels = np.load(os.path.join(HERE, "data", "test_labels.npy"))
    rows = {}
    with drsn.Model(fp32) as m32, drsn.Model(int8) as m8:
        rows["drsn fp32"] = accuracies(lambda x: m32.run([x])[0], raw, labels, args.draws, args.noise_seed)
        rows["drsn int8"] = accuracies(lambda x: m8.run([x])[0], raw, labels, args.draws, args.noise_seed)
        clean = normalise(raw)[:, None, :]
        agree = float(np.mean(m32.run([clean])[0].argmax(1) == m8.run([clean])[0].argmax(1)))
    sess = ort.InferenceSession(int8, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    rows["onnxruntime int8"] = accuracies(lambda x: sess.run(None, {name: x})[0], raw, labels, args.draws,
                                          args.noise_seed)
    result = {
        "calibration": {"windows": len(cal_x), "seed": args.seed, "source": "training part (first 70 %) of every recording",
                        "float_accuracy": report.float_accuracy, "int8_accuracy": report.int8_accuracy,
                        "agreement": report.agreement, "kept_float_nodes": len(report.kept_float)},
        "test_windows": len(raw), "noise_draws": args.draws, "noise_seed": args.noise_seed,
        "fp32_int8_prediction_agreement_clean": agree,
        "accuracy": rows,
    }
    with open(os.path.join(HERE, "model", "int8_results.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    cols = ["clean"] + [f"{s:g}dB" for s in SNRS[1:]]
    print("\n| model (320 shipped windows) | " + " | ".join(c.replace("dB", " dB") for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for label, accs in rows.items():
        print(f"| {label} | " + " | ".join(f"{100 * accs[c]:.2f}" for c in cols) + " |")
    print(f"\nfp32 and int8 predict the same class for {100 * agree:.2f}% of the clean windows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
