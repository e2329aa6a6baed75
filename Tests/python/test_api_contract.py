"""The public Python API's contract beyond results:

* every public callable (everything in drsn.__all__, the public methods and properties of
  drsn.Model) has complete annotations that typing.get_type_hints resolves, written so
  that Python 3.9 can evaluate them (no ``X | Y``);
* error messages name the Python call that failed (``Model.run: ...``), never the C
  function that reported the error (``drsn_model_output_shape_for: ...``).
"""

from __future__ import annotations

import inspect
import pickle
import typing
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

import drsn
from oracle import i64, make_model, node

REPO_ROOT = Path(__file__).resolve().parents[2]
BEARING_MODEL = REPO_ROOT / "examples" / "bearing" / "model" / "drsn_cwru.onnx"

# Model members that are part of the public API although their names start with "_".
MODEL_DUNDERS = ("__init__", "__enter__", "__exit__")


# ---- annotations ----------------------------------------------------------------------------------

def public_callables() -> list[tuple[str, object]]:
    """(qualified name, function) of every public callable: functions in drsn.__all__,
    the constructors of its classes, and Model's public methods and property getters."""
    found: list[tuple[str, object]] = []
    for name in drsn.__all__:
        obj = getattr(drsn, name)
        if inspect.isclass(obj):
            if issubclass(obj, tuple) and hasattr(obj, "_fields"):
                continue  # NamedTuple: checked by test_named_tuples_are_annotated
            init = obj.__init__
            assert init is not object.__init__, f"drsn.{name} has no constructor of its own"
            found.append((f"drsn.{name}.__init__", init))
        elif callable(obj):
            found.append((f"drsn.{name}", obj))
    for name, member in vars(drsn.Model).items():
        if name.startswith("_") and name not in MODEL_DUNDERS:
            continue
        if isinstance(member, property):
            found.append((f"drsn.Model.{name} (property)", member.fget))
        elif callable(member):
            found.append((f"drsn.Model.{name}", member))
    return found


PUBLIC = public_callables()


def test_the_public_surface_is_found():
    names = {n for n, _ in PUBLIC}
    for expected in ("drsn.Model.__init__", "drsn.Model.run", "drsn.Model.run_into",
                     "drsn.Model.run_windows", "drsn.Model.run_introspect",
                     "drsn.Model.output_shapes", "drsn.Model.inputs (property)",
                     "drsn.window_count", "drsn.default_limits", "drsn.isa",
                     "drsn.Error.__init__"):
        assert expected in names, expected


@pytest.mark.parametrize("qualname,fn", PUBLIC, ids=[n for n, _ in PUBLIC])
def test_public_callable_is_fully_annotated(qualname, fn):
    hints = typing.get_type_hints(fn)  # must resolve (no undefined names)
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]
    missing = [p.name for p in params
               if p.annotation is inspect.Parameter.empty or p.name not in hints]
    assert not missing, f"{qualname}: unannotated parameter(s) {missing}"
    assert signature.return_annotation is not inspect.Signature.empty and "return" in hints, \
        f"{qualname}: no return annotation"
    # Python 3.9 cannot evaluate "X | Y": get_type_hints would fail there
    raw = getattr(inspect.unwrap(fn), "__annotations__", {})
    newer = {k: v for k, v in raw.items() if isinstance(v, str) and "|" in v}
    assert not newer, f"{qualname}: annotations need Python 3.10: {newer}"


@pytest.mark.parametrize("cls", [drsn.TensorInfo, drsn.ShrinkageUnit], ids=lambda c: c.__name__)
def test_named_tuples_are_annotated(cls):
    hints = typing.get_type_hints(cls)
    assert set(cls._fields) <= set(hints), (cls._fields, hints)


def test_key_signatures():
    """The annotations say what the functions do (spot checks of the important ones)."""
    run = inspect.signature(drsn.Model.run)
    assert run.parameters["output_names"].kind is inspect.Parameter.KEYWORD_ONLY
    assert run.parameters["output_names"].default is None
    hints = typing.get_type_hints(drsn.Model.run)
    assert hints["return"] == typing.List[npt.NDArray[np.float32]]
    hints = typing.get_type_hints(drsn.Model.run_introspect)
    assert typing.get_origin(hints["return"]) is tuple and len(typing.get_args(hints["return"])) == 3
    hints = typing.get_type_hints(drsn.Model.output_shapes)
    assert hints["return"] == typing.List[typing.Tuple[int, ...]]
    assert typing.get_type_hints(drsn.Model.__init__)["return"] is type(None)
    assert typing.get_type_hints(drsn.window_count) == {"length": int, "window": int, "hop": int,
                                                        "return": int}
    assert typing.get_type_hints(drsn.Model.__enter__)["return"] is drsn.Model


@pytest.mark.parametrize("cls", [drsn.Model, drsn.Error, drsn.ShapeError, drsn.LibraryNotFoundError],
                         ids=lambda c: c.__name__)
def test_class_annotations_resolve_under_the_public_module(cls):
    """The classes show as drsn.X (__module__ "drsn"); their annotations still resolve."""
    assert cls.__module__ == "drsn"
    typing.get_type_hints(cls)
    assert "STATUS" in typing.get_type_hints(drsn.Error)


# ---- error messages name the Python call ------------------------------------------------------------

def reshape_model() -> bytes:
    """[N,3] -> Reshape [-1,2]: only the library can tell that an odd N does not fit."""
    return make_model([node("Reshape", ["x", "s"], ["y"], name="reshape_odd")], [("x", ["N", 3])],
                      ["y"], {"s": i64(-1, 2)}).SerializeToString()


def assert_names_call(exc: drsn.Error, call: str) -> str:
    message = str(exc)
    assert message.startswith(f"{call}: "), message
    assert "drsn_model_" not in message and "drsn_options_" not in message, message
    assert exc.message == message and exc.call == call
    assert message == f"{call}: {exc.detail}"
    assert exc.detail and not exc.detail.startswith(call), message
    return message


@pytest.fixture
def reshape(needs_library):
    with drsn.Model(reshape_model()) as m:
        yield m


def test_run_names_the_call(reshape):
    # reported by the library while planning (node error)
    with pytest.raises(drsn.ShapeError) as info:
        reshape.run(np.ones((1, 3), np.float32))
    assert "reshape_odd" in assert_names_call(info.value, "Model.run")
    # reported by drsn_model_output_shape_for with its name in front: replaced
    with pytest.raises(drsn.ShapeError) as info:
        reshape.run(np.ones((0, 3), np.float32))
    message = assert_names_call(info.value, "Model.run")
    assert "input 'x' dimension 0 is 0" in message, message
    assert info.value.function == "drsn_model_output_shape_for"  # kept as an attribute
    # detected by the binding before calling the library
    with pytest.raises(drsn.DtypeError) as info:
        reshape.run(np.ones((2, 3), np.float64))
    assert "float64" in assert_names_call(info.value, "Model.run")


def test_output_shapes_names_the_call(reshape):
    with pytest.raises(drsn.ShapeError) as info:
        reshape.output_shapes([(0, 3)])
    message = assert_names_call(info.value, "Model.output_shapes")
    assert "dimension 0 is 0" in message
    with pytest.raises(drsn.ShapeError) as info:
        reshape.output_shapes([(5, 3)])
    assert "reshape_odd" in assert_names_call(info.value, "Model.output_shapes")
    with pytest.raises(drsn.InvalidArgumentError) as info:
        reshape.output_shapes([(1, -3)])
    assert_names_call(info.value, "Model.output_shapes")


def test_nested_public_calls_name_the_outer_one(reshape):
    with pytest.raises(drsn.ShapeError) as info:
        reshape.run_dict(np.ones((1, 3), np.float32))  # run_dict calls run
    assert_names_call(info.value, "Model.run_dict")


def test_run_into_names_the_call(reshape):
    with pytest.raises(drsn.ShapeError) as info:
        reshape.run_into(np.ones((2, 3), np.float32), [np.empty((2, 2), np.float32)])
    assert_names_call(info.value, "Model.run_into")


def test_run_windows_names_the_call(needs_library):
    identity = make_model([node("Identity", ["x"], ["y"])], [("x", ["N", 1, "W"])], ["y"])
    with drsn.Model(identity.SerializeToString()) as m:
        with pytest.raises(drsn.ShapeError) as info:
            m.run_windows(np.zeros(100, np.float32), 2048, 512)  # shorter than one window
        assert "100" in assert_names_call(info.value, "Model.run_windows")
        with pytest.raises(drsn.ShapeError) as info:
            m.run_windows(np.zeros(100, np.float32), 3_000_000_000, 1)  # a dimension > 2^31
        assert "3000000000" in assert_names_call(info.value, "Model.run_windows")
        with pytest.raises(drsn.InvalidArgumentError) as info:
            m.run_windows(np.zeros(100, np.float32), 10, 0)
        assert_names_call(info.value, "Model.run_windows")


def test_introspection_names_the_call(reshape):
    with pytest.raises(drsn.ShapeError) as info:
        reshape.shrinkage_units([(0, 3)])
    assert_names_call(info.value, "Model.shrinkage_units")
    with pytest.raises(drsn.ShapeError) as info:
        reshape.run_introspect(np.ones((1, 3), np.float32))
    assert_names_call(info.value, "Model.run_introspect")


@pytest.mark.parametrize("mode", ["memory", "file"])
def test_loading_a_corrupt_model_names_the_constructor(tmp_path, mode, needs_library):
    data = bytearray(Path(BEARING_MODEL).read_bytes()[:300])
    data[0] = 0xFF  # an invalid wire type at offset 0
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(bytes(data))
    with pytest.raises(drsn.InvalidModelError) as info:
        drsn.Model(bytes(data) if mode == "memory" else path)
    assert "not a valid ONNX model" in assert_names_call(info.value, "Model")


def test_constructor_errors_name_the_constructor(tmp_path, needs_library):
    with pytest.raises(drsn.InvalidModelError) as info:
        drsn.Model(b"")
    assert "empty" in assert_names_call(info.value, "Model")
    assert info.value.function == "drsn_model_load_memory"
    with pytest.raises(drsn.FileError) as info:
        drsn.Model(tmp_path / "missing.onnx")
    assert "missing.onnx" in assert_names_call(info.value, "Model")
    assert info.value.filename == str(tmp_path / "missing.onnx")  # still an OSError
    with pytest.raises(drsn.InvalidArgumentError) as info:
        drsn.Model(reshape_model(), num_threads=-1)
    assert "num_threads" in assert_names_call(info.value, "Model")
    with pytest.raises(drsn.InvalidArgumentError) as info:
        drsn.Model(reshape_model(), limits={"max_rank": 0})
    assert "limits['max_rank']" in assert_names_call(info.value, "Model")


def test_closed_model_names_the_call(needs_library):
    m = drsn.Model(reshape_model())
    m.close()
    for call, use in (("Model.run", lambda: m.run(np.ones((2, 3), np.float32))),
                      ("Model.output_shapes", lambda: m.output_shapes([(2, 3)])),
                      ("Model.inputs", lambda: m.inputs),
                      ("Model.summary", m.summary)):
        with pytest.raises(drsn.ClosedError) as info:
            use()
        assert "closed" in assert_names_call(info.value, call)


def test_module_functions_name_the_call(needs_library):
    with pytest.raises(drsn.InvalidArgumentError) as info:
        drsn.window_count(100, 0, 1)
    message = assert_names_call(info.value, "drsn.window_count")
    assert "drsn_window_count" not in message and info.value.function == "drsn_window_count"


def test_named_errors_still_pickle(reshape):
    with pytest.raises(drsn.ShapeError) as info:
        reshape.run(np.ones((1, 3), np.float32))
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is drsn.ShapeError and str(copy) == str(info.value) and copy.status == 5
