#!/usr/bin/env python3
"""Live condition monitoring with drsn_stream_push: how many 12 kHz channels one core can
monitor with the bearing DRSN (windows of 2048 samples every 512), and how long a push that
completes a window takes to return its output.

    python3 benchmarks/stream_bench.py                 # the table of docs/performance.md
    python3 benchmarks/stream_bench.py --seconds 2     # shorter
    python3 benchmarks/stream_bench.py --json out.json

It builds benchmarks/stream_bench.c against .build/release/libdrsn.so (cc), then runs it
for each configuration: CHANNELS one-channel streams on one model (num_threads 1: one
core), fed round-robin with CHUNK-frame buffers cut from the shipped IR007 recording, as an
acquisition card would hand them over; the calling thread does all the work.

* windows/s: windows returned over all streams per second of wall time;
* channels per core: windows/s divided by the windows one 12 kHz channel produces per
  second at hop 512 (12000 / 512 = 23.4);
* latency: time of the pushes that returned windows, from the call (the moment the chunk
  completing the window is handed over) to the return with the outputs: p50 / p99;
* run: drsn_model_run on one window alone (the model's share of a push).

Nothing is asserted: the numbers depend on the machine and its load (see `uptime`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "bearing" / "model" / "drsn_cwru.onnx"
SIGNAL = ROOT / "examples" / "bearing" / "data" / "IR007_1_tail.npy"
RATE = 12000.0
WINDOW, HOP = 2048, 512

# (channels, chunk frames, max_waiting): one window per push; four per push (batches of
# 4); one per push but gathered into batches of 8 (latency bound 7 windows = 0.3 s).
CONFIGS = [(64, 512, 0), (256, 512, 0), (256, 2048, 0), (256, 512, 7)]


def build(out: Path) -> Path:
    lib = ROOT / ".build" / "release"
    if not (lib / "libdrsn.so").is_file():
        sys.exit(f"{lib / 'libdrsn.so'} is missing: swift build -c release --product drsn")
    out.mkdir(parents=True, exist_ok=True)
    exe = out / "stream_bench"
    cc = os.environ.get("CC", "cc")
    subprocess.run([cc, "-std=c11", "-O2", "-I", str(ROOT / "include"), "-I", str(ROOT / "bindings" / "c" / "examples"),
                    str(ROOT / "benchmarks" / "stream_bench.c"), "-o", str(exe), "-L", str(lib),
                    f"-Wl,-rpath,{lib}", "-ldrsn"], check=True)
    return exe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per configuration")
    parser.add_argument("--threads", type=int, default=1, help="num_threads of the model (1: one core)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    exe = build(ROOT / ".build" / "bench")
    per_channel = RATE / HOP
    rows = []
    print(f"bearing DRSN {MODEL.name}, windows {WINDOW} / hop {HOP}, {args.threads} thread(s); "
          f"a 12 kHz channel makes {per_channel:.2f} windows/s")
    print(f"{'channels':>8} {'chunk':>6} {'wait':>4} {'windows/s':>10} {'ch/core':>8} "
          f"{'p50 us':>8} {'p99 us':>8} {'run us':>7}  isa")
    for channels, chunk, waiting in CONFIGS:
        out = subprocess.run([str(exe), str(MODEL), str(SIGNAL), str(WINDOW), str(HOP), str(channels), str(chunk),
                              str(waiting), str(args.seconds), str(args.threads)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        r["channels_per_core"] = r["windows_per_s"] / per_channel / max(args.threads, 1)
        rows.append(r)
        print(f"{channels:>8} {chunk:>6} {waiting:>4} {r['windows_per_s']:>10,.0f} {r['channels_per_core']:>8,.0f} "
              f"{r['latency_us_p50']:>8.0f} {r['latency_us_p99']:>8.0f} {r['run_batch1_us_p50']:>7.0f}  {r['isa']}",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
