"""Errors: every failure surfaces as the documented drsn.Error subclass with the
library's status and a message that names what went wrong -- never a crash. Loads of
damaged models run in a subprocess (isolated.py) so that a crash is reported as a
failure of that test only.
"""

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto

import drsn
from oracle import i64, make_model, node

pytestmark = pytest.mark.usefixtures("needs_library")

HERE = Path(__file__).resolve().parent

# Errors a damaged model may legitimately produce (anything else, or a crash, fails).
DAMAGED_MODEL_ERRORS = {"InvalidModelError", "UnsupportedError", "ShapeError", "DtypeError",
                        "LimitExceededError"}


def small_model() -> onnx.ModelProto:
    """Conv -> BN -> Relu -> GAP -> Flatten -> Gemm with real initializers."""
    rng = np.random.default_rng(7)
    r = lambda *s: rng.uniform(-1, 1, s).astype(np.float32)  # noqa: E731
    nodes = [node("Conv", ["x", "w"], ["c"], kernel_shape=[3], pads=[1, 1], name="conv0"),
             node("BatchNormalization", ["c", "s", "b", "m", "v"], ["bn"], name="bn0"),
             node("Relu", ["bn"], ["r"], name="relu0"),
             node("GlobalAveragePool", ["r"], ["g"], name="gap0"),
             node("Flatten", ["g"], ["f"], name="flatten0"),
             node("Gemm", ["f", "fw", "fb"], ["y"], transB=1, name="fc0")]
    inits = {"w": r(4, 2, 3), "s": r(4) + 2, "b": r(4), "m": r(4), "v": r(4) + 2, "fw": r(3, 4), "fb": r(3)}
    return make_model(nodes, [("x", ["N", 2, 16])], ["y"], inits)


@pytest.fixture(scope="module")
def model_bytes() -> bytes:
    return small_model().SerializeToString()


@pytest.fixture
def model(model_bytes):
    with drsn.Model(model_bytes) as m:
        yield m


def isolated(path: Path, mode: str, run: bool = True) -> dict:
    """Loads `path` in a fresh interpreter; fails the test if that process crashes."""
    proc = subprocess.run([sys.executable, str(HERE / "isolated.py"), str(path), mode] + (["run"] if run else []),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        f"loading {path.name} ({mode}) crashed the process: exit status {proc.returncode}\n"
        f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return value, pos


def top_level_field_bounds(data: bytes) -> set[int]:
    """Offsets at which a top-level ModelProto field starts or the message ends; a cut
    anywhere else leaves a field incomplete."""
    bounds, pos = {0}, 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        wire = key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        bounds.add(pos)
    return bounds


# ---- files -------------------------------------------------------------------------------

def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "does_not_exist.onnx"
    with pytest.raises(drsn.FileError) as info:
        drsn.Model(path)
    err = info.value
    assert err.status == 2
    assert isinstance(err, OSError) and isinstance(err, drsn.Error)
    assert str(path) in str(err), str(err)
    assert err.filename == str(path)


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(drsn.FileError) as info:
        drsn.Model(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    result = isolated(path, "file")
    assert result["error"] == "InvalidModelError", result


# ---- damaged models (each in its own process) ---------------------------------------------

def _truncation_points(data: bytes) -> list[int]:
    bounds = top_level_field_bounds(data)
    wanted = [1, 2, 5, len(data) // 10, len(data) // 4, len(data) // 2, 3 * len(data) // 4,
              len(data) - 9, len(data) - 2, len(data) - 1]
    points = []
    for p in wanted:
        while p in bounds:
            p += 1
        if 0 < p < len(data) and p not in points:
            points.append(p)
    return points


@pytest.mark.parametrize("mode", ["memory", "file"])
@pytest.mark.parametrize("fraction_index", range(10))
def test_truncated_model(tmp_path, model_bytes, mode, fraction_index):
    points = _truncation_points(model_bytes)
    if fraction_index >= len(points):
        pytest.skip("fewer distinct truncation points for this model")
    cut = points[fraction_index]
    path = tmp_path / f"cut_{cut}.onnx"
    path.write_bytes(model_bytes[:cut])
    result = isolated(path, mode)
    assert result["error"] == "InvalidModelError", (cut, len(model_bytes), result)
    assert result["status"] == 3 and result["message"], result


@pytest.mark.parametrize("seed", range(24))
def test_corrupted_model_never_crashes(tmp_path, model_bytes, seed):
    """Random byte damage: loading either fails with a model error or yields a model
    that runs; the process must survive either way."""
    rng = np.random.default_rng(seed)
    data = bytearray(model_bytes)
    for pos in rng.integers(0, len(data), size=1 + seed % 4):
        data[pos] = int(rng.integers(0, 256))
    path = tmp_path / f"corrupt_{seed}.onnx"
    path.write_bytes(bytes(data))
    result = isolated(path, "memory")
    assert result["error"] is None or result["error"] in DAMAGED_MODEL_ERRORS, result
    if result["error"]:
        assert result["message"], result


HOSTILE_BYTES = {
    "random_garbage": bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)),
    "text": b"this is not an onnx model\n" * 20,
    "ir_version_only": b"\x08\x07",
    "varint_overflow": b"\x08" + b"\xff" * 11 + b"\x01",
    "graph_length_huge": b"\x08\x07\x3a\xff\xff\xff\xff\x0f",
    "graph_length_past_end": b"\x08\x07\x3a\x10\x0a\x01",
    "deprecated_group_wire_type": b"\x0b\x0c",
    "opset_without_graph": b"\x08\x07\x42\x02\x10\x11",
}


@pytest.mark.parametrize("name", list(HOSTILE_BYTES))
def test_hostile_bytes(tmp_path, name):
    path = tmp_path / f"{name}.onnx"
    path.write_bytes(HOSTILE_BYTES[name])
    result = isolated(path, "memory")
    assert result["error"] == "InvalidModelError", result


def test_initializer_raw_data_shorter_than_dims(tmp_path):
    model = small_model()
    init = next(i for i in model.graph.initializer if i.name == "w")
    init.raw_data = init.raw_data[:-4]
    path = tmp_path / "short_raw.onnx"
    path.write_bytes(model.SerializeToString())
    result = isolated(path, "memory")
    assert result["error"] == "InvalidModelError", result


def test_node_input_never_produced(tmp_path):
    model = make_model([node("Relu", ["ghost"], ["y"], name="relu_ghost")], [("x", ["N", 3])], ["y"])
    path = tmp_path / "dangling.onnx"
    path.write_bytes(model.SerializeToString())
    result = isolated(path, "memory")
    assert result["error"] == "InvalidModelError", result
    assert "ghost" in result["message"], result


def test_cycle_in_graph(tmp_path):
    model = make_model([node("Add", ["x", "b"], ["a"], name="add_cycle"),
                        node("Relu", ["a"], ["b"], name="relu_cycle"),
                        node("Identity", ["a"], ["y"])], [("x", ["N", 3])], ["y"])
    path = tmp_path / "cycle.onnx"
    path.write_bytes(model.SerializeToString())
    result = isolated(path, "memory")
    assert result["error"] == "InvalidModelError", result


def test_external_data_from_memory_is_rejected(tmp_path):
    model = small_model()
    onnx.save_model(model, tmp_path / "ext.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="ext.bin", size_threshold=0)
    result = isolated(tmp_path / "ext.onnx", "memory")
    assert result["error"] == "InvalidModelError", result


def test_external_data_leaving_the_folder_is_rejected(tmp_path):
    model = small_model()
    (tmp_path / "models").mkdir()
    onnx.save_model(model, tmp_path / "models" / "ext.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="ext.bin", size_threshold=0)
    (tmp_path / "models" / "ext.bin").rename(tmp_path / "ext.bin")
    loaded = onnx.load(tmp_path / "models" / "ext.onnx", load_external_data=False)
    for init in loaded.graph.initializer:
        for entry in init.external_data:
            if entry.key == "location":
                entry.value = "../ext.bin"
    (tmp_path / "models" / "ext.onnx").write_bytes(loaded.SerializeToString())
    result = isolated(tmp_path / "models" / "ext.onnx", "file")
    # the header says such paths are rejected, not which status; both are defensible
    assert result["error"] in ("InvalidModelError", "FileError"), result
    assert "ext.bin" in result["message"], result


def test_external_data_file_missing(tmp_path):
    onnx.save_model(small_model(), tmp_path / "ext.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location="ext.bin", size_threshold=0)
    (tmp_path / "ext.bin").unlink()
    result = isolated(tmp_path / "ext.onnx", "file")
    assert result["error"] == "FileError", result
    assert "ext.bin" in result["message"], result


# ---- unsupported models -----------------------------------------------------------------

def _assert_names(message: str, *needles: str) -> None:
    missing = [n for n in needles if n not in message]
    assert not missing, f"message lacks {missing}: {message!r}"


def test_unsupported_operator_names_op_node_and_opset():
    nodes = [node("Relu", ["x"], ["r"], name="relu_ok"), node("Det", ["r"], ["y"], name="the_det_node")]
    model = make_model(nodes, [("x", ["N", 3, 3])], ["y"], opset=17)
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(model.SerializeToString())
    assert info.value.status == 4
    _assert_names(str(info.value), "Det", "the_det_node", "17")


def test_unsupported_custom_domain_operator():
    nodes = [node("FancyShrink", ["x"], ["y"], name="custom_node", domain="com.example")]
    model = make_model(nodes, [("x", ["N", 3])], ["y"], extra_opsets=[("com.example", 1)])
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(model.SerializeToString())
    _assert_names(str(info.value), "FancyShrink", "custom_node", "com.example")


def test_unsupported_future_opset():
    model = make_model([node("Relu", ["x"], ["y"], name="relu_future")], [("x", ["N", 3])], ["y"])
    model.opset_import[0].version = 99
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(model.SerializeToString())
    _assert_names(str(info.value), "99")


def test_unused_ml_domain_is_ignored():
    # exporters add ai.onnx.ml even when no ML op is used
    model = make_model([node("Relu", ["x"], ["y"])], [("x", ["N", 3])], ["y"],
                       extra_opsets=[("ai.onnx.ml", 3)])
    with drsn.Model(model.SerializeToString()) as m:
        (y,) = m.run(np.array([[-1, 0, 2]], np.float32))
    np.testing.assert_array_equal(y, [[0, 0, 2]])


def test_non_float_graph_input_is_rejected_at_load():
    graph = onnx.helper.make_graph(
        [node("Cast", ["i"], ["y"], to=TensorProto.FLOAT)], "g",
        [onnx.helper.make_tensor_value_info("i", TensorProto.INT64, ["N", 3])],
        [onnx.helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)])
    model.ir_version = 8
    with pytest.raises((drsn.UnsupportedError, drsn.DtypeError)) as info:
        drsn.Model(model.SerializeToString())
    assert re.search(r"\bi\b", str(info.value)), f"message does not name input 'i': {info.value}"


def _one_node_model(node_proto, inputs, opsets) -> bytes:
    graph = onnx.helper.make_graph([node_proto], "g", inputs,
                                   [onnx.helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = onnx.helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model.SerializeToString()


def test_model_of_another_domain_only_is_unsupported():
    # valid ONNX (an ai.onnx.ml model imports no default-domain opset), but not drsn's
    data = _one_node_model(
        node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml", name="ml_node"),
        [onnx.helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [onnx.helper.make_opsetid("ai.onnx.ml", 1)])
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(data)
    _assert_names(str(info.value), "'ai.onnx.ml'", "default ONNX domain")


def test_model_without_opset_import_is_invalid():
    data = _one_node_model(node("Relu", ["x"], ["y"]),
                           [onnx.helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])], [])
    with pytest.raises(drsn.InvalidModelError) as info:
        drsn.Model(data)
    _assert_names(str(info.value), "opset")


@pytest.mark.parametrize("type_name", ["FLOAT8E4M3FN", "FLOAT8E5M2FNUZ", "FLOAT8E8M0", "UINT4", "INT4",
                                       "FLOAT4E2M1", "COMPLEX64"])
def test_element_types_are_named(type_name):
    # types DType has no case for are named as ONNX names them, not "UNDEFINED"
    elem = TensorProto.DataType.Value(type_name)
    data = _one_node_model(node("Relu", ["x"], ["y"]), [onnx.helper.make_tensor_value_info("x", elem, [2])],
                           [onnx.helper.make_opsetid("", 21)])
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(data)
    assert "UNDEFINED" not in str(info.value)
    _assert_names(str(info.value), f"'x' has type {type_name} ({elem})")
    cast = _one_node_model(node("Cast", ["x"], ["y"], to=elem),
                           [onnx.helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                           [onnx.helper.make_opsetid("", 21)])
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(cast)
    _assert_names(str(info.value), f"Cast to {type_name} ({elem})")


# ---- bad inputs --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.int64, np.bool_, ">f4"],
                         ids=str)
def test_wrong_input_dtype(model, dtype):
    x = np.zeros((2, 2, 16), dtype=dtype)
    with pytest.raises(drsn.DtypeError) as info:
        model.run(x)
    err = info.value
    assert err.status == 6 and isinstance(err, TypeError)
    assert "float32" in str(err) and np.dtype(dtype).name in str(err), str(err)


def test_float64_is_never_cast(model):
    with pytest.raises(drsn.DtypeError, match="expected float32, got float64"):
        model.run({"x": np.zeros((1, 2, 16))})


def test_python_list_input_is_float64(model):
    with pytest.raises(drsn.DtypeError):
        model.run([np.zeros((1, 2, 16)).tolist()])


@pytest.mark.parametrize("shape", [(2, 16), (1, 1, 2, 16), (1, 3, 16)], ids=str)
def test_wrong_rank_or_fixed_dim(model, shape):
    with pytest.raises(drsn.ShapeError) as info:
        model.run(np.zeros(shape, np.float32))
    err = info.value
    assert err.status == 5 and isinstance(err, ValueError)
    message = str(err)
    assert "'x'" in message and "expected shape (?, 2, 16)" in message and f"got {shape}" in message, message


def test_shape_error_from_the_library_reshape():
    # [N,3] -> Reshape [-1,2]: fine for even N, impossible for N = 1; the binding cannot
    # know, the library must refuse with a shape error (not crash, not garbage)
    model = make_model([node("Reshape", ["x", "s"], ["y"], name="reshape_odd")], [("x", ["N", 3])], ["y"],
                       {"s": i64(-1, 2)})
    with drsn.Model(model.SerializeToString()) as m:
        (y,) = m.run(np.ones((2, 3), np.float32))
        assert y.shape == (3, 2)
        with pytest.raises(drsn.ShapeError) as info:
            m.run(np.ones((1, 3), np.float32))
        assert info.value.status == 5 and str(info.value)
        with pytest.raises(drsn.ShapeError):
            m.output_shapes([(1, 3)])
        (y,) = m.run(np.ones((4, 3), np.float32))  # still usable afterwards
        assert y.shape == (6, 2)


def test_shape_error_from_the_library_mismatched_batches():
    model = make_model([node("Add", ["a", "b"], ["y"], name="add_ab")], [("a", ["N", 3]), ("b", ["N", 3])], ["y"])
    with drsn.Model(model.SerializeToString()) as m:
        with pytest.raises(drsn.ShapeError) as info:
            m.run([np.ones((2, 3), np.float32), np.ones((3, 3), np.float32)])
        message = str(info.value)
        assert "2" in message and "3" in message, message


def test_shape_error_spatial_too_small():
    model = make_model([node("Conv", ["x", "w"], ["y"], kernel_shape=[5], name="conv_k5")],
                       [("x", ["N", 1, "L"])], ["y"], {"w": np.ones((1, 1, 5), np.float32)})
    with drsn.Model(model.SerializeToString()) as m:
        assert m.run(np.ones((1, 1, 5), np.float32))[0].shape == (1, 1, 1)
        with pytest.raises(drsn.ShapeError):
            m.run(np.ones((1, 1, 3), np.float32))  # output length 3 - 5 + 1 < 0


def test_dict_missing_and_unknown_names():
    model = make_model([node("Add", ["alpha", "beta"], ["y"])], [("alpha", ["N", 3]), ("beta", ["N", 3])], ["y"])
    x = np.ones((1, 3), np.float32)
    with drsn.Model(model.SerializeToString()) as m:
        with pytest.raises(drsn.InvalidArgumentError, match="missing 'beta'"):
            m.run({"alpha": x})
        with pytest.raises(drsn.InvalidArgumentError) as info:
            m.run({"alpha": x, "beta": x, "gamma": x})
        assert "gamma" in str(info.value)
        with pytest.raises(drsn.InvalidArgumentError, match="2 input"):
            m.run([x])
        with pytest.raises(drsn.InvalidArgumentError, match="2 inputs"):
            m.run(x)


# ---- run_into ------------------------------------------------------------------------------

def test_run_into_wrong_buffers(model):
    x = np.ones((3, 2, 16), np.float32)
    good = np.zeros((3, 3), np.float32)
    cases = [
        ([np.zeros((2, 3), np.float32)], drsn.ShapeError),          # too small
        ([np.zeros((4, 3), np.float32)], drsn.ShapeError),          # too large
        ([np.zeros(9, np.float32)], drsn.ShapeError),               # right size, wrong shape
        ([np.zeros((3, 3), np.float64)], drsn.DtypeError),
        ([np.zeros((3, 6), np.float32)[:, ::2]], drsn.InvalidArgumentError),  # not contiguous
        ([], drsn.InvalidArgumentError),
        ([good, good], drsn.InvalidArgumentError),
        ({"nope": good}, drsn.InvalidArgumentError),
        ([[0.0] * 9], drsn.InvalidArgumentError),
    ]
    for outputs, error in cases:
        with pytest.raises(error):
            model.run_into(x, outputs)
    readonly = np.zeros((3, 3), np.float32)
    readonly.flags.writeable = False
    with pytest.raises(drsn.InvalidArgumentError, match="writable"):
        model.run_into(x, [readonly])
    sentinel = np.full((2, 3), 7.0, np.float32)
    with pytest.raises(drsn.ShapeError) as info:
        model.run_into(x, [sentinel])
    assert "(3, 3)" in str(info.value) and "(2, 3)" in str(info.value)
    assert (sentinel == 7.0).all(), "a rejected buffer must not be written"


def test_run_into_overlapping_input():
    model_io = make_model([node("Relu", ["x"], ["y"])], [("x", ["N", 4])], ["y"])
    with drsn.Model(model_io.SerializeToString()) as m:
        x = np.ones((2, 4), np.float32)
        with pytest.raises(drsn.InvalidArgumentError, match="overlap"):
            m.run_into(x, [x])


# ---- lifetime ------------------------------------------------------------------------------

def test_closed_model(model_bytes):
    m = drsn.Model(model_bytes)
    m.close()
    m.close()  # idempotent
    assert m.closed
    x = np.ones((1, 2, 16), np.float32)
    for use in (lambda: m.run(x), lambda: m.run_dict(x), lambda: m.inputs, lambda: m.outputs,
                lambda: m.output_shapes([(1, 2, 16)]), lambda: m.run_into(x, [np.zeros((1, 3), np.float32)])):
        with pytest.raises(drsn.ClosedError) as info:
            use()
        assert isinstance(info.value, ValueError)
    with pytest.raises(drsn.ClosedError):
        with m:
            pass
    assert "closed" in repr(m)


# ---- options -------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [-1, 257, 100000])
def test_num_threads_out_of_range(model_bytes, threads):
    with pytest.raises(drsn.InvalidArgumentError) as info:
        drsn.Model(model_bytes, num_threads=threads)
    assert info.value.status == 1 and str(info.value)


def test_num_threads_not_an_integer(model_bytes):
    with pytest.raises(TypeError):
        drsn.Model(model_bytes, num_threads=1.5)


def test_bad_source_type():
    with pytest.raises(TypeError):
        drsn.Model(12345)


# ---- error plumbing ------------------------------------------------------------------------

def test_status_classes():
    expected = {drsn.InvalidArgumentError: 1, drsn.FileError: 2, drsn.InvalidModelError: 3,
                drsn.UnsupportedError: 4, drsn.ShapeError: 5, drsn.DtypeError: 6,
                drsn.BufferTooSmallError: 7, drsn.OutOfMemoryError: 8, drsn.LimitExceededError: 9,
                drsn.InternalError: 100}
    from drsn._errors import error_from_status
    for cls, status in expected.items():
        err = error_from_status(status, "msg")
        assert type(err) is cls and err.status == status and str(err) == "msg"
        assert issubclass(cls, drsn.Error)
    unknown = error_from_status(42, "")
    assert type(unknown) is drsn.Error and unknown.status == 42 and str(unknown)
    assert issubclass(drsn.OutOfMemoryError, MemoryError)
    assert issubclass(drsn.ClosedError, ValueError)


def test_errors_are_per_thread(model_bytes):
    """Each thread gets the message of its own failure (drsn_last_error is thread-local)."""
    failures = {}
    barrier = threading.Barrier(4)

    def worker(i):
        barrier.wait()
        for _ in range(50):
            try:
                if i % 2:
                    drsn.Model(b"\x08\x07\x3a\x10\x0a\x01")
                else:
                    drsn.Model(f"/nonexistent/thread_{i}.onnx")
            except drsn.Error as exc:
                failures.setdefault(i, set()).add((type(exc).__name__, str(exc)))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, seen in failures.items():
        names = {name for name, _ in seen}
        if i % 2:
            assert names == {"InvalidModelError"}, seen
        else:
            assert names == {"FileError"}, seen
            assert all(f"thread_{i}.onnx" in msg for _, msg in seen), seen
    assert len(failures) == 4


# ---- resource limits -----------------------------------------------------------------------

def test_default_limits():
    assert drsn.default_limits() == {
        "max_file_bytes": 2 << 30, "max_tensor_elements": 1 << 28, "max_total_tensor_bytes": 4 << 30,
        "max_nodes": 100000, "max_rank": 8, "max_value_elements": 1 << 27, "max_arena_bytes": 4 << 30}


@pytest.mark.parametrize("limit,value", [("max_file_bytes", 100), ("max_tensor_elements", 10),
                                         ("max_total_tensor_bytes", 64), ("max_nodes", 3),
                                         ("max_rank", 2)])
def test_limit_exceeded_at_load(model_bytes, limit, value):
    with pytest.raises(drsn.LimitExceededError) as info:
        drsn.Model(model_bytes, limits={limit: value})
    assert info.value.status == 9 and str(info.value)
    with drsn.Model(model_bytes, limits={limit: 10**9}) as m:  # a generous limit loads
        m.run(np.zeros((1, 2, 16), np.float32))


def test_limit_max_value_elements_at_run():
    model = make_model([node("Relu", ["x"], ["y"])], [("x", ["N", 3, 100])], ["y"])
    with drsn.Model(model.SerializeToString(), limits={"max_value_elements": 1000}) as m:
        m.run(np.zeros((3, 3, 100), np.float32))  # 900 elements
        with pytest.raises(drsn.LimitExceededError):
            m.run(np.zeros((4, 3, 100), np.float32))  # 1200 elements
        m.run(np.zeros((1, 3, 100), np.float32))  # still usable


@pytest.mark.parametrize("limits", [{"max_nodes": 0}, {"max_rank": -5}], ids=str)
def test_limit_invalid_value(model_bytes, limits):
    with pytest.raises(drsn.InvalidArgumentError):
        drsn.Model(model_bytes, limits=limits)


def test_limit_unknown_name(model_bytes):
    with pytest.raises(drsn.InvalidArgumentError, match="max_nodes"):
        drsn.Model(model_bytes, limits={"max_cats": 3})
