"""Test helpers: build ONNX graphs, run them through onnxruntime (the oracle) and drsn,
and compare.

Agreement is absolute: |drsn - onnxruntime| <= ATOL (1e-4) element-wise, rtol 0, the
same shape, NaN where the oracle has NaN. Boolean and integer oracle outputs are
compared as float32 (drsn writes booleans as 0.0 / 1.0).
"""

from __future__ import annotations

import itertools
import os
import zlib
from typing import Callable, Iterable, Mapping, Optional, Sequence

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import drsn

ATOL = 1e-4
ORACLE_ONLY = False  # set by conftest (--oracle-only)
DEVIATIONS: dict[str, float] = {}  # test id -> largest |drsn - ort| seen

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

_counter = itertools.count()


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], name: str | None = None,
         domain: str | None = None, **attrs) -> onnx.NodeProto:
    """helper.make_node with a unique node name (error messages name nodes)."""
    return helper.make_node(op, list(inputs), list(outputs),
                            name=name or f"{op}_{next(_counter)}", domain=domain, **attrs)


def i64(*values) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def make_model(nodes: Sequence[onnx.NodeProto],
               inputs: Sequence[tuple[str, Sequence]],
               outputs: Sequence,
               inits: Optional[Mapping[str, np.ndarray]] = None,
               opset: int = 17,
               extra_opsets: Iterable[tuple[str, int]] = ()) -> onnx.ModelProto:
    """A model with float32 graph inputs ``(name, shape)`` (dims are ints or symbolic
    names such as "N"), outputs given as a name (float32) or ``(name, elem_type)``,
    and initializers from numpy arrays (dtype kept)."""
    graph_inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(shape))
                    for n, shape in inputs]
    graph_outputs = []
    for out in outputs:
        name, elem = (out, TensorProto.FLOAT) if isinstance(out, str) else out
        graph_outputs.append(helper.make_tensor_value_info(name, elem, None))
    initializer = [numpy_helper.from_array(np.asarray(v), name=k) for k, v in (inits or {}).items()]
    graph = helper.make_graph(list(nodes), "test_graph", graph_inputs, graph_outputs, initializer)
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="drsn-tests")
    model.ir_version = max(7, helper.find_min_ir_version_for(opsets[:1]))
    # Declare output shapes the way exporters do, where ONNX shape inference knows them
    # (an output whose rank depends on run-time sizes keeps no shape).
    # (inferred on a copy without graph outputs: every tensor then lands in value_info)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    inferred = onnx.shape_inference.infer_shapes(probe)
    known = {vi.name: vi.type for vi in inferred.graph.value_info}
    known.update({vi.name: vi.type for vi in graph_inputs})
    known.update({t.name: helper.make_tensor_type_proto(t.data_type, list(t.dims)) for t in initializer})
    for declared in model.graph.output:
        found = known.get(declared.name)
        if found is not None and found.tensor_type.HasField("shape"):
            declared.type.CopyFrom(found)
    return model


def validate(model: onnx.ModelProto) -> None:
    """onnx.checker (full check: strict shape and type inference); raises on an
    invalid graph. The checker insists on a shape for graph outputs; an output whose
    rank is only known at run time is checked with an unknown-shape placeholder."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for out in copy.graph.output:
        if not out.type.tensor_type.HasField("shape"):
            out.type.tensor_type.shape.SetInParent()
    onnx.checker.check_model(copy, full_check=True)


def ort_session(model: onnx.ModelProto | bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    data = model if isinstance(model, bytes) else model.SerializeToString()
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def ort_run(session: ort.InferenceSession, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, dict(feeds))))


def uniform(low=-2.0, high=2.0) -> Callable:
    return lambda shape, rng: rng.uniform(low, high, size=shape).astype(np.float32)


def with_zeros(low=-3.0, high=3.0, fraction=0.15) -> Callable:
    """Uniform values with a fraction of exact zeros (Sign, Relu, comparisons)."""
    def gen(shape, rng):
        x = rng.uniform(low, high, size=shape).astype(np.float32)
        x[rng.random(size=shape) < fraction] = 0.0
        return x
    return gen


def integers(low=-2, high=2) -> Callable:
    """Small integers as float32: many ties for comparisons and Max/Min."""
    return lambda shape, rng: rng.integers(low, high + 1, size=shape).astype(np.float32)


def away_from_zero(low=0.5, high=2.0) -> Callable:
    """Values with |v| in [low, high] and random sign (divisors)."""
    def gen(shape, rng):
        mag = rng.uniform(low, high, size=shape)
        return (mag * rng.choice([-1.0, 1.0], size=shape)).astype(np.float32)
    return gen


def input_shapes(model: onnx.ModelProto) -> dict[str, list]:
    """Declared input shapes: ints, or the dim_param string for a symbolic dim."""
    shapes = {}
    inits = {i.name for i in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in dims]
    return shapes


def with_static_dims(model: onnx.ModelProto, sizes: Mapping[str, int]) -> onnx.ModelProto:
    """A copy whose symbolic input dims are replaced by the given sizes."""
    static = onnx.ModelProto()
    static.CopyFrom(model)
    for vi in static.graph.input:
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param in sizes:
                d.dim_value = sizes[d.dim_param]
    return static


def make_feeds(model: onnx.ModelProto, sizes: Mapping[str, int], rng: np.random.Generator,
               gen: Callable | Mapping[str, Callable] | None = None) -> dict[str, np.ndarray]:
    feeds = {}
    for name, dims in input_shapes(model).items():
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in dims)
        g = gen.get(name) if isinstance(gen, Mapping) else gen
        feeds[name] = (g or uniform())(shape, rng)
    return feeds


@pytest.fixture(autouse=True)
def seed_rng_per_test(request):
    """Autouse in every test module that imports it: before each test, the module's `RNG`
    becomes a Generator seeded from the test's id only, so initializer values do not depend
    on which tests ran before."""
    request.module.RNG = np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


def _test_id() -> str:
    current = os.environ.get("PYTEST_CURRENT_TEST", "unknown")
    return current.rsplit(" (", 1)[0]


def compare(actual: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray],
            atol: float = ATOL, context: str = "") -> float:
    """Asserts agreement output by output; returns the largest absolute deviation."""
    assert list(actual) == list(expected), f"{context}: output names {list(actual)} != {list(expected)}"
    worst = 0.0
    for name, exp in expected.items():
        act = actual[name]
        exp = np.asarray(exp)
        assert act.dtype == np.float32, f"{context}: output {name!r} dtype {act.dtype}"
        assert act.shape == exp.shape, (
            f"{context}: output {name!r} shape: drsn {act.shape}, onnxruntime {exp.shape}")
        exp32 = exp.astype(np.float32)
        np.testing.assert_allclose(act, exp32, rtol=0, atol=atol,
                                   err_msg=f"{context}: output {name!r}")
        finite = np.isfinite(exp32) & np.isfinite(act)
        if finite.any():
            worst = max(worst, float(np.max(np.abs(act[finite].astype(np.float64)
                                                   - exp32[finite].astype(np.float64)))))
    test = _test_id()
    DEVIATIONS[test] = max(DEVIATIONS.get(test, 0.0), worst)
    return worst


def _load(data: bytes, num_threads, unsupported_ok) -> drsn.Model:
    try:
        return drsn.Model(data, num_threads=num_threads)
    except drsn.UnsupportedError as exc:
        if unsupported_ok is None:
            raise
        missing = [s for s in unsupported_ok if s not in str(exc)]
        assert not missing, f"UnsupportedError message lacks {missing}: {exc}"
        pytest.skip(f"unsupported by drsn: {exc}")


def check(model: onnx.ModelProto, *, gen=None, batches: Sequence[int] = (1, 7),
          sizes: Optional[Mapping[str, int]] = None, static: bool = True,
          atol: float = ATOL, seed: int | None = None, num_threads: int | None = None,
          unsupported_ok: Sequence[str] | None = None) -> None:
    """Validates ``model`` and compares drsn with onnxruntime on random inputs.

    The symbolic dim "N" takes each value of ``batches`` (other symbols take ``sizes``),
    all on one loaded drsn model (so shape changes between runs are exercised, batch 1
    runs again at the end). With ``static`` the model is also compiled with every
    symbolic dim fixed (N = the largest batch) and compared once more.

    ``unsupported_ok``: for features beyond what drsn promises (old opsets, optional
    outputs, ...). If drsn refuses the model with UnsupportedError whose message contains
    every given string, the test is skipped with that message as the reason; a model it
    does load must still agree with onnxruntime.
    """
    validate(model)
    sizes = dict(sizes or {})
    symbols = {d for dims in input_shapes(model).values() for d in dims if isinstance(d, str)}
    rng = np.random.default_rng(zlib.crc32(_test_id().encode()) if seed is None else seed)
    if "N" in symbols:
        runs = list(batches) + [batches[0]] if len(batches) > 1 else list(batches)
    else:
        runs = [None]
    variants = [(model, runs)]
    if static and symbols:
        fixed = dict(sizes, N=max(batches))
        variants.append((with_static_dims(model, fixed), [fixed["N"]]))
    for variant, batch_list in variants:
        data = variant.SerializeToString()
        session = ort_session(data)
        drsn_model = None if ORACLE_ONLY else _load(data, num_threads, unsupported_ok)
        try:
            for batch in batch_list:
                run_sizes = dict(sizes) if batch is None else dict(sizes, N=batch)
                feeds = make_feeds(variant, run_sizes, rng, gen)
                expected = ort_run(session, feeds)
                if drsn_model is None:
                    continue
                actual = drsn_model.run_dict(feeds)
                static_tag = "static" if variant is not model else "dynamic"
                compare(actual, expected, atol, context=f"{static_tag} model, sizes {run_sizes}")
        finally:
            if drsn_model is not None:
                drsn_model.close()
