#!/usr/bin/env python3
"""int8 rows: drsn int8 vs onnxruntime int8 on the same QDQ file, vs drsn fp32, in one process.

    python3 benchmarks/int8.py                      # paper-size, wide 1-D and 2-D models, 1 and 2 threads
    python3 benchmarks/int8.py --quick --models drsn_cw_1d --threads 1

Per model, the QDQ file is made once with `drsn.quantize` (onnxruntime's quantize_static:
per-channel s8 weights, u8 activations, threshold networks and head kept float), calibrated
on the model's 64 benchmark inputs, into a temporary folder. Then, per thread count, the
runtimes are timed with run.py's interleaved rounds (same bursts, same settling, IOBinding
for onnxruntime, run_into for drsn): batch-1 median latency and batch-64 samples/s.

* drsn int8: the QDQ file (its convolutions run as QLinearConv on int8 kernels);
* ort int8: onnxruntime, ORT_ENABLE_ALL, on the same QDQ file (its QDQ fusions and int8 kernels);
* drsn fp32: the original float file;
* OpenVINO int8 (when installed): the same QDQ file at OpenVINO's default precision.

Before timing, drsn int8 is compared with onnxruntime int8 (largest |difference| and the
share of equal argmax at batch 64); nothing is asserted. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as harness  # noqa: E402  (benchmarks/run.py: models, runners, interleaved timing)
from run import BIG_BATCH, drsn, interleaved, load_input, make_drsn, make_ort, resolve_models, summary  # noqa: E402

MODELS = ["drsn_cw_1d", "drsn_cw_1d_wide", "drsn_cw_2d"]
NAMES = ("drsn int8", "ort int8", "drsn fp32", "ov int8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=MODELS)
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--settle", type=float, default=0.15)
    args = ap.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    b1_burst, b64_burst = (0.05, 0.1) if args.quick else (0.25, 0.6)
    load0 = os.getloadavg()
    print(f"# drsn int8 benchmark  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"drsn {drsn.library_version()} (kernels: {drsn.isa()}), onnxruntime {harness.ort.__version__}, "
          f"OpenVINO {'not installed' if harness.ov is None else harness.ov.__version__}")
    print(f"load average at start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in resolve_models(args.models):
            x64 = load_input(path, BIG_BATCH)
            inputs = {1: np.ascontiguousarray(x64[:1]), BIG_BATCH: x64}
            qpath = Path(tmp) / f"{label}.int8.onnx"
            report = drsn.quantize(path, x64, qpath)
            print(f"\n## {label}: {report.integer_convolutions} of {report.convolutions} convolutions int8, "
                  f"{len(report.kept_float)} nodes kept float")
            for t in args.threads:
                q_model, q_runners = make_drsn(qpath, t, inputs)
                f_model, f_runners = make_drsn(path, t, inputs)
                sess, o_runners = make_ort(qpath, t, inputs)
                runners = {"drsn int8": q_runners, "ort int8": o_runners, "drsn fp32": f_runners}
                keep_ov = None
                if harness.ov is not None:
                    keep_ov, runners["ov int8"] = harness.make_ov(qpath, t, inputs)
                q_runners[BIG_BATCH].call()
                o_runners[BIG_BATCH].call()
                a, b = q_runners[BIG_BATCH].output(), o_runners[BIG_BATCH].output()
                print(f"threads {t}: drsn int8 vs ort int8 at batch 64: max |diff| {np.abs(a - b).max():.3g}, "
                      f"same class {100 * np.mean(a.argmax(1) == b.argmax(1)):.1f}%")
                row = {"model": label, "threads": t, "b1": {}, "b64": {}}
                for bsz, key, burst, min_burst in ((1, "b1", b1_burst, 20), (BIG_BATCH, "b64", b64_burst, 3)):
                    ts = interleaved({n: runners[n][bsz] for n in runners}, rounds, burst, min_burst,
                                     settle=args.settle if t > 1 else 0.0)
                    for n in runners:
                        row[key][n] = summary(ts[n])["median_s"]
                rows.append(row)
                del runners, q_runners, f_runners, o_runners, sess, keep_ov
                q_model.close()
                f_model.close()
    load1 = os.getloadavg()
    print(f"\nload average at end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}\n")
    print("| model | thr | b1 ms drsn int8 | b1 ms ort int8 | b1 ms drsn fp32 | b64/s drsn int8 | b64/s ort int8 "
          "| b64/s drsn fp32 | b64/s ov int8 | int8: drsn/ort b64 | drsn int8/fp32 b64 | drsn int8/fp32 b1 latency |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        b1, b64 = r["b1"], {n: BIG_BATCH / s for n, s in r["b64"].items()}
        ov = f"{b64['ov int8']:,.0f}" if "ov int8" in b64 else "-"
        print(f"| {r['model']} | {r['threads']} | {b1['drsn int8'] * 1e3:.3f} | {b1['ort int8'] * 1e3:.3f} "
              f"| {b1['drsn fp32'] * 1e3:.3f} | {b64['drsn int8']:,.0f} | {b64['ort int8']:,.0f} "
              f"| {b64['drsn fp32']:,.0f} | {ov} | {b64['drsn int8'] / b64['ort int8']:.2f} "
              f"| {b64['drsn int8'] / b64['drsn fp32']:.2f} | {b1['drsn int8'] / b1['drsn fp32']:.2f} |")
    print("\nb1: batch-1 median latency (lower is better); b64/s: batch-64 samples/s (higher is better).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
