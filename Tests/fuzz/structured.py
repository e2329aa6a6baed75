#!/usr/bin/env python3
"""Structure-aware fuzzing of drsn's loader and run path: decoded ONNX models are mutated
field by field (attribute values, operator types, wiring, initializer dims / types / data,
input shapes and types, opset versions, node order), re-encoded with the onnx package and
loaded (and, when the load succeeds, run once) through libdrsn's C API in a subprocess.

    python Tests/fuzz/structured.py SECONDS [--seed N] [--batch N] [--max-executions N] [--artifacts DIR]

Where the byte-level libFuzzer target (Tests/fuzz/run.sh) mostly produces files the
protobuf reader rejects, every input here is a well-formed ModelProto, so the mutations
reach the importer, the operators' attribute and shape checks, the plan and the kernels.

Seeds: Tests/fuzz/corpus/*.onnx, ../shared/fixtures/*.onnx when present, and one small
valid model per operator in SEED_OPS (built here with onnx.helper, including the operators
that DRSN variants need beyond the classic CNN set: LSTM, GRU, ConvTranspose, LayerNorm,
Resize, ...). Each mutant gets 1-4 mutations of a randomly chosen seed.

Execution: Tests/python/corrupt_driver.py (one driver process per batch, restarted after a
crash; a driver silent for 20 s is a hang; runs use one thread). A finding is a crash, a
hang, DRSN_ERR_INTERNAL, or a failed load that leaves a model behind; each is written to
the artifacts folder (default /tmp/drsn-structured-artifacts) as <kind>-<sha1>.onnx with
the driver's stderr next to it. The summary line counts executions, outcomes and findings;
the exit status is 1 when there are findings. Needs the project's .venv (numpy, onnx) and a
built library (.build/release or DRSN_LIBRARY).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
import corrupt_driver  # noqa: E402

F = TensorProto.FLOAT
EXTREME_INTS = [-(1 << 63), -(1 << 31), -2, -1, 0, 1, 2, 3, 7, 64, 1 << 16, (1 << 31) - 1, 1 << 31, (1 << 63) - 1]
EXTREME_FLOATS = [float("nan"), float("inf"), float("-inf"), 0.0, -0.0, -1.0, 1e-30, 1e30, 3.4e38, 0.5]
ATTRIBUTE_NAMES = ["axis", "axes", "keepdims", "kernel_shape", "strides", "pads", "dilations", "group",
                   "alpha", "beta", "gamma", "epsilon", "mode", "perm", "split", "num_outputs", "size", "bias",
                   "hidden_size", "direction", "linear_before_reset", "layout", "output_padding",
                   "output_shape", "auto_pad", "ceil_mode", "transA", "transB", "to", "value", "approximate",
                   "coordinate_transformation_mode", "nearest_mode", "stash_type", "noop_with_empty_axes"]
STRING_VALUES = [b"", b"NOTSET", b"SAME_UPPER", b"SAME_LOWER", b"VALID", b"forward", b"reverse",
                 b"bidirectional", b"nearest", b"linear", b"cubic", b"half_pixel", b"asymmetric",
                 b"align_corners", b"tanh", b"none", b"constant", b"reflect", b"edge", b"\xff\xfe"]


def t(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32 if np.asarray(array).dtype.kind == "f"
                                              else np.asarray(array).dtype), name)


def one_node(op, inputs, attrs=None, *, shape=(1, 4, 6, 6), inits=(), outputs=("y",), opset=17, domain=""):
    """A model with one node `op`: graph input x of `shape`, the other inputs initializers."""
    node = helper.make_node(op, list(inputs), list(outputs), domain=domain, **(attrs or {}))
    graph = helper.make_graph([node], op, [t("x", list(shape))], [t(o, None) for o in outputs if o],
                              initializer=[const(n, a) for n, a in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def lstm_like(op, gates, hidden=3, direction="forward", **extra):
    dirs = 2 if direction == "bidirectional" else 1
    rng = np.random.default_rng(0)
    w = rng.standard_normal((dirs, gates * hidden, 4)).astype(np.float32)
    r = rng.standard_normal((dirs, gates * hidden, hidden)).astype(np.float32)
    b = rng.standard_normal((dirs, 2 * gates * hidden)).astype(np.float32)
    outs = ("y", "y_h", "y_c") if op == "LSTM" else ("y", "y_h")
    return one_node(op, ["x", "w", "r", "b"], dict(hidden_size=hidden, direction=direction, **extra),
                    shape=(5, 2, 4), inits=[("w", w), ("r", r), ("b", b)], outputs=outs, opset=14)


def seed_models():
    """One valid model per operator (attributes chosen to load in drsn or onnxruntime)."""
    rng = np.random.default_rng(1)
    w3 = rng.standard_normal((4, 4, 3, 3)).astype(np.float32)
    yield one_node("Conv", ["x", "w"], dict(pads=[1, 1, 1, 1]), inits=[("w", w3)])
    yield one_node("ConvTranspose", ["x", "w"], dict(strides=[2, 2], output_padding=[1, 1]), inits=[("w", w3)])
    yield one_node("ConvTranspose", ["x", "w"], dict(strides=[2]), shape=(1, 4, 9),
                   inits=[("w", rng.standard_normal((4, 2, 3)).astype(np.float32))])
    yield one_node("BatchNormalization", ["x", "s", "b", "m", "v"],
                   inits=[(n, np.abs(rng.standard_normal(4)).astype(np.float32) + 0.1) for n in "sbmv"])
    yield one_node("InstanceNormalization", ["x", "s", "b"], inits=[("s", np.ones(4, np.float32)),
                                                                     ("b", np.zeros(4, np.float32))])
    yield one_node("LayerNormalization", ["x", "s", "b"], dict(axis=-1), inits=[("s", np.ones(6, np.float32)),
                                                                               ("b", np.zeros(6, np.float32))])
    yield one_node("LRN", ["x"], dict(size=3, alpha=1e-4, beta=0.75, bias=1.0))
    for op in ("Relu", "Abs", "Sign", "Neg", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Erf",
               "Softplus", "Softsign", "Identity", "Dropout"):
        yield one_node(op, ["x"])
    for op, attrs in (("LeakyRelu", dict(alpha=0.1)), ("Elu", dict(alpha=1.0)), ("Selu", {}),
                      ("HardSigmoid", dict(alpha=0.2, beta=0.5)), ("HardSwish", {}),
                      ("Gelu", dict(approximate="tanh")), ("Softmax", dict(axis=1)), ("Flatten", dict(axis=1)),
                      ("GlobalAveragePool", {}), ("MaxPool", dict(kernel_shape=[2, 2], strides=[2, 2])),
                      ("AveragePool", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])),
                      ("Transpose", dict(perm=[0, 2, 3, 1])), ("Split", dict(axis=1, num_outputs=2)),
                      ("Upsample", dict(mode="nearest"))):
        if op == "Split":
            yield one_node(op, ["x"], attrs, outputs=("y", "z"), opset=18)
        elif op == "Upsample":
            yield one_node(op, ["x", "s"], attrs, inits=[("s", np.array([1, 1, 2, 2], np.float32))], opset=9)
        elif op == "Gelu":
            yield one_node(op, ["x"], attrs, opset=20)
        else:
            yield one_node(op, ["x"], attrs)
    for op in ("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Greater", "Equal"):
        yield one_node(op, ["x", "c"], inits=[("c", np.full((4, 1, 1), 0.5, np.float32))])
    for op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1"):
        yield one_node(op, ["x", "axes"], dict(keepdims=1), inits=[("axes", np.array([2, 3], np.int64))],
                       opset=18)
    yield one_node("Clip", ["x", "lo", "hi"], inits=[("lo", np.float32(-0.5)), ("hi", np.float32(0.5))])
    yield one_node("Pad", ["x", "p"], dict(mode="constant"), inits=[("p", np.array([0, 0, 1, 1, 0, 0, 1, 1]))])
    yield one_node("Reshape", ["x", "s"], inits=[("s", np.array([1, -1], np.int64))])
    yield one_node("Tile", ["x", "r"], inits=[("r", np.array([1, 2, 1, 1], np.int64))])
    yield one_node("Slice", ["x", "a", "b", "c"], inits=[("a", np.array([1])), ("b", np.array([5])),
                                                         ("c", np.array([2]))])
    yield one_node("Gather", ["x", "i"], dict(axis=1), inits=[("i", np.array([0, 3, 1]))])
    yield one_node("Concat", ["x", "x"], dict(axis=1))
    yield one_node("Expand", ["x", "s"], inits=[("s", np.array([2, 4, 6, 6]))])
    yield one_node("Squeeze", ["x", "a"], inits=[("a", np.array([0]))], opset=13)
    yield one_node("Unsqueeze", ["x", "a"], inits=[("a", np.array([0]))], opset=13)
    yield one_node("Resize", ["x", "", "s"], dict(mode="linear"),
                   inits=[("s", np.array([1, 1, 2, 2], np.float32))], opset=19)
    yield one_node("Gemm", ["x", "w", "b"], dict(transB=1), shape=(2, 4),
                   inits=[("w", rng.standard_normal((3, 4)).astype(np.float32)), ("b", np.zeros(3, np.float32))])
    yield one_node("MatMul", ["x", "w"], shape=(2, 5, 4), inits=[("w", rng.standard_normal((4, 3)).astype(np.float32))])
    yield lstm_like("LSTM", 4)
    yield lstm_like("LSTM", 4, direction="bidirectional")
    yield lstm_like("GRU", 3, linear_before_reset=1)
    yield lstm_like("GRU", 3, direction="reverse")


def load_seeds():
    seeds = []
    for p in sorted((HERE / "corpus").glob("*.onnx")):
        seeds.append(onnx.load_from_string(p.read_bytes()))
    fixtures = ROOT.parent / "shared" / "fixtures"
    for p in sorted(fixtures.glob("*.onnx")) if fixtures.is_dir() else []:
        seeds.append(onnx.load_from_string(p.read_bytes()))
    seeds.extend(seed_models())
    return seeds


# ---- mutations: each takes (rng, model) and changes the model in place -------------------

def _node(rng, m):
    return rng.choice(m.graph.node) if m.graph.node else None


def _attr(rng, m):
    nodes = [n for n in m.graph.node if n.attribute]
    return rng.choice(rng.choice(nodes).attribute) if nodes else None


def mutate_attribute_value(rng, m):
    a = _attr(rng, m)
    if a is None:
        return
    if a.type == onnx.AttributeProto.INT:
        a.i = rng.choice(EXTREME_INTS)
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = rng.choice(EXTREME_FLOATS)
    elif a.type == onnx.AttributeProto.INTS:
        vals = list(a.ints) or [1]
        k = rng.randrange(4)
        if k == 0:
            vals[rng.randrange(len(vals))] = rng.choice(EXTREME_INTS)
        elif k == 1:
            vals.append(rng.choice(EXTREME_INTS))
        elif k == 2:
            vals = vals[:rng.randrange(len(vals) + 1)]
        else:
            vals = vals * rng.randrange(2, 4)
        del a.ints[:]
        a.ints.extend(vals)
    elif a.type == onnx.AttributeProto.FLOATS:
        del a.floats[:]
        a.floats.extend(rng.choice(EXTREME_FLOATS) for _ in range(rng.randrange(5)))
    elif a.type == onnx.AttributeProto.STRING:
        a.s = rng.choice(STRING_VALUES)
    elif a.type == onnx.AttributeProto.TENSOR:
        mutate_tensor(rng, a.t)


def mutate_attribute_kind(rng, m):
    n = _node(rng, m)
    if n is None:
        return
    k = rng.randrange(3)
    if k == 0 and n.attribute:
        del n.attribute[rng.randrange(len(n.attribute))]
    elif k == 1 and n.attribute:
        n.attribute[rng.randrange(len(n.attribute))].name = rng.choice(ATTRIBUTE_NAMES)
    else:
        name = rng.choice(ATTRIBUTE_NAMES)
        value = rng.choice([rng.choice(EXTREME_INTS), rng.choice(EXTREME_FLOATS), rng.choice(STRING_VALUES),
                            [rng.choice(EXTREME_INTS) for _ in range(rng.randrange(1, 5))]])
        n.attribute.append(helper.make_attribute(name, value))


def mutate_op_type(rng, m):
    n = _node(rng, m)
    if n is not None:
        n.op_type = rng.choice(SEED_OPS)


def mutate_wiring(rng, m):
    n = _node(rng, m)
    if n is None:
        return
    names = [v.name for v in m.graph.input] + [i.name for i in m.graph.initializer] + \
            [o for x in m.graph.node for o in x.output] + ["", "undefined_value"]
    k = rng.randrange(4)
    if k == 0 and n.input:
        n.input[rng.randrange(len(n.input))] = rng.choice(names)
    elif k == 1:
        n.input.append(rng.choice(names))
    elif k == 2 and n.input:
        del n.input[rng.randrange(len(n.input))]
    elif n.output:
        if rng.random() < 0.5:
            n.output.append(rng.choice(names))
        else:
            n.output[rng.randrange(len(n.output))] = rng.choice(names)


def mutate_tensor(rng, tensor):
    k = rng.randrange(6)
    if k == 0 and tensor.dims:
        tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice(EXTREME_INTS)
    elif k == 1:
        tensor.dims.append(rng.choice([0, 1, 2, 3]))
    elif k == 2:
        tensor.data_type = rng.randrange(0, 26)
    elif k == 3 and tensor.raw_data:
        raw = tensor.raw_data
        tensor.raw_data = raw[:rng.randrange(len(raw) + 1)] if rng.random() < 0.5 else raw + raw[:7]
    elif k == 4 and tensor.data_type == F:
        arr = numpy_helper.to_array(tensor).copy()
        if arr.size:
            arr.flat[rng.randrange(arr.size)] = rng.choice(EXTREME_FLOATS)
            tensor.CopyFrom(numpy_helper.from_array(arr, tensor.name))
    elif tensor.dims:
        del tensor.dims[rng.randrange(len(tensor.dims))]


def mutate_initializer(rng, m):
    if m.graph.initializer:
        mutate_tensor(rng, rng.choice(m.graph.initializer))


def initializer_to_input(rng, m):
    """A parameter becomes a runtime graph input (the operator must accept or refuse it)."""
    if not m.graph.initializer:
        return
    i = rng.randrange(len(m.graph.initializer))
    init = m.graph.initializer[i]
    m.graph.input.append(helper.make_tensor_value_info(init.name, init.data_type, list(init.dims)))
    del m.graph.initializer[i]


def mutate_input_type(rng, m):
    if not m.graph.input:
        return
    v = rng.choice(m.graph.input)
    tt = v.type.tensor_type
    k = rng.randrange(4)
    if k == 0:
        tt.elem_type = rng.randrange(0, 26)
    elif k == 1 and tt.shape.dim:
        d = tt.shape.dim[rng.randrange(len(tt.shape.dim))]
        if rng.random() < 0.3:
            d.dim_param = "N"
        else:
            d.dim_value = rng.choice([0, 1, 2, 3, 5, 17, 1 << 20, -1])
    elif k == 2:
        tt.shape.dim.add().dim_value = rng.choice([1, 2, 3])
    elif tt.shape.dim:
        del tt.shape.dim[rng.randrange(len(tt.shape.dim))]


def mutate_opset(rng, m):
    if m.opset_import:
        m.opset_import[0].version = rng.choice([1, 6, 7, 9, 10, 11, 12, 13, 17, 18, 19, 21, 22, 25, 28, 29, 1000])


def mutate_structure(rng, m):
    nodes = list(m.graph.node)
    k = rng.randrange(4)
    if k == 0 and nodes:
        m.graph.node.append(rng.choice(nodes))
    elif k == 1 and len(nodes) > 1:
        del m.graph.node[rng.randrange(len(nodes))]
    elif k == 2 and len(nodes) > 1:
        i, j = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        a, b = onnx.NodeProto(), onnx.NodeProto()
        a.CopyFrom(nodes[i])
        b.CopyFrom(nodes[j])
        m.graph.node[i].CopyFrom(b)
        m.graph.node[j].CopyFrom(a)
    elif m.graph.output:
        if rng.random() < 0.5 and len(m.graph.output) > 1:
            del m.graph.output[rng.randrange(len(m.graph.output))]
        elif nodes:
            out = rng.choice(rng.choice(nodes).output or ["missing"])
            m.graph.output.append(t(out or "missing", None))


MUTATIONS = [mutate_attribute_value] * 4 + [mutate_attribute_kind, mutate_op_type, mutate_wiring] * 2 + \
    [mutate_initializer] * 3 + [initializer_to_input, mutate_input_type, mutate_input_type, mutate_opset,
                                mutate_structure]
SEED_OPS = sorted({"Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
                   "LRN", "Relu", "Abs", "Sign", "Neg", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal",
                   "Erf", "Softplus", "Softsign", "Identity", "Dropout", "LeakyRelu", "Elu", "Selu",
                   "HardSigmoid", "HardSwish", "Gelu", "Softmax", "Flatten", "GlobalAveragePool", "MaxPool",
                   "AveragePool", "Transpose", "Split", "Upsample", "Add", "Sub", "Mul", "Div", "Pow", "Max",
                   "Min", "Sum", "Mean", "PRelu", "Greater", "Equal", "Where", "ReduceMean", "ReduceSum",
                   "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceL1", "Clip", "Pad", "Reshape",
                   "Tile", "Slice", "Gather", "Concat", "Expand", "Squeeze", "Unsqueeze", "Resize", "Gemm",
                   "MatMul", "LSTM", "GRU", "Cast", "Shape", "ConstantOfShape", "Constant"})


def mutant(rng, seeds):
    m = onnx.ModelProto()
    m.CopyFrom(rng.choice(seeds))
    for _ in range(rng.randrange(1, 5)):
        try:
            rng.choice(MUTATIONS)(rng, m)
        except (ValueError, TypeError, IndexError, OverflowError):
            pass  # the mutation did not apply to what earlier mutations left (e.g. data vs dims)
    return m.SerializeToString()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("seconds", type=float)
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time)")
    ap.add_argument("--batch", type=int, default=2000, help="mutants per driver batch")
    ap.add_argument("--max-executions", type=int, default=None, help="stop after this many mutants")
    ap.add_argument("--artifacts", type=Path, default=Path("/tmp/drsn-structured-artifacts"))
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    seeds = load_seeds()
    args.artifacts.mkdir(parents=True, exist_ok=True)
    print(f"structured fuzzing: {len(seeds)} seeds, random seed {seed}, {args.seconds:.0f} s, "
          f"findings in {args.artifacts}", flush=True)
    counts, findings, executions = Counter(), [], 0
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        while time.monotonic() - start < args.seconds:
            n = args.batch if args.max_executions is None else min(args.batch, args.max_executions - executions)
            if n <= 0:
                break
            batch = [mutant(rng, seeds) for _ in range(n)]
            results = corrupt_driver.run_batches([(corrupt_driver.KIND_MEMORY, b) for b in batch], Path(tmp))
            names = [hashlib.sha1(b).hexdigest()[:16] for b in batch]
            for b, name, r in zip(batch, names, results):
                outcome = corrupt_driver.outcome(r)
                counts[outcome] += 1
                finding = isinstance(r[0], str) or r[1] == -3 or r[0] == 100 or r[1] == 100
                if finding:
                    kind = outcome.split()[0].lower().replace(",", "")
                    path = args.artifacts / f"{kind}-{name}.onnx"
                    path.write_bytes(b)
                    if len(r) > 3:
                        path.with_suffix(".stderr.txt").write_text(str(r[3]))
                    findings.append((path, outcome))
            executions += len(batch)
            elapsed = time.monotonic() - start
            print(f"  {executions} executions, {executions / elapsed:.0f}/s, {len(findings)} findings", flush=True)
    elapsed = time.monotonic() - start
    print(f"\nstructured fuzzing: {executions} executions in {elapsed:.0f} s "
          f"({executions / elapsed:.0f}/s), {len(findings)} findings")
    for k, v in counts.most_common():
        print(f"  {v:8d}  {k}")
    for path, outcome in findings:
        print(f"  FINDING {outcome}: {path}")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
