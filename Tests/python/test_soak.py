"""Soak test: resident memory (VmRSS) must stay flat over 100,000 runs of a small model,
20,000 runs that each build a new plan (40 shapes through a 16-plan cache) and 1,000
load/unload cycles, once warmed up. Each phase runs in a fresh subprocess
(this file run as a script), so the test process's own allocations do not blur the
numbers; the child prints its RSS before and after, the test asserts growth < 10 MB.

    python test_soak.py runs N | shapes N | loads N
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()
MAX_GROWTH_KB = 10 * 1024

pytestmark = pytest.mark.usefixtures("needs_library")


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def small_model() -> bytes:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    n = helper.make_node
    rng = np.random.default_rng(5)
    nodes = [n("Conv", ["x", "w", "b"], ["c"], pads=[1, 1]), n("Relu", ["c"], ["r"]), n("Abs", ["r"], ["a"]),
             n("GlobalAveragePool", ["a"], ["g"]), n("Flatten", ["g"], ["f"]),
             n("Gemm", ["f", "gw", "gb"], ["h"], transB=1), n("Sigmoid", ["h"], ["y"])]
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), name)
             for name, s in (("w", (4, 1, 3)), ("b", (4,)), ("gw", (3, 4)), ("gb", (3,)))]
    g = helper.make_graph(nodes, "soak", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def child(mode: str, count: int) -> None:
    sys.path.insert(0, str(HERE.parents[2] / "bindings" / "python"))
    import numpy as np
    import drsn
    data = small_model()
    x = {b: np.linspace(-1, 1, b * 16, dtype=np.float32).reshape(b, 1, 16) for b in (1, 2, 3)}
    warm = max(count // 20, 100)
    t0 = time.time()
    if mode == "runs":
        with drsn.Model(data, num_threads=1) as m:
            out = [np.empty((b, 3), np.float32) for b in (1, 2, 3)]
            for i in range(warm):
                m.run_into(x[1 + i % 3], [out[i % 3]])
            before = rss_kb()
            for i in range(count):
                m.run_into(x[1 + i % 3], [out[i % 3]])
            after = rss_kb()
    elif mode == "shapes":
        # 40 batch sizes cycled through a plan cache of 16: every run builds and evicts a plan.
        xs = [np.linspace(-1, 1, b * 16, dtype=np.float32).reshape(b, 1, 16) for b in range(1, 41)]
        with drsn.Model(data, num_threads=1) as m:
            for i in range(warm):
                m.run(xs[i % 40])
            before = rss_kb()
            for i in range(count):
                m.run(xs[i % 40])
            after = rss_kb()
    else:
        for i in range(warm):
            with drsn.Model(data, num_threads=1) as m:
                m.run(x[1])
        before = rss_kb()
        for i in range(count):
            with drsn.Model(data, num_threads=1) as m:
                m.run(x[1])
        after = rss_kb()
    print(json.dumps({"mode": mode, "count": count, "warmup": warm, "rss_before_kb": before,
                      "rss_after_kb": after, "seconds": round(time.time() - t0, 2)}))


def soak(mode, count):
    out = subprocess.run([sys.executable, str(HERE), mode, str(count)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    growth = r["rss_after_kb"] - r["rss_before_kb"]
    print(f"\n{mode}: {count} after {r['warmup']} warm-up: VmRSS {r['rss_before_kb']} kB -> "
          f"{r['rss_after_kb']} kB ({growth:+d} kB) in {r['seconds']} s")
    return growth


def test_soak_runs():
    assert soak("runs", 100_000) < MAX_GROWTH_KB


def test_soak_plan_cache_churn():
    assert soak("shapes", 20_000) < MAX_GROWTH_KB


def test_soak_load_unload():
    assert soak("loads", 1_000) < MAX_GROWTH_KB


if __name__ == "__main__":
    child(sys.argv[1], int(sys.argv[2]))
