#!/usr/bin/env python3
"""Does soft thresholding zero more of the signal when the input gets noisier?

    python3 examples/bearing/noise_introspection.py [--draws 3] [--seed 1234] [--threads N]

Adds white Gaussian noise to the shipped raw CWRU test windows at SNR = clean, 8, 4, 0
and -4 dB (noise power = mean(w^2) / 10^(SNR/10) per raw window, added BEFORE the
per-window z-score, as in train.py; seeded, averaged over --draws draws), runs the DRSN
with drsn's threshold introspection (Model.run_introspect) and prints per SNR the
accuracy and, per shrinkage unit, the mean fraction of features that soft thresholding
set to zero (|x| <= tau), plus the mean over units and the mean threshold tau.
Ends with what was measured: whether the zeroed fraction rises with the noise, per unit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

import numpy as np  # noqa: E402

import drsn  # noqa: E402

SNRS = [None, 8.0, 4.0, 0.0, -4.0]  # None: clean
EPS = 1e-8


def normalise(w: np.ndarray) -> np.ndarray:
    w = w.astype(np.float64)
    return ((w - w.mean(1, keepdims=True)) / (w.std(1, keepdims=True) + EPS)).astype(np.float32)


def add_noise(raw: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise at `snr_db` relative to each raw window's power (train.py)."""
    p = np.mean(raw.astype(np.float64) ** 2, axis=1, keepdims=True)
    sigma = np.sqrt(p / (10.0 ** (snr_db / 10.0)))
    return (raw + sigma * rng.standard_normal(raw.shape)).astype(np.float32)


def measure(model_path: str, draws: int, seed: int, threads: int | None) -> list[dict]:
    raw = np.load(os.path.join(HERE, "data", "test_windows.npy"))
    labels = np.load(os.path.join(HERE, "data", "test_labels.npy"))
    rows = []
    with drsn.Model(model_path, num_threads=threads) as model:
        for snr in SNRS:
            accs, zfs, taus = [], [], []
            for d in range(1 if snr is None else draws):
                if snr is None:
                    x = raw
                else:
                    rng = np.random.default_rng([seed, d, int(round(snr * 100)) + 100000])
                    x = add_noise(raw, snr, rng)
                (logits,), thresholds, fractions = model.run_introspect(normalise(x)[:, None, :])
                accs.append(float((logits.argmax(1) == labels).mean()))
                zfs.append([float(z.mean()) for z in fractions])
                taus.append([float(t.mean()) for t in thresholds])
            zf = np.mean(zfs, axis=0)
            rows.append({"snr_db": snr, "accuracy": float(np.mean(accs)), "zero_fraction": zf.tolist(),
                         "zero_fraction_mean": float(zf.mean()),
                         "tau_mean": np.mean(taus, axis=0).tolist(), "draws": len(accs)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.path.join(HERE, "model", "drsn_cwru.onnx"))
    parser.add_argument("--draws", type=int, default=3, help="noise draws per SNR (default 3)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", help="also write the table to this JSON file")
    args = parser.parse_args(argv)
    try:
        rows = measure(args.model, max(1, args.draws), args.seed, args.threads)
    except (drsn.Error, OSError, ValueError) as exc:
        print(f"noise_introspection.py: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1

    units = len(rows[0]["zero_fraction"])
    print(f"DRSN-CW on {os.path.relpath(args.model, REPO) if args.model.startswith(REPO) else args.model}: "
          f"320 CWRU test windows, white Gaussian noise added to the raw windows before the z-score "
          f"(seed {args.seed}, {args.draws} draw(s) per SNR)")
    print("mean fraction of features set to zero by soft thresholding (|x| <= tau), per unit")
    head = f"{'SNR':>6}  {'accuracy':>8}  " + "".join(f"{'u' + str(u):>6}" for u in range(units)) + f"  {'all':>6}"
    print(head)
    for r in rows:
        snr = "clean" if r["snr_db"] is None else f"{r['snr_db']:g} dB"
        print(f"{snr:>6}  {r['accuracy']:>8.2%}  " + "".join(f"{z:>6.3f}" for z in r["zero_fraction"])
              + f"  {r['zero_fraction_mean']:>6.3f}")
    print("mean threshold tau per unit")
    for r in rows:
        snr = "clean" if r["snr_db"] is None else f"{r['snr_db']:g} dB"
        print(f"{snr:>6}  {'':>8}  " + "".join(f"{t:>6.3f}" for t in r["tau_mean"]))

    zf = np.array([r["zero_fraction"] for r in rows])        # [snr, unit], clean first
    rising = [u for u in range(units) if np.all(np.diff(zf[:, u]) > 0)]
    up = [u for u in range(units) if zf[-1, u] > zf[0, u]]
    down = [u for u in range(units) if zf[-1, u] < zf[0, u]]
    overall = [r["zero_fraction_mean"] for r in rows]
    print("measured:")
    print(f"  mean over units: {' -> '.join(f'{v:.3f}' for v in overall)} (clean -> -4 dB): "
          + ("rises monotonically with the noise" if np.all(np.diff(overall) > 0)
             else "rises overall" if overall[-1] > overall[0] else "does not rise"))
    print(f"  units whose zeroed fraction rises at every SNR step: {rising or 'none'}")
    print(f"  higher at -4 dB than clean: units {up or 'none'}; lower: units {down or 'none'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
