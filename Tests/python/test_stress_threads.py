"""Concurrency through the ctypes binding: 8 Python threads share one drsn.Model (ctypes
releases the GIL during drsn_model_run, so runs really overlap) and run it with batch
sizes 1..9; every output must equal, bit for bit, the output of a serial run of the same
model on the same input. Then the same with one Model per thread. Uses the 1-D fixture
when present, else a small generated convolutional model."""

import os
import threading
import time

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import drsn
from shared_fixtures import fixture as shared_fixture
THREADS = 8
RUNS = int(os.environ.get("DRSN_STRESS_RUNS", "500"))  # per thread

pytestmark = pytest.mark.usefixtures("needs_library")


def model_bytes():
    fixture = shared_fixture("drsn_cw_1d.onnx")
    if fixture is not None:
        return fixture.read_bytes()
    rng = np.random.default_rng(3)
    n = helper.make_node
    nodes = [n("Conv", ["x", "w", "b"], ["c"], pads=[1, 1]), n("Relu", ["c"], ["r"]),
             n("GlobalAveragePool", ["r"], ["g"]), n("Flatten", ["g"], ["f"]),
             n("Gemm", ["f", "gw", "gb"], ["y"], transB=1)]
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), name)
             for name, s in (("w", (8, 1, 3)), ("b", (8,)), ("gw", (10, 8)), ("gb", (10,)))]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def inputs_for(model):
    shape = [1 if d is None else d for d in model.inputs[0].shape]
    rng = np.random.default_rng(11)
    out = {}
    for batch in range(1, 10):
        s = [batch] + shape[1:]
        out[batch] = rng.uniform(-1, 1, size=s).astype(np.float32)
    return out


def hammer(get_model, xs, refs):
    errors, mismatches, done = [], [0], [0]
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def work(t):
        try:
            model = get_model()
            barrier.wait()
            for i in range(RUNS):
                batch = 1 + (i + t) % 9
                (y,) = model.run(xs[batch])
                if not np.array_equal(y, refs[batch]) or y.tobytes() != refs[batch].tobytes():
                    with lock:
                        mismatches[0] += 1
                with lock:
                    done[0] += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    t0 = time.time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return done[0], mismatches[0], errors, time.time() - t0


def test_threads_share_one_model():
    with drsn.Model(model_bytes()) as model:
        xs = inputs_for(model)
        refs = {b: model.run(x)[0] for b, x in xs.items()}
        done, mismatches, errors, secs = hammer(lambda: model, xs, refs)
    print(f"\nshared model: {THREADS} Python threads, {done} runs in {secs:.2f} s, {mismatches} mismatches")
    assert not errors, errors[:3]
    assert done == THREADS * RUNS
    assert mismatches == 0


def test_thread_per_model():
    data = model_bytes()
    with drsn.Model(data) as model:
        xs = inputs_for(model)
        refs = {b: model.run(x)[0] for b, x in xs.items()}
    models = []
    lock = threading.Lock()

    def own():
        m = drsn.Model(data)
        with lock:
            models.append(m)
        return m

    try:
        done, mismatches, errors, secs = hammer(own, xs, refs)
    finally:
        for m in models:
            m.close()
    print(f"\nown models: {THREADS} Python threads, {done} runs in {secs:.2f} s, {mismatches} mismatches")
    assert not errors, errors[:3]
    assert done == THREADS * RUNS
    assert mismatches == 0
