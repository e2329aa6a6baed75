"""Corrupt, truncated and hostile model files: every one must load with a clean error
status or load (and run) correctly; none may crash the process, hang, or leave a model
behind on failure.

The mutated models are loaded in subprocesses (corrupt_driver.py, one per batch of
files), so a crash is counted against the file that caused it instead of ending the test
run; a crashed driver is restarted after the offending file. Categories:

* truncation: every length of small generated models, and a dense sample of lengths of a
  fixture (every length up to 4 KiB, then evenly spaced);
* random byte flips (fixed seeds) of the generated models and a fixture;
* protobuf-level mutations (fixed seeds): varints set to extreme values (huge declared
  sizes, negative numbers as 10-byte varints), wrong wire types for known fields, length
  prefixes larger than the message, dropped and duplicated fields;
* hand-made hostile models: dims of zero or negative (inputs and initializers), huge
  dims, cyclic graphs, dangling node inputs, nodes without outputs, mismatched
  initializer sizes, wrong attribute types, huge shapes computed at load;
* external data whose location escapes the model's folder ('../../etc/passwd', absolute
  paths, backslashes), which must fail with DRSN_ERR_INVALID_MODEL.

The test prints the number of files and the count of each outcome.
"""

import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corrupt_driver  # noqa: E402
from shared_fixtures import fixture as shared_fixture  # noqa: E402

SLOW_MS = corrupt_driver.SLOW_MS

pytestmark = pytest.mark.usefixtures("needs_library")


# ---- small generated models ---------------------------------------------------------------

def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def model(nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="corrupt")


def arr(name, values, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def small_models():
    rng = np.random.default_rng(7)
    n = helper.make_node
    m = {}
    m["conv_bn_relu"] = model(
        [n("Conv", ["x", "w", "b"], ["c"], pads=[1, 1]), n("BatchNormalization", ["c", "s", "bb", "mu", "v"], ["bn"]),
         n("Relu", ["bn"], ["r"]), n("Abs", ["r"], ["a"]), n("GlobalAveragePool", ["a"], ["g"]),
         n("Flatten", ["g"], ["f"]), n("Gemm", ["f", "gw", "gb"], ["h"], transB=1), n("Sigmoid", ["h"], ["z"]),
         n("Unsqueeze", ["z", "ax"], ["t"]), n("Sub", ["a", "t"], ["d"]), n("Sign", ["r"], ["sg"]),
         n("Mul", ["sg", "d"], ["y"])],
        [f32("x", ["N", 2, 8])], [f32("y", ["N", 3, 8])],
        [arr("w", rng.standard_normal((3, 2, 3))), arr("b", rng.standard_normal(3)), arr("s", [1, 2, 3]),
         arr("bb", [0, 1, 0]), arr("mu", [0.1, 0, 0]), arr("v", [1, 1, 2]), arr("gw", rng.standard_normal((3, 3))),
         arr("gb", [0, 0, 0]), arr("ax", [2], np.int64)])
    m["shape_chain"] = model(
        [n("Shape", ["x"], ["s"]), n("ConstantOfShape", ["s"], ["z"], value=arr("v", [0.5])),
         n("Add", ["x", "z"], ["a"]), n("Reshape", ["a", "r"], ["re"]), n("Pad", ["re", "p"], ["pd"]),
         n("Slice", ["pd", "st", "en", "axs"], ["sl"]), n("Concat", ["sl", "sl"], ["y"], axis=1)],
        [f32("x", ["N", 2, 3])], [f32("y", ["N", 12])],
        [arr("r", [0, -1], np.int64), arr("p", [0, 1, 0, 1], np.int64), arr("st", [1], np.int64),
         arr("en", [7], np.int64), arr("axs", [1], np.int64)])
    m["legacy_pool"] = model(
        [n("Constant", [], ["k"], value=arr("kv", [2.0])), n("Mul", ["x", "k"], ["m"]),
         n("MaxPool", ["m"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         n("AveragePool", ["p"], ["q"], kernel_shape=[2, 2], pads=[1, 1, 1, 1]),
         n("Clip", ["q"], ["c"], min=-1.0, max=1.0), n("Transpose", ["c"], ["t"], perm=[0, 1, 3, 2]),
         n("ReduceMean", ["t"], ["y"], axes=[2, 3], keepdims=0)],
        [f32("x", ["N", 1, 8, 8])], [f32("y", ["N", 1])], opset=9)
    m["where_softmax"] = model(
        [n("Greater", ["x", "zero"], ["c"]), n("Where", ["c", "x", "zero"], ["w"]), n("Softmax", ["w"], ["s"]),
         n("MatMul", ["s", "mw"], ["mm"]), n("Gather", ["mm", "gi"], ["y"], axis=1)],
        [f32("x", ["N", 4])], [f32("y", ["N", 2])],
        [arr("zero", [0.0]), arr("mw", rng.standard_normal((4, 3))), arr("gi", [0, 2], np.int64)], opset=13)
    return {k: v.SerializeToString() for k, v in m.items()}


# ---- protobuf-level mutation ------------------------------------------------------------

def read_varint(data, pos):
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def parse_fields(data, depth=0):
    """Parses data as a protobuf message: a list of [field, wiretype, value], where value is
    an int (varint/fixed), bytes, or a nested list for payloads that parse as messages.
    Raises ValueError when data is not a message."""
    fields, pos = [], 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        field, wt = key >> 3, key & 7
        if field == 0:
            raise ValueError
        if wt == 0:
            v, pos = read_varint(data, pos)
        elif wt == 1:
            if pos + 8 > len(data):
                raise ValueError
            v, pos = data[pos:pos + 8], pos + 8
        elif wt == 5:
            if pos + 4 > len(data):
                raise ValueError
            v, pos = data[pos:pos + 4], pos + 4
        elif wt == 2:
            n, pos = read_varint(data, pos)
            if pos + n > len(data):
                raise ValueError
            raw = data[pos:pos + n]
            pos += n
            v = raw
            if depth < 6 and raw:
                try:
                    v = parse_fields(raw, depth + 1)
                except ValueError:
                    v = raw
        else:
            raise ValueError
        fields.append([field, wt, v])
    return fields


def serialize(fields):
    out = bytearray()
    for field, wt, v in fields:
        out += varint((field << 3) | wt)
        if wt == 0:
            out += varint(v)
        elif wt in (1, 5):
            out += v
        else:
            payload = serialize(v) if isinstance(v, list) else v
            out += varint(len(payload)) + payload
    return bytes(out)


def all_slots(fields, acc=None):
    """Every (containing list, index) in the tree."""
    acc = [] if acc is None else acc
    for i, f in enumerate(fields):
        acc.append((fields, i))
        if isinstance(f[2], list):
            all_slots(f[2], acc)
    return acc


EXTREME_VARINTS = [0, 1, 2, 3, 7, 127, 128, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**40, 2**62,
                   2**63 - 1, 2**63, 2**64 - 1, (1 << 64) - 2, (1 << 64) - 2**31]


def proto_mutants(data, count, seed):
    """count single-mutation variants of a serialized protobuf."""
    tree = parse_fields(data)
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        t = parse_fields(data)  # fresh copy
        slots = all_slots(t)
        container, i = rng.choice(slots)
        field, wt, v = container[i]
        op = rng.randrange(6)
        extra = b""
        if op == 0 or (op == 1 and wt != 0):
            # extreme varint (or replace a field with a varint of the same number)
            container[i] = [field, 0, rng.choice(EXTREME_VARINTS)]
        elif op == 1:
            container[i] = [field, 2, b"\x01\x02"]  # varint field as bytes
        elif op == 2:
            # wrong wire type for the same field, payload kept
            new_wt = rng.choice([w for w in (0, 1, 2, 5) if w != wt])
            if new_wt == 2:
                container[i] = [field, 2, varint(v) if wt == 0 else (serialize(v) if isinstance(v, list) else v)]
            elif new_wt == 0:
                container[i] = [field, 0, len(v) if not isinstance(v, int) else v]
            else:
                container[i] = [field, new_wt, bytes(8 if new_wt == 1 else 4)]
        elif op == 3:
            del container[i]
        elif op == 4:
            container.insert(i, [field, wt, v])
        else:
            # length prefix larger than what follows: serialise, then patch this field's length
            extra = b"huge"
        blob = serialize(t)
        if extra:
            # find the field's length prefix by serialising up to it: a cheap approximation is to
            # append a length-delimited field with a huge declared length at the end of the blob
            blob = blob + varint((field << 3) | 2) + varint(rng.choice([2**31, 2**40, 2**63, 2**64 - 1, 1000]))
        out.append(blob)
    del tree
    return out


def byte_flips(data, count, seed, max_flips=8):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        b = bytearray(data)
        for _ in range(rng.randint(1, max_flips)):
            p = rng.randrange(len(b))
            if rng.random() < 0.5:
                b[p] ^= 1 << rng.randrange(8)
            else:
                b[p] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        out.append(bytes(b))
    return out


# ---- hand-made hostile models -------------------------------------------------------------

def hostile_models():
    """(name, bytes, expected statuses or None for 'any clean status')."""
    n = helper.make_node
    out = []

    def add(name, m, expect=None):
        out.append((name, m.SerializeToString() if hasattr(m, "SerializeToString") else m, expect))

    relu = lambda shape: model([n("Relu", ["x"], ["y"])], [f32("x", shape)], [f32("y", shape)])  # noqa: E731
    for shape in ([0, 4], [-1, 4], [4, -7], [2**40, 2**40], [2**62, 1], [1, 2**31 + 1], [2**63 - 1]):
        m = relu(["N", 4])
        for k, d in enumerate(shape[:len(m.graph.input[0].type.tensor_type.shape.dim)]):
            m.graph.input[0].type.tensor_type.shape.dim[k].Clear()
            m.graph.input[0].type.tensor_type.shape.dim[k].dim_value = d
        add(f"input dims {shape}", m)
    # initializers with zero / negative / huge dims or the wrong number of values
    add_w = lambda t: model([n("Add", ["x", "w"], ["y"])], [f32("x", ["N", 4])], [f32("y", ["N", 4])], [t])  # noqa: E731
    t = arr("w", np.ones(4))
    t.dims[:] = [0]
    add("initializer dims [0] with 4 values", add_w(t), {3})
    t = arr("w", np.ones(4))
    t.dims[:] = [-4]
    add("initializer negative dim", add_w(t), {3})
    t = arr("w", np.ones(4))
    t.dims[:] = [2**40, 2**40]
    add("initializer huge dims", add_w(t), {3, 9})
    t = arr("w", np.ones(4))
    t.dims[:] = [5]
    add("initializer raw_data too short", add_w(t), {3})
    def tensor(data_type, dims, **fields):
        t = TensorProto(name="w", data_type=data_type, dims=dims)
        for k, v in fields.items():
            getattr(t, k).extend(v) if isinstance(v, list) else setattr(t, k, v)
        return t
    add("initializer float_data too short", add_w(tensor(TensorProto.FLOAT, [4], float_data=[1.0, 2.0, 3.0])), {3})
    add("initializer float_data too long", add_w(tensor(TensorProto.FLOAT, [2], float_data=[1.0, 2.0, 3.0])), {3})
    add("initializer int64_data for FLOAT", add_w(tensor(TensorProto.FLOAT, [4], int64_data=[1, 2, 3, 4])), {3})
    add("initializer raw_data not a multiple", add_w(tensor(TensorProto.FLOAT, [1], raw_data=b"12345")), {3})
    add("initializer empty [0]", add_w(tensor(TensorProto.FLOAT, [0])))
    add("initializer of STRING type", add_w(tensor(TensorProto.STRING, [1], string_data=[b"x"])), {4})
    add("initializer of unknown type", add_w(tensor(99, [1], raw_data=b"1234")))
    loc7 = TensorProto()
    loc7.ParseFromString(tensor(TensorProto.FLOAT, [1], raw_data=b"1234").SerializeToString() + b"\x70\x07")
    add("initializer data_location 7", add_w(loc7), {3})
    add("initializer UINT64 above Int64.max",
        add_w(tensor(TensorProto.UINT64, [1], uint64_data=[2**64 - 1])), {4})
    # graph structure
    add("cyclic graph", model([n("Relu", ["b"], ["a"]), n("Relu", ["a"], ["b"]), n("Add", ["x", "a"], ["y"])],
                              [f32("x", [1])], [f32("y", [1])]), {3})
    add("self loop", model([n("Add", ["x", "y"], ["y"])], [f32("x", [1])], [f32("y", [1])]), {3})
    add("dangling input", model([n("Relu", ["nowhere"], ["y"])], [f32("x", [1])], [f32("y", [1])]), {3})
    add("undefined output", model([n("Relu", ["x"], ["z"])], [f32("x", [1])], [f32("y", [1])]), {3})
    add("value defined twice", model([n("Relu", ["x"], ["y"]), n("Abs", ["x"], ["y"])],
                                     [f32("x", [1])], [f32("y", [1])]), {3})
    add("no outputs declared", model([n("Relu", ["x"], ["y"])], [f32("x", [1])], []), {3})
    add("no graph", b"\x08\x07", {3})
    for op in ("Relu", "BatchNormalization", "Conv", "Gemm", "Shape", "Concat", "Constant"):
        add(f"{op} node without outputs", model([n(op, ["x"], []), n("Relu", ["x"], ["y"])],
                                                [f32("x", [1, 1, 1])], [f32("y", [1, 1, 1])]))
    add("conv+bn where bn has no outputs",
        model([n("Conv", ["x", "w"], ["c"]), n("BatchNormalization", ["c", "s", "s", "s", "s"], []),
               n("Relu", ["c"], ["y"])], [f32("x", [1, 1, 4])], [f32("y", [1, 1, 4])],
              [arr("w", np.ones((1, 1, 1))), arr("s", [1.0])]))
    add("conv+relu where relu has no outputs",
        model([n("Conv", ["x", "w"], ["c"]), n("Relu", ["c"], []), n("Abs", ["x"], ["y"])],
              [f32("x", [1, 1, 4])], [f32("y", [1, 1, 4])], [arr("w", np.ones((1, 1, 1)))]))
    # wrong attribute types
    add("int attribute given as string", model([n("Flatten", ["x"], ["y"], axis="one")], [f32("x", [2, 3])],
                                               [f32("y", [2, 3])]), {3})
    add("ints attribute given as float", model([n("Transpose", ["x"], ["y"], perm=1.5)], [f32("x", [2, 3])],
                                               [f32("y", [3, 2])]), {3})
    bad_type = model([n("Flatten", ["x"], ["y"], axis=1)], [f32("x", [2, 3])], [f32("y", [2, 3])])
    attr = bad_type.graph.node[0].attribute[0]
    attr.ClearField("type")
    attr.ParseFromString(attr.SerializeToString() + b"\xa0\x01\x63")  # type = 99
    add("attribute of unknown type", bad_type, {4})
    # huge shapes computed at load
    huge = lambda spec: model(  # noqa: E731
        [n("ConstantOfShape", ["s"], ["z"]), n("Add", ["x", "z"], ["y"])], [f32("x", [1])], [f32("y", [1])],
        [arr("s", spec, np.int64)])
    for spec in ([2**40], [2**31, 2**31], [-1], [2**20, 2**20, 2**20], [1 << 27], [0]):
        add(f"ConstantOfShape {spec}", huge(spec))
    add("Reshape to huge", model([n("Reshape", ["x", "s"], ["y"])], [f32("x", [1])], [f32("y", [1])],
                                 [arr("s", [2**40, 2**40], np.int64)]))
    add("Pad huge", model([n("Pad", ["x", "p"], ["y"])], [f32("x", [1, 1])], [f32("y", [1, 1])],
                          [arr("p", [0, 2**40, 0, 2**40], np.int64)]))
    add("Pad negative crop", model([n("Pad", ["x", "p"], ["y"])], [f32("x", [1, 1])], [f32("y", [1, 1])],
                                   [arr("p", [0, -5, 0, 0], np.int64)]))
    add("Slice step 0", model([n("Slice", ["x", "a", "a", "a", "z"], ["y"])], [f32("x", [4])], [f32("y", [4])],
                              [arr("a", [0], np.int64), arr("z", [0], np.int64)]))
    add("Slice extreme ends", model([n("Slice", ["x", "a", "b"], ["y"])], [f32("x", [4])], [f32("y", [4])],
                                    [arr("a", [-2**63], np.int64), arr("b", [2**63 - 1], np.int64)]))
    add("Gather index out of range", model([n("Gather", ["x", "i"], ["y"])], [f32("x", [4])], [f32("y", [1])],
                                           [arr("i", [2**62], np.int64)]))
    add("Conv zero-size kernel", model([n("Conv", ["x", "w"], ["y"])], [f32("x", [1, 1, 4])], [f32("y", [1, 1, 4])],
                                       [numpy_helper.from_array(np.ones((1, 1, 0), np.float32), "w")]))
    add("Conv huge stride", model([n("Conv", ["x", "w"], ["y"], strides=[2**62])], [f32("x", [1, 1, 4])],
                                  [f32("y", [1, 1, 4])], [arr("w", np.ones((1, 1, 1)))]))
    add("Conv huge pads", model([n("Conv", ["x", "w"], ["y"], pads=[2**40, 2**40])], [f32("x", [1, 1, 4])],
                                [f32("y", [1, 1, 4])], [arr("w", np.ones((1, 1, 1)))]))
    add("Conv huge dilation", model([n("Conv", ["x", "w"], ["y"], dilations=[2**47])], [f32("x", [1, 1, 4])],
                                    [f32("y", [1, 1, 4])], [arr("w", np.ones((1, 1, 2)))]))
    add("MaxPool huge kernel", model([n("MaxPool", ["x"], ["y"], kernel_shape=[2**47])], [f32("x", [1, 1, 4])],
                                     [f32("y", [1, 1, 4])]))
    add("Gemm transposed mismatch", model([n("Gemm", ["x", "w"], ["y"], transA=1)], [f32("x", [2, 3])],
                                          [f32("y", [2, 3])], [arr("w", np.ones((2, 3)))]))
    add("opset 0", model([n("Relu", ["x"], ["y"])], [f32("x", [1])], [f32("y", [1])], opset=0), {4})
    add("opset huge", model([n("Relu", ["x"], ["y"])], [f32("x", [1])], [f32("y", [1])], opset=2**62), {4})
    add("unknown op", model([n("NoSuchOp", ["x"], ["y"])], [f32("x", [1])], [f32("y", [1])]), {4})
    many = model([n("Relu", ["x"], ["y"])], [f32("x", [1])], [f32("y", [1])])
    many.graph.input[0].type.tensor_type.shape.dim.extend(
        [onnx.TensorShapeProto.Dimension(dim_value=1) for _ in range(40)])
    add("input of rank 41", many, {9})
    add("empty file", b"", {3})
    add("one byte", b"\x08", {3})
    add("not protobuf", b"this is not an onnx model at all", {3})
    add("20 zero bytes", bytes(20))
    add("20 0xff bytes", b"\xff" * 20, {3})
    return out


def external_models(folder: Path):
    """Files in folder: (name, path, expected statuses). The data file is next to the model;
    hostile locations point elsewhere."""
    (folder / "sub").mkdir()
    weights = np.arange(4, dtype=np.float32)
    (folder / "w.bin").write_bytes(weights.tobytes())
    (folder / "sub" / "w.bin").write_bytes(weights.tobytes())
    out = []
    locations = [
        ("w.bin", {0}), ("./w.bin", {0}), ("sub/w.bin", {0}),
        ("../../etc/passwd", {3}), ("../w.bin", {3}), ("sub/../../w.bin", {3}), ("sub/../w.bin", {3}),
        ("/etc/passwd", {3}), ("//etc/passwd", {3}), ("\\etc\\passwd", {3}), ("..\\..\\etc\\passwd", {3}),
        (str(folder / "w.bin"), {3}), ("", {3}), ("w.bin\x00.png", {3}), ("missing.bin", {2}),
        ("sub", {2}), (".", {2}), ("..", {3}), ("sub/", {2}), ("/dev/zero", {3}), ("/proc/self/mem", {3}),
    ]
    for k, (loc, expect) in enumerate(locations):
        t = numpy_helper.from_array(weights, "w")
        onnx.external_data_helper.set_external_data(t, location="placeholder")
        for e in t.external_data:
            if e.key == "location":
                e.value = loc
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        m = model([helper.make_node("Add", ["x", "w"], ["y"])], [f32("x", ["N", 4])], [f32("y", ["N", 4])], [t])
        path = folder / f"ext_{k}.onnx"
        path.write_bytes(m.SerializeToString())
        out.append((f"external location {loc!r}", str(path), expect))
    for k, (off, length) in enumerate([("0", "16"), ("4", "16"), ("-1", "16"), ("0", "99999999999999999999"),
                                       ("18446744073709551615", "16"), ("0", "15"), ("abc", "16"), ("0", "")]):
        t = numpy_helper.from_array(weights, "w")
        onnx.external_data_helper.set_external_data(t, location="w.bin", offset=0, length=16)
        for e in t.external_data:
            if e.key == "offset":
                e.value = off
            if e.key == "length":
                e.value = length
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        m = model([helper.make_node("Add", ["x", "w"], ["y"])], [f32("x", ["N", 4])], [f32("y", ["N", 4])], [t])
        path = folder / f"ext_range_{k}.onnx"
        path.write_bytes(m.SerializeToString())
        out.append((f"external offset {off!r} length {length!r}", str(path), {0} if k == 0 else {3}))
    # the same model from memory: external data is refused
    out.append(("external data from memory", (folder / "ext_0.onnx").read_bytes(), {3}))
    return out


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="drsn-corrupt-") as d:
        yield Path(d)


def test_mutated_models(workdir):
    t0 = time.time()
    names, records = [], []

    def add(name, data):
        names.append(name)
        records.append((corrupt_driver.KIND_MEMORY, data))

    smalls = small_models()
    for key, data in smalls.items():
        for n in range(len(data)):
            add(f"{key} truncated to {n}", data[:n])
    # A real export: the shared fixture, or the project's own export of the same architecture
    # (TorchScript exporter) when ../shared is not beside the checkout.
    fixture = shared_fixture("drsn_cw_1d.legacy.onnx")
    if fixture is None:
        fixture = HERE.parents[1] / "benchmarks" / "models" / "drsn_cw_1d.onnx"
    if fixture.exists():
        data = fixture.read_bytes()
        lengths = sorted(set(list(range(0, 4096)) + list(range(4096, len(data), max(1, len(data) // 1500)))))
        for n in lengths:
            add(f"{fixture.name} truncated to {n}", data[:n])
        for k, m in enumerate(byte_flips(data, 300, seed=1)):
            add(f"{fixture.name} byte flips #{k}", m)
        for k, m in enumerate(proto_mutants(data, 300, seed=2)):
            add(f"{fixture.name} protobuf mutation #{k}", m)
    for s, (key, data) in enumerate(smalls.items()):
        for k, m in enumerate(byte_flips(data, 800, seed=100 + s)):
            add(f"{key} byte flips #{k}", m)
        for k, m in enumerate(proto_mutants(data, 700, seed=200 + s)):
            add(f"{key} protobuf mutation #{k}", m)
    expectations = {}
    for name, data, expect in hostile_models():
        expectations[len(records)] = expect
        add(name, data)
    for name, src, expect in external_models(workdir):
        expectations[len(records)] = expect
        names.append(name)
        if isinstance(src, bytes):
            records.append((corrupt_driver.KIND_MEMORY, src))
        else:
            records.append((corrupt_driver.KIND_FILE, src.encode()))

    results = corrupt_driver.run_batches(records, workdir)
    counts, bad, slow = corrupt_driver.report("corrupt-file suite", names, results)
    print(f"  ({time.time() - t0:.1f} s)")
    wrong = []
    for i, expect in expectations.items():
        r = results[i]
        print(f"  {names[i]!r}: {corrupt_driver.outcome(r)}")
        if expect is not None and (isinstance(r[0], str) or r[0] not in expect):
            wrong.append(f"{names[i]!r}: {corrupt_driver.outcome(r)}, expected load status in {sorted(expect)}")
    assert len(records) >= 10000
    assert not bad, "crashes, hangs or internal errors:\n" + "\n".join(f"{n}: {r}" for n, r in bad[:20])
    assert not wrong, "\n".join(wrong)
    assert not slow, f"files slower than {SLOW_MS} ms: {slow[:10]}"


# ---- tiny files, bounded work --------------------------------------------------------------

TINY_LIMIT = 1 << 22  # max_value_elements for the test below (16 MiB of floats)


def tiny_hostile_models():
    """Files of a few hundred bytes that ask for huge computed tensors at load."""
    n = helper.make_node
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)  # noqa: E731
    out_any = [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]
    big = 1 << 27

    def tiny(name, nodes, inits, inputs=()):
        g = helper.make_graph(nodes, "", list(inputs), out_any, initializer=inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ClearField("ir_version")
        return name, m.SerializeToString()

    return [
        tiny("ConstantOfShape [2^27]", [n("ConstantOfShape", ["s"], ["y"])], [i64("s", [big])]),
        tiny("chain of 12 Abs of a 2^27 constant",
             [n("ConstantOfShape", ["s"], ["c0"])] + [n("Abs", [f"c{k}"], [f"c{k + 1}"]) for k in range(11)]
             + [n("Abs", ["c11"], ["y"])], [i64("s", [big])]),
        tiny("two 2^27 constants added", [n("ConstantOfShape", ["s"], ["a"]), n("ConstantOfShape", ["s"], ["b"]),
                                          n("Add", ["a", "b"], ["y"])], [i64("s", [big])]),
        tiny("broadcast [2^13,1] + [1,2^14]", [n("ConstantOfShape", ["s1"], ["a"]), n("ConstantOfShape", ["s2"], ["b"]),
                                               n("Add", ["a", "b"], ["y"])], [i64("s1", [1 << 13, 1]), i64("s2", [1, 1 << 14])]),
        tiny("Concat of 64 copies of 2^21", [n("ConstantOfShape", ["s"], ["a"]), n("Concat", ["a"] * 64, ["y"], axis=0)],
             [i64("s", [1 << 21])]),
        tiny("Pad to 2^27 at run time", [n("Pad", ["x", "p"], ["y"])], [i64("p", [big - 2, 0])],
             [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])]),
    ]


LOAD_AND_MEASURE = """
import resource, sys, time
sys.path.insert(0, sys.argv[1])
import drsn
data = open(sys.argv[2], "rb").read()
with drsn.Model(open(sys.argv[4], "rb").read(), num_threads=1) as warm:  # library and pool warmed up
    pass
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.time()
try:
    with drsn.Model(data, num_threads=1, limits={"max_value_elements": int(sys.argv[3])}) as m:
        status = "OK"
except drsn.Error as e:
    status = type(e).__name__
print(status, round(time.time() - t, 3), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def test_tiny_files_bounded_by_limits(tmp_path):
    """With max_value_elements = 2^22 (16 MiB of floats), none of these few-hundred-byte files
    may make a load raise the peak RSS by 100 MB or take a second (with the default of 2^27 the same
    files cost up to about 1-2.6 GB: see the limit's documentation)."""
    import subprocess
    binding = str(HERE.parents[1] / "bindings" / "python")
    warm = tmp_path / "warm.onnx"
    warm.write_bytes(small_models()["conv_bn_relu"])
    for name, data in tiny_hostile_models():
        path = tmp_path / "m.onnx"
        path.write_bytes(data)
        out = subprocess.run([sys.executable, "-c", LOAD_AND_MEASURE, binding, str(path), str(TINY_LIMIT), str(warm)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, f"{name}: exit {out.returncode}: {out.stderr[-1000:]}"
        status, secs, grown_kb = out.stdout.split()
        grown_mb = int(grown_kb) / 1024  # growth of the peak RSS over a process that loaded a small model
        print(f"  {name} ({len(data)} bytes): {status}, {secs} s, peak RSS +{grown_mb:.0f} MB")
        assert status in ("OK", "LimitExceededError"), f"{name}: {status}"
        assert grown_mb < 100, f"{name}: peak RSS grew by {grown_mb:.0f} MB"
        assert float(secs) < 1.0, f"{name}: {secs} s"
