"""drsn.Model: a loaded ONNX model and its runs.

Contracts (they follow include/drsn.h):

* Inputs and outputs are float32, C order. Inputs must already be float32 -- any other
  dtype (float64 included) raises :class:`~drsn.DtypeError`; nothing is cast silently.
  Non-contiguous or misaligned inputs are copied to a C-contiguous array first.
* Input ranks and fixed dimensions are checked against the declared input shapes before
  the library is called (:class:`~drsn.ShapeError` with expected and actual shape);
  dynamic dimensions (``None`` in :attr:`Model.inputs`) accept any size, and the library
  checks the rest (e.g. two inputs that must share a batch size). Zero-size tensors (a
  dimension of 0, e.g. an empty batch) are not supported: the library refuses them with
  a :class:`~drsn.ShapeError` that says so.
* Boolean outputs come back as float32 0.0 / 1.0 (the declared dtype in
  :attr:`Model.outputs` is still ``bool``).
* A model is immutable and may be run from several Python threads at once; the GIL is
  released while the library computes. :meth:`Model.close` waits for runs in progress
  and then frees the model; any later use raises :class:`~drsn.ClosedError`.
* Error messages start with the Python call that failed (``Model.run: ...``), never with
  the C function that reported the error (see :class:`drsn.Error`).
"""

from __future__ import annotations

import ctypes
import json
import math
import operator
import os
import threading
from collections.abc import Mapping
from ctypes import byref, c_int, c_int64, c_size_t, c_void_p
from types import TracebackType
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Type, Union

import numpy as np
import numpy.typing as npt

from ._errors import (
    BufferTooSmallError,
    ClosedError,
    DtypeError,
    FileError,
    InternalError,
    InvalidArgumentError,
    ShapeError,
    public_call,
)
from ._library import Library, load

__all__ = ["LIMITS", "NORMALIZATIONS", "Model", "ShrinkageUnit", "TensorInfo", "default_limits",
           "window_count"]

#: drsn_dtype (ONNX TensorProto.DataType) -> numpy dtype; UNDEFINED (0) -> None.
_NUMPY_DTYPES: Dict[int, np.dtype[Any]] = {
    1: np.dtype(np.float32),
    2: np.dtype(np.uint8),
    3: np.dtype(np.int8),
    6: np.dtype(np.int32),
    7: np.dtype(np.int64),
    9: np.dtype(np.bool_),
    10: np.dtype(np.float16),
    11: np.dtype(np.float64),
}
_FLOAT32 = np.dtype(np.float32)
_STATUS_BUFFER_TOO_SMALL = BufferTooSmallError.STATUS
_SHAPE_CAPACITY = 8  # first guess for a rank; a larger rank costs one retry

Shape = Tuple[Optional[int], ...]

# Type aliases of the public signatures (evaluated at run time, so typing.Union: Python 3.9).
#: A float32 numpy array: what every run returns, and what inputs must be.
Float32Array = npt.NDArray[np.float32]
#: Model inputs: one array (one-input model), a sequence in input order, or a mapping
#: by input name. Arrays must be float32; anything else raises DtypeError.
Inputs = Union[npt.ArrayLike, Sequence[npt.ArrayLike], Mapping[str, npt.ArrayLike]]
#: Concrete input shapes: one shape (one-input model), a sequence of shapes in input
#: order, or a mapping by input name.
InputShapes = Union[Sequence[int], Sequence[Sequence[int]], Mapping[str, Sequence[int]]]
#: Preallocated outputs of Model.run_into: a sequence in output order or a mapping by name.
OutputBuffers = Union[Sequence[Float32Array], Mapping[str, Float32Array]]
#: What Model() loads: a path, or the model's bytes.
ModelSource = Union[str, os.PathLike[Any], bytes, bytearray, memoryview]


class TensorInfo(NamedTuple):
    """A graph input or output: its name, its declared shape (a tuple of ints, with None
    for a dynamic dimension) and its declared element type (a numpy dtype, None if the
    model leaves it undefined)."""

    name: str
    shape: Shape
    dtype: Optional[np.dtype]


class ShrinkageUnit(NamedTuple):
    """A residual shrinkage unit drsn recognised in the model (drsn_model_shrinkage_units):
    how many thresholds tau it learns per sample (its channel count for a channel-wise
    unit, 1 for a channel-shared one) and how many features (channels x positions) it
    thresholds per sample."""

    thresholds_per_sample: int
    features_per_sample: int


#: normalize= values of Model.run_windows -> drsn_normalization.
NORMALIZATIONS = {None: 0, "none": 0, "zscore": 1}
#: Windows per internal run of Model.run_windows by default (DRSN_WINDOW_BATCH_DEFAULT).
WINDOW_BATCH_DEFAULT = 64
#: z-score epsilon of Model.run_windows by default (DRSN_ZSCORE_EPSILON_DEFAULT).
ZSCORE_EPSILON_DEFAULT = 1e-8
#: Largest num_threads a model accepts (DRSN_MAX_THREADS).
MAX_THREADS = 256


@public_call("drsn.window_count")
def window_count(length: int, window: int, hop: int) -> int:
    """Number of full windows of ``window`` samples every ``hop`` samples in ``length``
    samples (drsn_window_count; 0 when length < window). InvalidArgumentError when
    window or hop is < 1."""
    length, window, hop = (_count_arg(v, n) for v, n in
                           ((length, "length"), (window, "window"), (hop, "hop")))
    lib = load()
    out = c_size_t(0)
    lib.check(lib.require("window_count")(length, window, hop, byref(out)))
    return int(out.value)


def window_options(window: Any, hop: Any, normalize: Any, epsilon: Any,
                   batch_size: Any) -> Tuple[int, int, int, float, int]:
    """(window, hop, drsn_normalization code, epsilon, batch_size) of the sliding-window
    keywords (Model.run_windows, Model.stream), checked: InvalidArgumentError."""
    window = _count_arg(window, "window", 1)
    hop = _count_arg(hop, "hop", 1)
    batch_size = _count_arg(batch_size, "batch_size", 1)
    if isinstance(normalize, str):
        normalize = normalize.lower()
    if normalize not in NORMALIZATIONS:
        raise InvalidArgumentError(f"normalize must be 'zscore' or None, got {normalize!r}")
    try:
        epsilon = float(epsilon)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"epsilon must be a number, got {epsilon!r}") from None
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise InvalidArgumentError(f"epsilon must be finite and >= 0, got {epsilon}")
    return window, hop, NORMALIZATIONS[normalize], epsilon, batch_size


def signal_array(signal: npt.ArrayLike, what: str) -> Float32Array:
    """A signal as run_windows takes it: float32 (DtypeError otherwise), 1-D [length] or 2-D
    [channels, length] (ShapeError otherwise), made C-contiguous and aligned if needed."""
    array = signal if isinstance(signal, np.ndarray) else np.asarray(signal)
    if array.dtype != _FLOAT32:
        raise DtypeError(
            f"{what}: expected float32, got {_describe_dtype(array.dtype)} (drsn never "
            f"casts silently; convert with .astype(numpy.float32))")
    if array.ndim not in (1, 2):
        raise ShapeError(
            f"{what}: expected a 1-D [length] or 2-D [channels, length] array, got shape "
            f"{_format_shape(array.shape)}")
    flags = array.flags
    if not (flags.c_contiguous and flags.aligned):
        array = np.require(array, _FLOAT32, ("C_CONTIGUOUS", "ALIGNED"))
    return array


def _count_arg(value: Any, name: str, minimum: int = 0) -> int:
    """An integer argument >= minimum (InvalidArgumentError otherwise; bool is refused)."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be an integer, got {value!r}")
    try:
        index: int = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(
            f"{name} must be an integer, got {type(value).__name__} {value!r}") from None
    if index < minimum:
        raise InvalidArgumentError(f"{name} must be >= {minimum}, got {index}")
    return index


def _format_shape(shape: Sequence[Optional[int]]) -> str:
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def _describe_dtype(dtype: np.dtype[Any]) -> str:
    if dtype.isnative or dtype.byteorder == "|":
        return str(dtype.name)
    return f"{dtype.name} with non-native byte order ('{dtype.str}')"


def _query_shape(lib: Library, fn: Callable[..., int], *args: Any) -> Tuple[int, ...]:
    """Calls a drsn_model_*shape* function `fn(*args, dims, capacity, &rank)`, retrying
    once with the reported rank when the first buffer is too small."""
    capacity = _SHAPE_CAPACITY
    while True:
        dims = (c_int64 * capacity)()
        rank = c_size_t(0)
        status = fn(*args, dims, capacity, byref(rank))
        if status == _STATUS_BUFFER_TOO_SMALL and rank.value > capacity:
            capacity = rank.value
            continue
        lib.check(status)
        return tuple(dims[: rank.value])


class _ShapePlan(NamedTuple):
    """C views of one combination of concrete input shapes, and the output shapes the
    library computes for it. Immutable once built; cached per model and shared by
    threads, so repeated runs with the same shapes skip validation and the
    drsn_model_output_shape_for calls."""

    dims: Any                           # (c_void_p * n): input i -> its int64 dims
    dim_arrays: List[Any]               # the int64 arrays `dims` points into, kept alive here
    ranks: Any                          # (c_size_t * n)
    output_shapes: List[Tuple[int, ...]]
    capacities: Any                     # (c_size_t * outputs): elements of each output


_PLAN_CACHE_SIZE = 64

#: Resource limits (drsn_limit) by the name Model(limits=...) takes.
LIMITS = {
    "max_file_bytes": 1,          # largest model file / buffer in bytes
    "max_tensor_elements": 2,     # most elements in one stored tensor
    "max_total_tensor_bytes": 3,  # most bytes over all stored tensors
    "max_nodes": 4,               # most nodes in the graph
    "max_rank": 5,                # most dimensions of any tensor or shape
    "max_value_elements": 6,      # most elements of any tensor computed while running
    "max_arena_bytes": 7,         # most bytes of working memory one run may need
}


def _limit_code(name: str) -> int:
    try:
        return LIMITS[name]
    except (KeyError, TypeError):
        raise InvalidArgumentError(
            f"unknown limit {name!r}; known limits: {', '.join(LIMITS)}") from None


@public_call("drsn.default_limits")
def default_limits() -> Dict[str, int]:
    """The library's default resource limits, {name: value} (see :data:`LIMITS`)."""
    lib = load()
    get_limit = lib.require("options_get_limit")
    options = c_void_p()
    lib.check(lib.options_create(byref(options)))
    try:
        values: Dict[str, int] = {}
        for name, code in LIMITS.items():
            value = c_int64(0)
            lib.check(get_limit(options, code, byref(value)))
            values[name] = value.value
        return values
    finally:
        lib.options_destroy(options)


class Model:
    """An ONNX model loaded by libdrsn.

    ``Model(source, num_threads=None)``:

    * ``source`` -- a path (``str`` or ``os.PathLike``) loaded with
      drsn_model_load_file, or the model's bytes (``bytes``, ``bytearray``,
      ``memoryview``) loaded with drsn_model_load_memory. The bytes are only read
      during the constructor.
    * ``num_threads`` -- threads used by one run: ``None`` for the library default,
      0 for one per core, 1 for the calling thread only (range 0..MAX_THREADS, 256).
    * ``limits`` -- resource limits, ``{name: value >= 1}`` with names from
      :data:`drsn.LIMITS` (defaults: :func:`drsn.default_limits`). A model that asks for
      more fails to load with :class:`~drsn.LimitExceededError` (``max_value_elements``
      and ``max_arena_bytes``, the working memory one run may need: the run or shape query
      whose input shapes would exceed it fails; ``max_arena_bytes`` is also checked at
      load for the declared shapes).

    Raises :class:`~drsn.FileError`, :class:`~drsn.InvalidModelError`,
    :class:`~drsn.UnsupportedError`, ... when the library cannot load the model, and
    :class:`~drsn.LibraryNotFoundError` when libdrsn itself cannot be found. Messages
    start with ``Model: `` for the constructor and ``Model.<method>: `` for a method.
    """

    _handle: Optional[int] = None  # set first thing, so __del__ is safe on a failed init
    _source: str = "<not loaded>"

    @public_call("Model")
    def __init__(self, source: ModelSource, num_threads: Optional[int] = None,
                 limits: Optional[Mapping[str, int]] = None) -> None:
        lib = load()
        self._lib = lib
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # close() waits on it for runs to end
        self._active_runs = 0
        self._plans: Dict[Tuple[Tuple[int, ...], ...], _ShapePlan] = {}
        self._units: Dict[Tuple[Tuple[int, ...], ...], List[ShrinkageUnit]] = {}
        self._num_threads = None if num_threads is None else operator.index(num_threads)
        limit_values = {name: (_limit_code(name), operator.index(v))
                        for name, v in (limits or {}).items()}
        set_limit = lib.require("options_set_limit") if limit_values else None

        options = c_void_p()
        if self._num_threads is not None or limit_values:
            lib.check(lib.options_create(byref(options)))
        try:
            if self._num_threads is not None:
                lib.check(lib.options_set_num_threads(options, self._num_threads))
            for name, (code, value) in limit_values.items():
                assert set_limit is not None
                status = set_limit(options, code, value)
                if status != 0:
                    error = lib.error(status)
                    error.detail = f"limits[{name!r}]: {error.detail}"
                    error.message = error.detail
                    raise error
            handle = c_void_p()
            if isinstance(source, (bytes, bytearray, memoryview)):
                view = memoryview(source)
                data = np.frombuffer(view if view.c_contiguous else view.tobytes(), dtype=np.uint8)
                self._source = "<memory>"
                status = lib.model_load_memory(data.ctypes.data, data.size, options, byref(handle))
            elif isinstance(source, (str, os.PathLike)):
                path = os.fspath(source)
                self._source = os.fsdecode(path)
                status = lib.model_load_file(os.fsencode(path), options, byref(handle))
                if status == FileError.STATUS:
                    file_error = lib.error(status)
                    setattr(file_error, "filename", self._source)  # as OSError.filename
                    raise file_error
            else:
                raise TypeError(
                    "drsn.Model expects a path (str or os.PathLike) or the model's bytes "
                    f"(bytes, bytearray, memoryview), got {type(source).__name__}")
            lib.check(status)
        finally:
            lib.options_destroy(options)
        self._handle = handle.value

        h = self._handle
        self._inputs = [self._info(i, lib.model_input_name, lib.model_input_dtype,
                                   lib.model_input_shape) for i in range(lib.model_input_count(h))]
        self._outputs = [self._info(i, lib.model_output_name, lib.model_output_dtype,
                                    lib.model_output_shape) for i in range(lib.model_output_count(h))]
        self._input_index = {info.name: i for i, info in enumerate(self._inputs)}
        self._output_index = {info.name: i for i, info in enumerate(self._outputs)}

    def _info(self, index: int, name_fn: Callable[..., Optional[bytes]],
              dtype_fn: Callable[..., int], shape_fn: Callable[..., int]) -> TensorInfo:
        lib, h = self._lib, self._handle
        raw = name_fn(h, index)
        name = raw.decode("utf-8", "replace") if raw is not None else ""
        code = c_int(0)
        lib.check(dtype_fn(h, index, byref(code)))
        dims = _query_shape(lib, shape_fn, h, index)
        return TensorInfo(name, tuple(None if d < 0 else d for d in dims),
                          _NUMPY_DTYPES.get(code.value))

    # ---- lifetime --------------------------------------------------------------------

    @public_call("Model.close")
    def close(self) -> None:
        """Frees the model. Waits for runs in progress on other threads to finish.
        Idempotent; afterwards every other method raises :class:`~drsn.ClosedError`."""
        cond = getattr(self, "_cond", None)
        if cond is None:  # __init__ failed before the model existed
            return
        with cond:
            handle, self._handle = self._handle, None
            while self._active_runs:
                cond.wait()
        if handle is not None:
            self._lib.model_destroy(handle)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle is None

    @public_call("Model.__enter__")
    def __enter__(self) -> Model:
        self._require_open()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    def __del__(self) -> None:
        # No run can be in progress: a run holds a reference to self. Only touches
        # attributes of self, so it also works while the interpreter shuts down.
        handle = self._handle
        if handle is not None:
            self._handle = None
            try:
                self._lib.model_destroy(handle)
            except Exception:
                pass

    def _require_open(self) -> int:
        handle = self._handle
        if handle is None:
            raise ClosedError(f"the drsn model loaded from {self._source} is closed")
        return handle

    def _begin(self) -> int:
        with self._lock:
            handle = self._require_open()
            self._active_runs += 1
            return handle

    def _end(self) -> None:
        with self._lock:
            self._active_runs -= 1
            if self._active_runs == 0 and self._handle is None:
                self._cond.notify_all()  # close() is waiting

    # ---- introspection ---------------------------------------------------------------

    @property
    @public_call("Model.inputs")
    def inputs(self) -> List[TensorInfo]:
        """Graph inputs (initializers excluded), in the order :meth:`run` takes them."""
        self._require_open()
        return list(self._inputs)

    @property
    @public_call("Model.outputs")
    def outputs(self) -> List[TensorInfo]:
        """Graph outputs, in the order :meth:`run` returns them. The shape is the one
        inferred at load time (None where it depends on a dynamic input dimension)."""
        self._require_open()
        return list(self._outputs)

    @property
    def num_threads(self) -> Optional[int]:
        """The ``num_threads`` given to the constructor (None: library default)."""
        return self._num_threads

    @property
    def source(self) -> str:
        """The path the model was loaded from, or ``"<memory>"``."""
        return self._source

    def __repr__(self) -> str:
        if self._handle is None:
            return f"<drsn.Model from {self._source!r}, closed>"
        ins = ", ".join(f"{i.name}{_format_shape(i.shape)}" for i in self._inputs)
        outs = ", ".join(f"{o.name}{_format_shape(o.shape)}" for o in self._outputs)
        return f"<drsn.Model from {self._source!r}: [{ins}] -> [{outs}]>"

    # ---- argument handling -----------------------------------------------------------

    def _by_input(self, values: Any, what: str) -> List[Any]:
        """Orders per-input values given as a dict by name, a list/tuple in input order,
        or (for a one-input model) a single value."""
        names = [info.name for info in self._inputs]
        if isinstance(values, Mapping):
            unknown = [k for k in values if k not in self._input_index]
            missing = [n for n in names if n not in values]
            if unknown or missing:
                parts = []
                if missing:
                    parts.append("missing " + ", ".join(repr(n) for n in missing))
                if unknown:
                    parts.append("unknown " + ", ".join(repr(k) for k in unknown))
                raise InvalidArgumentError(
                    f"{what} by name: {'; '.join(parts)} (the model's inputs are "
                    f"{', '.join(repr(n) for n in names) or 'none'})")
            return [values[n] for n in names]
        if isinstance(values, (list, tuple)):
            if len(values) != len(names):
                raise InvalidArgumentError(
                    f"{what}: the model has {len(names)} input(s) "
                    f"({', '.join(repr(n) for n in names)}), got {len(values)}")
            return list(values)
        if len(names) != 1:
            raise InvalidArgumentError(
                f"{what}: the model has {len(names)} inputs "
                f"({', '.join(repr(n) for n in names)}); pass a list in this order or a "
                f"dict by name")
        return [values]

    def _check_shape(self, index: int, shape: Sequence[int]) -> None:
        info = self._inputs[index]
        declared = info.shape
        # A dimension of 0 is left to the library, which refuses it with its message
        # ("zero-size tensors are not supported") rather than as a mismatch.
        if len(shape) != len(declared) or any(
                d is not None and d != s and s != 0 for d, s in zip(declared, shape)):
            raise ShapeError(
                f"input '{info.name}': expected shape {_format_shape(declared)} "
                f"(rank {len(declared)}), got {_format_shape(shape)} (rank {len(shape)})")

    def _prepare(self, inputs: Inputs) -> List[Float32Array]:
        """The inputs as float32, C-contiguous, aligned arrays in input order (copied
        only when the layout needs it). Raises DtypeError; shapes are checked by _plan."""
        arrays = []
        for i, value in enumerate(self._by_input(inputs, "inputs")):
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
            if array.dtype != _FLOAT32:
                raise DtypeError(
                    f"input '{self._inputs[i].name}': expected float32, got "
                    f"{_describe_dtype(array.dtype)} (drsn never casts silently; convert "
                    f"with .astype(numpy.float32))")
            flags = array.flags
            if not (flags.c_contiguous and flags.aligned):
                array = np.require(array, _FLOAT32, ("C_CONTIGUOUS", "ALIGNED"))
            arrays.append(array)
        return arrays

    def _plan(self, handle: int, shapes: Tuple[Tuple[int, ...], ...]) -> _ShapePlan:
        """The cached _ShapePlan for these input shapes (a tuple of int tuples), built
        on first use: shapes checked against the declared inputs (ShapeError), output
        shapes asked from the library (ShapeError if the shapes do not fit)."""
        plan = self._plans.get(shapes)
        if plan is not None:
            return plan
        for i, shape in enumerate(shapes):
            self._check_shape(i, shape)
        n = len(shapes)
        dim_arrays = [(c_int64 * len(s))(*s) for s in shapes]
        dims = (c_void_p * n)(*[ctypes.addressof(d) for d in dim_arrays])
        ranks = (c_size_t * n)(*[len(s) for s in shapes])
        output_shapes = [_query_shape(self._lib, self._lib.model_output_shape_for, handle, n,
                                      dims, ranks, j)
                         for j in range(len(self._outputs))]
        capacities = (c_size_t * len(output_shapes))(
            *[int(np.prod(s, dtype=np.int64)) for s in output_shapes])
        plan = _ShapePlan(dims, dim_arrays, ranks, output_shapes, capacities)
        if len(self._plans) >= _PLAN_CACHE_SIZE:
            self._plans.clear()
        self._plans[shapes] = plan
        return plan

    def _call_run(self, handle: int, arrays: Sequence[Float32Array], plan: _ShapePlan,
                  outputs: Sequence[Float32Array]) -> None:
        """drsn_model_run. `arrays` and `outputs` stay referenced by the caller's frame
        for the whole call; ctypes releases the GIL while the library computes."""
        inputs = (c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
        out_ptrs = (c_void_p * len(outputs))(*[o.ctypes.data for o in outputs])
        status = self._lib.model_run(handle, len(arrays), inputs, plan.dims, plan.ranks,
                                     len(outputs), out_ptrs, plan.capacities)
        self._lib.check(status)

    # ---- running ---------------------------------------------------------------------

    @public_call("Model.output_shapes")
    def output_shapes(self, input_shapes: InputShapes) -> List[Tuple[int, ...]]:
        """Concrete output shapes (a list of int tuples, in output order) for concrete
        input shapes, without running the model. ``input_shapes``: a dict by input
        name, a list in input order, or one shape for a one-input model.
        Raises ShapeError when the shapes do not fit the model."""
        handle = self._begin()
        try:
            return list(self._plan(handle, self._shapes_arg(input_shapes)).output_shapes)
        finally:
            self._end()

    def _shapes_arg(self, input_shapes: InputShapes) -> Tuple[Tuple[int, ...], ...]:
        """``input_shapes`` (a dict by input name, a list in input order, or one shape for
        a one-input model) as a tuple of int tuples in input order."""
        if (len(self._inputs) == 1 and isinstance(input_shapes, (list, tuple))
                and all(isinstance(d, (int, np.integer)) for d in input_shapes)):
            input_shapes = [input_shapes]
        shapes = []
        for i, shape in enumerate(self._by_input(input_shapes, "input_shapes")):
            try:
                shape = tuple(operator.index(d) for d in shape)
            except TypeError:
                raise InvalidArgumentError(
                    f"input_shapes: shape of '{self._inputs[i].name}' must be a "
                    f"sequence of ints, got {shape!r}") from None
            if any(d < 0 for d in shape):
                raise InvalidArgumentError(
                    f"input_shapes: negative dimension in {shape} for "
                    f"'{self._inputs[i].name}'")
            shapes.append(shape)
        return tuple(shapes)

    def _output_selection(self, output_names: Sequence[str]) -> List[int]:
        """Output indices of ``output_names`` (in that order; repeats allowed).
        InvalidArgumentError naming every unknown name and listing the valid ones."""
        if isinstance(output_names, (str, bytes)):
            raise InvalidArgumentError(
                f"output_names must be a sequence of output names, not a single "
                f"{type(output_names).__name__} ({output_names!r}); write [{output_names!r}]")
        try:
            names = list(output_names)
        except TypeError:
            raise InvalidArgumentError(
                f"output_names must be a sequence of output names (str), got "
                f"{type(output_names).__name__}") from None
        valid = ", ".join(repr(o.name) for o in self._outputs) or "none"
        for name in names:
            if not isinstance(name, str):
                raise InvalidArgumentError(
                    f"output_names: expected output names (str), got {type(name).__name__} "
                    f"{name!r} (the model's outputs are {valid})")
        unknown = [n for n in dict.fromkeys(names) if n not in self._output_index]
        if unknown:
            raise InvalidArgumentError(
                f"output_names: unknown output{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(n) for n in unknown)} (the model's outputs are {valid})")
        return [self._output_index[n] for n in names]

    @public_call("Model.run")
    def run(self, inputs: Inputs, *,
            output_names: Optional[Sequence[str]] = None) -> List[Float32Array]:
        """Runs the model once and returns its outputs as new float32 arrays.

        * ``inputs``: one array (one-input model), a list/tuple in input order, or a dict
          by input name. Arrays must be float32 (see the module contract).
        * ``output_names``: ``None`` (default) returns every output, in output order;
          a sequence of output names returns those outputs, in that order, like
          onnxruntime's ``InferenceSession.run(output_names, feeds)``. A name may appear
          more than once (each occurrence is the same array object); an unknown name
          raises :class:`~drsn.InvalidArgumentError` naming it and listing the model's
          outputs (before anything runs); an empty sequence returns ``[]`` (onnxruntime
          reads ``[]`` as "all outputs"). The model always computes every output: the
          selection saves no compute.
        """
        handle = self._begin()
        try:
            selection = None if output_names is None else self._output_selection(output_names)
            arrays = self._prepare(inputs)
            plan = self._plan(handle, tuple(a.shape for a in arrays))
            outputs = [np.empty(s, dtype=_FLOAT32) for s in plan.output_shapes]
            self._call_run(handle, arrays, plan, outputs)
        finally:
            self._end()
        if selection is None:
            return outputs
        return [outputs[j] for j in selection]

    @public_call("Model.run_dict")
    def run_dict(self, inputs: Inputs, *,
                 output_names: Optional[Sequence[str]] = None) -> Dict[str, Float32Array]:
        """Like :meth:`run`, but returns ``{output name: array}`` (in output order, or in
        the order of ``output_names`` when given)."""
        names = [o.name for o in self._outputs] if output_names is None else list(output_names)
        return dict(zip(names, self.run(inputs, output_names=output_names)))

    @public_call("Model.run_into")
    def run_into(self, inputs: Inputs, outputs: OutputBuffers) -> List[Float32Array]:
        """Runs the model writing into caller-provided arrays (no output allocation).

        ``outputs``: a list/tuple in output order or a dict by output name of numpy
        arrays that are float32, C-contiguous, aligned, writable, of exactly the output
        shape for these inputs (see :meth:`output_shapes`), and that share no memory
        with each other or with the inputs. Returns the output arrays in output order.
        Raises DtypeError / ShapeError / InvalidArgumentError for a buffer that breaks
        these rules; the buffers are not touched in that case.
        """
        handle = self._begin()
        try:
            arrays = self._prepare(inputs)
            plan = self._plan(handle, tuple(a.shape for a in arrays))
            buffers = self._check_outputs(outputs, plan.output_shapes, arrays)
            self._call_run(handle, arrays, plan, buffers)
            return buffers
        finally:
            self._end()

    def _check_outputs(self, outputs: OutputBuffers, expected: Sequence[Tuple[int, ...]],
                       input_arrays: List[Float32Array]) -> List[Float32Array]:
        names = [o.name for o in self._outputs]
        if isinstance(outputs, Mapping):
            unknown = [k for k in outputs if k not in self._output_index]
            missing = [n for n in names if n not in outputs]
            if unknown or missing:
                raise InvalidArgumentError(
                    f"outputs by name: missing {missing}, unknown {unknown} (the model's "
                    f"outputs are {names})")
            buffers = [outputs[n] for n in names]
        elif isinstance(outputs, (list, tuple)):
            if len(outputs) != len(names):
                raise InvalidArgumentError(
                    f"outputs: the model has {len(names)} output(s) {names}, got {len(outputs)}")
            buffers = list(outputs)
        else:
            raise InvalidArgumentError("outputs must be a list/tuple in output order or a dict by name")
        for j, (buf, shape) in enumerate(zip(buffers, expected)):
            name = names[j]
            if not isinstance(buf, np.ndarray):
                raise InvalidArgumentError(
                    f"output '{name}': expected a numpy array, got {type(buf).__name__}")
            if buf.dtype != _FLOAT32:
                raise DtypeError(
                    f"output '{name}': expected float32, got {_describe_dtype(buf.dtype)}")
            if buf.shape != tuple(shape):
                raise ShapeError(
                    f"output '{name}': expected shape {_format_shape(shape)} "
                    f"({int(np.prod(shape))} elements), got {_format_shape(buf.shape)} "
                    f"({buf.size} elements)")
            if not (buf.flags.c_contiguous and buf.flags.aligned and buf.flags.writeable):
                raise InvalidArgumentError(
                    f"output '{name}': the array must be C-contiguous, aligned and writable")
            for other in buffers[:j] + input_arrays:
                if buf.size and np.may_share_memory(buf, other):
                    raise InvalidArgumentError(
                        f"output '{name}' overlaps another input or output buffer")
        return buffers

    # ---- model summary ---------------------------------------------------------------

    @public_call("Model.summary")
    def summary(self) -> Dict[str, Any]:
        """The library's description of the model (drsn_model_summary_json) as a dict:
        ``producer``, ``opset``, ``inputs``, ``outputs``, operator counts as loaded
        (``operators``) and after optimisation (``optimized_operators``),
        ``parameters``, ``flops_per_sample`` (batch 1), ``steps_per_run``,
        ``arena_bytes_batch1``, applied graph ``passes``, fused ``shrinkage_units``
        (each ``{"thresholds_per_sample", "features_per_sample"}``) and ``threads``.
        Fields may be added by newer libraries."""
        handle = self._begin()
        try:
            raw = self._lib.require("model_summary_json")(handle)
        finally:
            self._end()
        if raw is None:
            raise InternalError("drsn_model_summary_json returned NULL for a loaded model")
        try:
            result = json.loads(raw.decode("utf-8"))
        except ValueError as exc:
            raise InternalError(f"drsn_model_summary_json returned invalid JSON ({exc}): "
                                f"{raw[:200]!r}") from None
        if not isinstance(result, dict):
            raise InternalError(f"drsn_model_summary_json returned {type(result).__name__}, "
                                f"not a JSON object: {raw[:200]!r}")
        return result

    # ---- long signals: sliding windows ---------------------------------------------

    def _window_input_shape(self, channels: int, window: int) -> Tuple[int, ...]:
        """The model input shape for one window (batch 1), as drsn_model_run_windows
        feeds it: [1, channels, window], or [1, window] for a rank-2 input."""
        if len(self._inputs) != 1:
            raise InvalidArgumentError(
                f"run_windows needs a model with exactly one input; this one has "
                f"{len(self._inputs)} ({', '.join(repr(i.name) for i in self._inputs)})")
        info = self._inputs[0]
        if len(info.shape) == 3:
            return (1, channels, window)
        if len(info.shape) == 2:
            if channels != 1:
                raise ShapeError(
                    f"input '{info.name}' has shape {_format_shape(info.shape)} (one channel); "
                    f"a signal with {channels} channels does not fit")
            return (1, window)
        raise ShapeError(
            f"run_windows needs an input of rank 3 [N, C, W] or rank 2 [N, W]; input "
            f"'{info.name}' has shape {_format_shape(info.shape)} (rank {len(info.shape)})")

    @public_call("Model.run_windows")
    def run_windows(self, signal: npt.ArrayLike, window: int, hop: int,
                    normalize: Optional[str] = "zscore", epsilon: float = ZSCORE_EPSILON_DEFAULT,
                    batch_size: int = WINDOW_BATCH_DEFAULT) -> List[Float32Array]:
        """Runs the model on every full window of a long recording
        (drsn_model_run_windows) and returns its outputs, one array per model output
        shaped ``[num_windows, *per-window output shape]``, in window order.

        * ``signal``: float32 array, 1-D ``[length]`` (one channel) or 2-D
          ``[channels, length]``. Other dtypes (float64 included) raise
          :class:`~drsn.DtypeError`; a non-contiguous array is copied first.
        * Windows of ``window`` samples start at 0, hop, 2*hop, ...; a partial window at
          the end is dropped. A signal shorter than one window raises
          :class:`~drsn.ShapeError`.
        * ``normalize``: ``"zscore"`` normalises every window and channel on its own,
          ``(x - mean) / (std + epsilon)`` with the population std; ``None`` (or
          ``"none"``) passes the windows as cut.
        * ``batch_size``: windows per internal run (>= 1); the results do not depend on it.

        The model must have one input of shape [N, C, W] (or [N, W] with one channel).
        """
        window, hop, code, epsilon, batch_size = window_options(window, hop, normalize, epsilon,
                                                                batch_size)
        array = signal_array(signal, "signal")
        channels, length = (1, array.shape[0]) if array.ndim == 1 else array.shape
        if channels < 1 or length < 1:
            raise ShapeError(f"signal: shape {_format_shape(array.shape)} holds no samples")

        handle = self._begin()
        try:
            lib = self._lib
            run_windows = lib.require("model_run_windows")
            plan = self._plan(handle, (self._window_input_shape(channels, window),))
            per_window = [tuple(s[1:]) for s in plan.output_shapes]
            count = c_size_t(0)
            lib.check(lib.require("window_count")(length, window, hop, byref(count)))
            n = count.value
            outputs = [np.empty((n,) + s, dtype=_FLOAT32) for s in per_window]
            out_ptrs = (c_void_p * len(outputs))(*[o.ctypes.data for o in outputs])
            caps = (c_size_t * len(outputs))(*[o.size for o in outputs])
            got = c_size_t(0)
            status = run_windows(handle, array.ctypes.data, channels, length, window, hop,
                                 code, epsilon, batch_size,
                                 len(outputs), out_ptrs, caps, byref(got))
            lib.check(status)
            if got.value != n:
                raise InternalError(
                    f"drsn_model_run_windows reported {got.value} windows, drsn_window_count {n}")
            return outputs
        finally:
            self._end()

    @public_call("Model.stream")
    def stream(self, window: int, hop: int, channels: int = 1,
               normalize: Optional[str] = "zscore", epsilon: float = ZSCORE_EPSILON_DEFAULT,
               batch_size: int = WINDOW_BATCH_DEFAULT, max_waiting: int = 0,
               introspect: bool = False) -> Stream:
        """A :class:`drsn.Stream`: :meth:`run_windows` on a live signal pushed in chunks of
        any size (drsn_stream_create). The keywords are run_windows'; ``channels`` is the
        signal's channel count, ``max_waiting`` the latency bound (complete windows may
        wait, unrun, while at most this many are complete, so that several pushes share a
        batch; 0: every push runs what it completed) and ``introspect`` adds each window's
        shrinkage thresholds and zeroed fractions to the results. Use it as a context
        manager, or close it."""
        return Stream(self, window, hop, channels=channels, normalize=normalize, epsilon=epsilon,
                      batch_size=batch_size, max_waiting=max_waiting, introspect=introspect)

    # ---- threshold introspection -----------------------------------------------------

    def _shrinkage_units(self, handle: int, shapes: Tuple[Tuple[int, ...], ...],
                         plan: _ShapePlan) -> List[ShrinkageUnit]:
        units = self._units.get(shapes)
        if units is not None:
            return units
        lib = self._lib
        fn = lib.require("model_shrinkage_units")
        n = len(shapes)
        count = c_size_t(0)
        status = fn(handle, n, plan.dims, plan.ranks, byref(count), None, None, 0)
        if status != 0 and status != _STATUS_BUFFER_TOO_SMALL:
            lib.check(status)
        capacity = count.value
        thresholds = (c_size_t * max(capacity, 1))()
        features = (c_size_t * max(capacity, 1))()
        if capacity:
            lib.check(fn(handle, n, plan.dims, plan.ranks, byref(count), thresholds, features,
                         capacity))
        units = [ShrinkageUnit(thresholds[u], features[u]) for u in range(count.value)]
        if len(self._units) >= _PLAN_CACHE_SIZE:
            self._units.clear()
        self._units[shapes] = units
        return units

    @public_call("Model.shrinkage_units")
    def shrinkage_units(self, input_shapes: InputShapes) -> List[ShrinkageUnit]:
        """The residual shrinkage units drsn recognised (and fused) for these input
        shapes (drsn_model_shrinkage_units), in graph order: a list of
        ``ShrinkageUnit(thresholds_per_sample, features_per_sample)`` (plain tuples
        too). ``input_shapes`` as in :meth:`output_shapes`. A model whose soft
        thresholding drsn does not recognise has none."""
        handle = self._begin()
        try:
            shapes = self._shapes_arg(input_shapes)
            return list(self._shrinkage_units(handle, shapes, self._plan(handle, shapes)))
        finally:
            self._end()

    @public_call("Model.run_introspect")
    def run_introspect(
        self, inputs: Inputs
    ) -> Tuple[List[Float32Array], List[Float32Array], List[Float32Array]]:
        """Runs the model like :meth:`run` and also reports what every shrinkage unit
        did (drsn_model_run_introspect). Returns ``(outputs, thresholds,
        zero_fractions)``:

        * ``outputs``: as :meth:`run` returns them;
        * ``thresholds``: one float32 array ``[N, T_u]`` per unit (the learned tau per
          sample, T_u = thresholds_per_sample);
        * ``zero_fractions``: one float32 array ``[N]`` per unit, the fraction of the
          unit's features that soft thresholding set to zero (|x| <= tau).

        N is the first dimension of the first input. Allocates per call; meant for
        analysis, not for the latency-critical path."""
        handle = self._begin()
        try:
            lib = self._lib
            fn = lib.require("model_run_introspect")
            arrays = self._prepare(inputs)
            shapes = tuple(a.shape for a in arrays)
            plan = self._plan(handle, shapes)
            units = self._shrinkage_units(handle, shapes, plan)
            batch = shapes[0][0] if shapes and shapes[0] else 1
            outputs = [np.empty(s, dtype=_FLOAT32) for s in plan.output_shapes]
            thresholds = [np.empty((batch, u.thresholds_per_sample), dtype=_FLOAT32) for u in units]
            zero_fractions = [np.empty((batch,), dtype=_FLOAT32) for _ in units]
            k = len(units)
            in_ptrs = (c_void_p * len(arrays))(*[a.ctypes.data for a in arrays])
            out_ptrs = (c_void_p * len(outputs))(*[o.ctypes.data for o in outputs])
            t_ptrs = (c_void_p * max(k, 1))(*[t.ctypes.data for t in thresholds])
            t_caps = (c_size_t * max(k, 1))(*[t.size for t in thresholds])
            z_ptrs = (c_void_p * max(k, 1))(*[z.ctypes.data for z in zero_fractions])
            z_caps = (c_size_t * max(k, 1))(*[z.size for z in zero_fractions])
            status = fn(handle, len(arrays), in_ptrs, plan.dims, plan.ranks,
                        len(outputs), out_ptrs, plan.capacities, k, t_ptrs, t_caps, z_ptrs, z_caps)
            lib.check(status)
            return outputs, thresholds, zero_fractions
        finally:
            self._end()


from ._stream import Stream  # noqa: E402  (Stream uses Model's helpers; Model.stream returns it)
