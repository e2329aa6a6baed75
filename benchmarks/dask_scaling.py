"""Scaling of drsn.dask: throughput of 1 and N Dask workers against a single-process loop.

    PYTHONPATH=bindings/python .venv/bin/python benchmarks/dask_scaling.py
        [--recordings 200] [--samples 120000] [--window 2048] [--hop 1024] [--workers 2]
        [--repeat 3] [--model examples/bearing/model/drsn_cwru.onnx]

Writes ``--recordings`` float32 .npy recordings of ``--samples`` samples (white noise; the
content does not change the work) to a temporary folder, then times, best of ``--repeat``:

* ``loop``: one process, one thread: for each recording np.load + Model.run_windows (the
  model loaded once, num_threads=1) -- the single-process baseline; and the same loop
  with N intra-op threads (num_threads=N), one process on N cores;
* ``dask 1``: drsn.dask.score on a LocalCluster of 1 single-threaded worker process (the
  one drsn.dask.score starts without a client: drsn.dask.client_for);
* ``dask N``: the same on N worker processes.

The configurations run in rounds (loop, dask 1, dask N; ``--repeat`` rounds) and the best
time of each counts, so that load from other processes hits all of them alike. A Dask time is the whole score() call on a running cluster: planning on the client (model
hash and check, glob, headers), the tasks, collecting the rows into one pyarrow Table. The
cluster's start is printed apart (it is paid once per job by `drsn score`, not per file).
Ratios printed: speed-up of N workers over 1 worker, and the overhead of Dask against the
loop on the same number of cores (N workers against loop time / N), in wall time and in
CPU time (this process, which runs the client, the scheduler and the nannies, plus the
worker processes, against the loop's process): the CPU time is the steadier figure on a machine shared with other work.

Not a test: run it on a quiet machine (see docs/scale-out.md for measured figures).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bindings" / "python"))

import drsn  # noqa: E402


def loop(model_path: str, paths: list[str], window: int, hop: int, threads: int = 1) -> int:
    windows = 0
    with drsn.Model(model_path, num_threads=threads) as model:
        for path in paths:
            (logits,) = model.run_windows(np.load(path), window, hop)
            windows += logits.shape[0]
    return windows


def cpu_seconds(processes: list) -> float:
    """User + system CPU seconds the processes used so far."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recordings", type=int, default=200)
    ap.add_argument("--samples", type=int, default=120_000)
    ap.add_argument("--window", type=int, default=2048)
    ap.add_argument("--hop", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default=str(REPO / "examples" / "bearing" / "model" / "drsn_cwru.onnx"))
    args = ap.parse_args()

    import distributed
    import psutil  # a dependency of distributed

    import drsn.dask

    print(f"drsn {drsn.__version__}, libdrsn {drsn.library_version()} ({drsn.isa()}), "
          f"dask.distributed {distributed.__version__}, {os.cpu_count()} cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="drsn-dask-bench-") as folder:
        rng = np.random.default_rng(0)
        paths = []
        for i in range(args.recordings):
            path = os.path.join(folder, f"rec{i:05d}.npy")
            np.save(path, rng.standard_normal(args.samples).astype(np.float32))
            paths.append(path)
        total = args.recordings * drsn.window_count(args.samples, args.window, args.hop)
        print(f"{args.recordings} recordings x {args.samples} samples, window {args.window}, "
              f"hop {args.hop}: {total} windows; best of {args.repeat}")

        # Rounds of (loop, dask 1 worker, dask N workers), best of each over the rounds:
        # load from elsewhere on the machine hits every configuration alike.
        counts = sorted({1, args.workers})
        with contextlib.ExitStack() as stack:
            clients = {}
            for workers in counts:
                t = time.perf_counter()
                # the cluster drsn.dask.score starts itself without a client
                clients[workers] = stack.enter_context(drsn.dask.client_for(workers=workers))
                print(f"cluster of {workers} worker(s) started in {time.perf_counter() - t:.2f} s "
                      f"(not included below)")
            # the worker processes, whose CPU time counts with this one's (the client, and
            # the scheduler and nannies of a local cluster, run in this process)
            procs = {w: [psutil.Process(pid) for pid in c.run(os.getpid).values()]
                     for w, c in clients.items()}
            times: dict = {"loop": []}
            if args.workers > 1:
                times[f"loop{args.workers}"] = []
            times.update({w: [] for w in counts})
            cpu: dict = {k: [] for k in times}
            for _ in range(args.repeat):
                for name, threads in (("loop", 1), (f"loop{args.workers}", args.workers)):
                    if name not in times:
                        continue
                    c0, t = time.process_time(), time.perf_counter()
                    assert loop(args.model, paths, args.window, args.hop, threads) == total
                    times[name].append(time.perf_counter() - t)
                    cpu[name].append(time.process_time() - c0)
                for workers in counts:
                    c0 = time.process_time() + cpu_seconds(procs[workers])
                    t = time.perf_counter()
                    table = drsn.dask.score(args.model, os.path.join(folder, "*.npy"),
                                            window=args.window, hop=args.hop,
                                            client=clients[workers])
                    times[workers].append(time.perf_counter() - t)
                    cpu[workers].append(time.process_time() + cpu_seconds(procs[workers]) - c0)
                    assert table.num_rows == total and not drsn.dask.failures(table)
        t_loop, c_loop = min(times["loop"]), min(cpu["loop"])
        dask_times = {w: min(times[w]) for w in counts}
        print(f"{'':<28} {'wall':>6}    {'windows/s':>8}   {'CPU s':>6}   runs (wall s)")
        for name, runs in times.items():
            if name == "loop":
                label = "loop (1 process, 1 thread)"
            elif isinstance(name, str):
                label = f"loop (1 process, {args.workers} threads)"
            else:
                label = f"dask, {name} worker(s)"
            best_s = min(runs)
            print(f"{label:<28} {best_s:6.2f} s  {total / best_s:8,.0f}   {min(cpu[name]):6.2f}   "
                  f"{', '.join(f'{x:.2f}' for x in runs)}")
        one, many = dask_times[1], dask_times[args.workers]
        print(f"speed-up {args.workers} workers / 1 worker: {one / many:.2f}x")
        print(f"overhead of Dask against the loop, 1 core: {one / t_loop - 1:+.1%} wall, "
              f"{min(cpu[1]) / c_loop - 1:+.1%} CPU time")
        if args.workers > 1:
            print(f"overhead of Dask against the loop, {args.workers} cores "
                  f"(loop time / {args.workers}): {many / (t_loop / args.workers) - 1:+.1%} wall, "
                  f"{min(cpu[args.workers]) / c_loop - 1:+.1%} CPU time")
            t_threads = min(times[f"loop{args.workers}"])
            print(f"dask, {args.workers} workers against the loop with {args.workers} threads "
                  f"per run (one process on {args.workers} cores): {many / t_threads - 1:+.1%} wall")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
