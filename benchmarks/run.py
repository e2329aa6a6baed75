#!/usr/bin/env python3
"""drsn vs onnxruntime vs OpenVINO on the same ONNX files, in one process.

    python3 benchmarks/run.py                         # the four benchmark models, 1 and 2 threads
    python3 benchmarks/run.py --quick                 # shorter (smoke run)
    python3 benchmarks/run.py --models drsn_cw_1d fixtures --threads 2
    python3 benchmarks/run.py --json results.json     # also write every statistic

For every model and thread count:

1. Verification (before any timing): drsn and OpenVINO on the model's input at batch 1
   and batch 64 against onnxruntime (the same session that is timed); the largest
   absolute deviation is reported, and drsn must stay within 1e-4. A drsn model that
   fails to load or deviates more is reported as FAIL and not timed (the script then
   exits with status 1). No timing is asserted anywhere.
2. Timing, interleaved: in each round every runtime (in a rotating order) runs a burst of
   calls, each call timed on its own (perf_counter_ns); two untimed calls precede each
   burst so that a runtime's thread pool is awake. Load changes on the machine therefore
   hit all runtimes alike. With more than one thread, each burst starts after a pause
   (--settle, 0.15 s) followed by the same time of untimed calls of the runtime about to
   be timed: onnxruntime's intra-op workers spin for ~50 ms after a run and would
   otherwise occupy the second core during the next runtime's first calls (measured:
   drsn's 2-thread batch-64 calls on drsn_cw_1d take 3.0 ms instead of 1.77 ms for the
   first ~50 ms after an onnxruntime burst; drsn's own workers spin 0.2 ms), and a runtime
   timed right after an idle pause runs slower until its workers are spinning again. Batch 1: median latency in ms over all calls. Batch 64:
   samples/s = 64 / median batch time.

Runtimes (all fp32, all given the same thread count):

* drsn: ``drsn.Model(path, num_threads=t)``, ``run_into`` with a preallocated output.
* onnxruntime: graph_optimization_level ORT_ENABLE_ALL, intra_op_num_threads = t,
  inter_op_num_threads = 1, ORT_SEQUENTIAL; run through an IOBinding with the input and a
  preallocated output bound once (no per-call allocation, like drsn's run_into).
* OpenVINO (skipped when not installed): CPU plugin, INFERENCE_PRECISION_HINT f32,
  INFERENCE_NUM_THREADS = t, PERFORMANCE_HINT LATENCY (one stream using all t threads)
  for both batch sizes: a single synchronous request is timed, and the THROUGHPUT hint
  would split the t threads into t streams of which one request uses one. The model is
  reshaped to a static batch (1 or 64) before compiling, which is OpenVINO's best case
  (drsn and onnxruntime run the dynamic-batch model). The input tensor is shared with
  numpy (no copy per call); outputs live in OpenVINO's own buffers.

The machine's sgemm peak is measured once: numpy matmul 2048^3 float32 (OpenBLAS) in a
subprocess whose environment has OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
(they select a slower kernel) and OPENBLAS_NUM_THREADS = t; the best of several runs.
drsn's batch-64 GFLOPS (FLOPs/sample x samples/s) is reported as a share of that peak.
FLOPs/sample = 2 x MACs of every Conv and Gemm/MatMul node, with the shapes taken from an
onnxruntime run at batch 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "bindings" / "python"))

import drsn  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

try:
    import openvino as ov  # noqa: E402
except ImportError:  # pragma: no cover - optional
    ov = None

MODELS_DIR = HERE / "models"
FIXTURES_DIR = REPO.parent / "shared" / "fixtures"
BENCH_MODELS = ["drsn_cw_1d", "drsn_cs_1d", "drsn_cw_2d", "drsn_cw_1d_wide"]
ATOL = 1e-4
BIG_BATCH = 64
RUNTIMES = ("drsn", "ort", "ov")


# ----------------------------------------------------------------------------- models

def resolve_models(names: list[str]) -> list[tuple[str, Path]]:
    out = []
    for name in names:
        if name == "fixtures":
            if not FIXTURES_DIR.is_dir():
                print(f"note: {FIXTURES_DIR} not found; 'fixtures' skipped", file=sys.stderr)
                continue
            for p in sorted(FIXTURES_DIR.glob("*.onnx")):
                out.append(("fx:" + p.name[:-len(".onnx")], p))
        elif name.endswith(".onnx") or os.sep in name:
            p = Path(name)
            out.append((p.name[:-len(".onnx")] if p.name.endswith(".onnx") else p.name, p))
        else:
            p = MODELS_DIR / f"{name}.onnx"
            if not p.is_file():
                raise SystemExit(f"unknown model {name!r} (no {p}; run benchmarks/export_models.py)")
            out.append((name, p))
    return out


def load_input(path: Path, batch: int) -> np.ndarray:
    """<stem>.in.npy next to the model, cycled/sliced to ``batch`` samples; random normal
    data of the declared shape when there is none."""
    stem = path.name[:-len(".onnx")]
    npy = path.with_name(stem + ".in.npy")
    if npy.is_file():
        x = np.load(npy).astype(np.float32, copy=False)
    else:
        m = onnx.load(str(path), load_external_data=False)
        dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim][1:]
        x = np.random.default_rng(0).standard_normal([1] + dims).astype(np.float32)
    reps = -(-batch // x.shape[0])
    return np.ascontiguousarray(np.concatenate([x] * reps, axis=0)[:batch])


def flops_per_sample(path: Path, x1: np.ndarray) -> int:
    """2 x MACs of Conv and Gemm/MatMul nodes, output shapes from an ORT run at batch 1."""
    m = onnx.load(str(path))
    inits = {i.name: i for i in m.graph.initializer}
    nodes = [n for n in m.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")]
    known = {o.name for o in m.graph.output}
    for n in nodes:
        if n.output[0] not in known:
            m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n.output[0]))
            known.add(n.output[0])
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [n.output[0] for n in nodes]
    shapes = dict(zip(names, (a.shape for a in sess.run(names, {sess.get_inputs()[0].name: x1}))))
    macs = 0
    for n in nodes:
        w = inits.get(n.input[1])
        if w is None:
            continue  # weight computed at run time: not counted
        wdims = list(w.dims)
        out = int(np.prod(shapes[n.output[0]]))
        if n.op_type == "Conv":
            macs += out * int(np.prod(wdims[1:]))
        elif n.op_type == "Gemm":
            trans_b = any(a.name == "transB" and a.i for a in n.attribute)
            macs += out * (wdims[1] if trans_b else wdims[0])
        else:
            macs += out * wdims[-2]
    return 2 * macs


# ------------------------------------------------------------------------- sgemm peak

_SGEMM_CODE = r"""
import sys, time, numpy as np
n = 2048
rng = np.random.default_rng(0)
a = rng.standard_normal((n, n), dtype=np.float32)
b = rng.standard_normal((n, n), dtype=np.float32)
c = np.empty((n, n), dtype=np.float32)
for _ in range(3):
    np.matmul(a, b, out=c)
best = float("inf")
t_end = time.perf_counter() + float(sys.argv[1])
runs = 0
while runs < 5 or time.perf_counter() < t_end:
    t0 = time.perf_counter(); np.matmul(a, b, out=c); dt = time.perf_counter() - t0
    best = min(best, dt); runs += 1
print(2.0 * n ** 3 / best / 1e9, runs)
"""


def sgemm_peak(threads: int, seconds: float) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    res = subprocess.run([sys.executable, "-c", _SGEMM_CODE, str(seconds)], env=env,
                         capture_output=True, text=True, check=True)
    gflops, runs = res.stdout.split()
    return float(gflops), int(runs)


# --------------------------------------------------------------------------- runtimes

class Runner:
    """One runtime at one batch size: ``call()`` runs once into a fixed output buffer."""

    def __init__(self, call, output):
        self.call = call
        self.output = output  # () -> np.ndarray (valid after call())


def make_drsn(path: Path, threads: int, inputs: dict[int, np.ndarray]):
    model = drsn.Model(path, num_threads=threads)
    runners = {}
    for b, x in inputs.items():
        (shape,) = model.output_shapes([x.shape])
        out = np.empty(shape, dtype=np.float32)
        outs = [out]
        runners[b] = Runner(lambda x=x, outs=outs: model.run_into(x, outs), lambda out=out: out)
    return model, runners


def make_ort(path: Path, threads: int, inputs: dict[int, np.ndarray]):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    out_name = sess.get_outputs()[0].name
    runners = {}
    for b, x in inputs.items():
        shape = sess.run([out_name], {in_name: x})[0].shape
        out = np.empty(shape, dtype=np.float32)
        binding = sess.io_binding()
        binding.bind_cpu_input(in_name, x)
        binding.bind_output(out_name, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
        runners[b] = Runner(lambda binding=binding: sess.run_with_iobinding(binding),
                            lambda out=out: out)
    return sess, runners


def ov_config(threads: int) -> dict:
    return {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "f32"}


def make_ov(path: Path, threads: int, inputs: dict[int, np.ndarray]):
    core = ov.Core()
    runners, keep = {}, []
    for b, x in inputs.items():
        model = core.read_model(str(path))
        model.reshape({model.inputs[0].get_any_name(): ov.PartialShape(list(x.shape))})
        compiled = core.compile_model(model, "CPU", ov_config(threads))
        request = compiled.create_infer_request()
        request.set_input_tensor(ov.Tensor(x, shared_memory=True))
        keep.append((compiled, request))
        if not hasattr(make_ov, "shown"):
            make_ov.shown = True
            props = {k: str(compiled.get_property(k)) for k in
                     ("INFERENCE_PRECISION_HINT", "INFERENCE_NUM_THREADS", "NUM_STREAMS",
                      "PERFORMANCE_HINT")}
            print(f"OpenVINO compiled-model properties: {props}")
        runners[b] = Runner(request.infer, lambda request=request: request.get_output_tensor(0).data)
    return keep, runners


def ov_description(threads: int) -> str:
    if ov is None:
        return "not installed"
    return f"{ov.__version__.split('-')[0]}"


# ----------------------------------------------------------------------------- timing

def warm(runner: Runner, seconds: float, min_calls: int = 3) -> float:
    """Runs for ``seconds`` (at least min_calls); returns the median call time in s."""
    times = []
    end = time.perf_counter() + seconds
    while len(times) < min_calls or time.perf_counter() < end:
        t0 = time.perf_counter_ns()
        runner.call()
        times.append((time.perf_counter_ns() - t0) * 1e-9)
    return statistics.median(times)


def interleaved(runners: dict[str, Runner], rounds: int, burst_seconds: float,
                min_burst: int, settle: float = 0.0) -> dict[str, list[float]]:
    """Per-call times (s) of every runtime, measured in interleaved rounds; ``settle``
    seconds of sleep before each burst let the previous runtime's idle workers park."""
    names = list(runners)
    est = {n: warm(runners[n], min(0.3, burst_seconds)) for n in names}
    burst = {n: max(min_burst, int(math.ceil(burst_seconds / max(est[n], 1e-7)))) for n in names}
    times = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            run = runners[n].call
            if settle > 0:
                # Let the previous runtime's workers park, then bring this runtime back to
                # its steady state (its own workers awake) with untimed calls.
                time.sleep(settle)
                end = time.perf_counter() + settle
                while time.perf_counter() < end:
                    run()
            run()
            run()  # wake the thread pool; untimed
            ts = times[n]
            for _ in range(burst[n]):
                t0 = time.perf_counter_ns()
                run()
                ts.append((time.perf_counter_ns() - t0) * 1e-9)
    return times


def summary(ts: list[float]) -> dict:
    q = statistics.quantiles(ts, n=10) if len(ts) >= 10 else [min(ts)] * 9
    return {"median_s": statistics.median(ts), "p10_s": q[0], "p90_s": q[-1],
            "min_s": min(ts), "calls": len(ts)}


# ------------------------------------------------------------------------------- main

def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="drsn vs onnxruntime vs OpenVINO benchmark")
    ap.add_argument("--models", nargs="+", default=BENCH_MODELS,
                    help="benchmark model names (benchmarks/models/<name>.onnx), paths to "
                         ".onnx files, or 'fixtures' for ../shared/fixtures/*.onnx")
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter rounds (smoke run)")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7, quick 2)")
    ap.add_argument("--settle", type=float, default=0.15,
                    help="seconds of sleep before each multi-threaded burst, so that the previous "
                         "runtime's spinning workers (onnxruntime's spin ~50 ms after a run) are "
                         "parked (default 0.15; 0 measures with that interference)")
    ap.add_argument("--no-ov", action="store_true", help="leave OpenVINO out")
    ap.add_argument("--json", type=Path, default=None, help="write all statistics here")
    args = ap.parse_args(argv)

    rounds = args.rounds or (2 if args.quick else 7)
    b1_burst, b64_burst = (0.05, 0.1) if args.quick else (0.25, 0.6)
    use_ov = ov is not None and not args.no_ov

    load0 = os.getloadavg()
    print(f"# drsn benchmark  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?") if Path("/proc/cpuinfo").exists() else "?"
    print(f"cpu: {cpu}")
    print(f"drsn {drsn.library_version()} ({drsn.library_path()}), onnxruntime {ort.__version__}, "
          f"OpenVINO {ov_description(0) if use_ov else 'skipped (' + ('--no-ov' if ov else 'not installed') + ')'}, "
          f"numpy {np.__version__}, python {platform.python_version()}")
    lib = Path(drsn.library_path())
    if lib.is_file():
        import hashlib
        digest = hashlib.sha256(lib.read_bytes()).hexdigest()[:12]
        print(f"libdrsn: {lib.stat().st_size} bytes, modified "
              f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(lib.stat().st_mtime))} UTC, "
              f"sha256 {digest}")
    print(f"load average at start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    print(f"rounds {rounds}, burst ~{b1_burst}s (batch 1) / ~{b64_burst}s (batch {BIG_BATCH}) "
          f"per runtime per round")

    peaks = {}
    for t in args.threads:
        peaks[t], runs = sgemm_peak(t, 0.5 if args.quick else 1.5)
        print(f"sgemm peak ({t} thread{'s' * (t > 1)}): {peaks[t]:.1f} GFLOPS "
              f"(numpy/OpenBLAS 2048^3 float32, best of {runs}, "
              f"OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset)")

    results, failures = [], []
    for label, path in resolve_models(args.models):
        x64 = load_input(path, BIG_BATCH)
        inputs = {1: np.ascontiguousarray(x64[:1]), BIG_BATCH: x64}
        flops = flops_per_sample(path, inputs[1])
        print(f"\n## {label}  ({path}, input {list(x64.shape[1:])}, "
              f"{flops / 1e6:.3f} MFLOPs/sample)")
        for t in args.threads:
            row = {"model": label, "path": str(path), "threads": t, "flops": flops,
                   "sgemm_peak_gflops": peaks[t], "deviation": {}, "b1": {}, "b64": {},
                   "drsn_error": None}
            sess, ort_runners = make_ort(path, t, inputs)
            runners = {"ort": ort_runners}
            model = keep_ov = None
            try:
                model, runners["drsn"] = make_drsn(path, t, inputs)
            except drsn.Error as exc:
                row["drsn_error"] = f"{type(exc).__name__} (status {exc.status}): {exc.message}"
            if use_ov:
                keep_ov, runners["ov"] = make_ov(path, t, inputs)

            # verification against onnxruntime, before any timing
            for b in inputs:
                ort_runners[b].call()
                ref = ort_runners[b].output().copy()
                for name in ("drsn", "ov"):
                    if name not in runners:
                        continue
                    try:
                        runners[name][b].call()
                    except drsn.Error as exc:
                        row["drsn_error"] = (f"batch {b}: {type(exc).__name__} "
                                             f"(status {exc.status}): {exc.message}")
                        continue
                    except Exception as exc:  # OpenVINO: report, leave it out of timing
                        if name != "ov":
                            raise
                        print(f"threads {t}: OpenVINO failed at batch {b}: {exc}")
                        row["ov_error"] = str(exc)
                        continue
                    got = runners[name][b].output()
                    if got.shape != ref.shape:
                        dev = math.inf
                    else:
                        dev = float(np.max(np.abs(got.astype(np.float64) - ref)))
                    row["deviation"].setdefault(name, {})[b] = dev
                    if name == "drsn" and not dev <= ATOL:
                        row["drsn_error"] = (f"batch {b}: max |drsn - onnxruntime| = {dev:.3e} "
                                             f"> {ATOL:g} (shape {got.shape} vs {ref.shape})")
            devs = ", ".join(f"{n} b{b} {d:.2e}" for n, per in row["deviation"].items()
                             for b, d in per.items())
            print(f"threads {t}: max |x - onnxruntime|: {devs or '-'}")
            if row["drsn_error"]:
                print(f"threads {t}: drsn FAIL: {row['drsn_error']}")
                failures.append(f"{label} threads {t}: {row['drsn_error']}")
                runners.pop("drsn", None)
            if row.get("ov_error"):
                runners.pop("ov", None)

            order = [n for n in RUNTIMES if n in runners]
            for b, key, burst, min_burst in ((1, "b1", b1_burst, 20),
                                             (BIG_BATCH, "b64", b64_burst, 3)):
                ts = interleaved({n: runners[n][b] for n in order}, rounds, burst, min_burst,
                                 settle=args.settle if t > 1 else 0.0)
                for n in order:
                    row[key][n] = summary(ts[n])
                print(f"threads {t}: batch {b}: " + ", ".join(
                    f"{n} {row[key][n]['median_s'] * 1e3:.3f} ms "
                    f"[p10 {row[key][n]['p10_s'] * 1e3:.3f}, p90 {row[key][n]['p90_s'] * 1e3:.3f}, "
                    f"n {row[key][n]['calls']}]" for n in order))
            results.append(row)
            del runners, ort_runners, sess, keep_ov
            if model is not None:
                model.close()

    load1 = os.getloadavg()
    print(f"\nload average at end: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print_table(results)
    print_targets(results)
    if args.json:
        args.json.write_text(json.dumps({"load_start": load0, "load_end": load1,
                                         "sgemm_peak_gflops": peaks, "results": results,
                                         "failures": failures}, indent=1))
    if failures:
        print("\nFAILURES (drsn):")
        for f in failures:
            print(f"  {f}")
        return 1
    return 0


def _get(row, key, name):
    s = row[key].get(name)
    return None if s is None else s["median_s"]


def print_table(results: list[dict]) -> None:
    print()
    print("| model | MFLOPs/sample | thr | b1 ms drsn | b1 ms ort | b1 ms ov | drsn/ort b1 "
          "| b64 samples/s drsn | b64 ort | b64 ov | drsn/ort b64 | drsn/ov b64 "
          "| drsn GFLOPS (b64) | % sgemm peak |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        b1 = {n: _get(row, "b1", n) for n in RUNTIMES}
        sps = {n: (None if _get(row, "b64", n) is None else BIG_BATCH / _get(row, "b64", n))
               for n in RUNTIMES}
        gflops = None if sps["drsn"] is None else sps["drsn"] * row["flops"] / 1e9
        cells = [
            row["model"], f"{row['flops'] / 1e6:.2f}", str(row["threads"]),
            "FAIL" if row["drsn_error"] else fmt(None if b1["drsn"] is None else b1["drsn"] * 1e3, ".3f"),
            fmt(None if b1["ort"] is None else b1["ort"] * 1e3, ".3f"),
            fmt(None if b1["ov"] is None else b1["ov"] * 1e3, ".3f"),
            fmt(None if None in (b1["drsn"], b1["ort"]) else b1["drsn"] / b1["ort"], ".2f"),
            "FAIL" if row["drsn_error"] else fmt(sps["drsn"], ",.0f"),
            fmt(sps["ort"], ",.0f"), fmt(sps["ov"], ",.0f"),
            fmt(None if None in (sps["drsn"], sps["ort"]) else sps["drsn"] / sps["ort"], ".2f"),
            fmt(None if None in (sps["drsn"], sps["ov"]) else sps["drsn"] / sps["ov"], ".2f"),
            fmt(gflops, ".1f"),
            fmt(None if gflops is None else 100 * gflops / row["sgemm_peak_gflops"], ".0f"),
        ]
        print("| " + " | ".join(cells) + " |")
    print("\nb1 ms: batch-1 median latency (lower is better); b64: batch-64 samples/s from the "
          "median batch time (higher is better); drsn/ort b1 < 1 and drsn/ort b64 > 1 "
          "favour drsn.")


def print_targets(results: list[dict]) -> None:
    """Informational only: the project's performance targets against this run."""
    lines = []
    for row in results:
        m, t = row["model"], row["threads"]
        if row["drsn_error"]:
            lines.append(f"{m} thr {t}: drsn failed ({row['drsn_error']})")
            continue
        b1 = {n: _get(row, "b1", n) for n in RUNTIMES}
        b64 = {n: _get(row, "b64", n) for n in RUNTIMES}
        if m in ("drsn_cw_1d", "drsn_cs_1d"):
            r1 = b1["drsn"] / b1["ort"]
            r64 = b64["ort"] / b64["drsn"]
            lines.append(f"{m} thr {t}: batch-1 latency {r1:.2f}x ort (target <= 0.5): "
                         f"{'met' if r1 <= 0.5 else 'NOT met'}; batch-64 throughput {r64:.2f}x "
                         f"ort (target >= 2): {'met' if r64 >= 2 else 'NOT met'}")
        elif m in ("drsn_cw_2d", "drsn_cw_1d_wide") and t == 2:
            r64 = b64["ort"] / b64["drsn"]
            txt = (f"{m} thr {t}: batch-64 throughput {r64:.2f}x ort (target >= 1.3): "
                   f"{'met' if r64 >= 1.3 else 'NOT met'}")
            if b64.get("ov") is not None:
                rov = b64["ov"] / b64["drsn"]
                txt += f"; {rov:.2f}x OpenVINO (target > 1): {'met' if rov > 1 else 'NOT met'}"
            else:
                txt += "; OpenVINO not measured"
            lines.append(txt)
    if lines:
        print("\nTargets (informational, from this run):")
        for line in lines:
            print(f"  {line}")


if __name__ == "__main__":
    sys.exit(main())
