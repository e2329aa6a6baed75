"""drsn.Stream: sliding-window inference on a live signal (drsn_stream_* of include/drsn.h).

A stream gives what :meth:`drsn.Model.run_windows` gives on the whole signal pushed so far,
bit for bit, whatever the chunk sizes: ``push(chunk)`` returns the windows the chunk
completed, with the sample index at which each one starts.

    with model.stream(window=2048, hop=512) as stream:
        for chunk in acquisition():                 # float32 [frames] or [channels, frames]
            starts, (logits,) = stream.push(chunk)  # starts: int64 [windows]; logits [windows, 10]
"""

from __future__ import annotations

import threading
from ctypes import byref, c_size_t, c_void_p
from types import TracebackType
from typing import Any, Iterable, Iterator, List, NamedTuple, Optional, Tuple, Type, Union

import numpy as np
import numpy.typing as npt

from ._errors import (
    BufferTooSmallError,
    ClosedError,
    InternalError,
    InvalidArgumentError,
    ShapeError,
    public_call,
)
# _model imports this module at its end, when everything below exists.
from ._model import (
    WINDOW_BATCH_DEFAULT,
    ZSCORE_EPSILON_DEFAULT,
    Model,
    _count_arg,
    signal_array,
    window_options,
)

__all__ = ["Stream", "StreamResult", "StreamIntrospection"]

Float32Array = npt.NDArray[np.float32]
Int64Array = npt.NDArray[np.int64]

_LAYOUT_PLANAR = 0  # DRSN_LAYOUT_PLANAR
_INTROSPECT = 1     # DRSN_STREAM_INTROSPECT


class StreamResult(NamedTuple):
    """The windows one push (or flush) returned: ``starts``, the sample index at which each
    window starts (int64 ``[windows]``), and ``outputs``, one float32 array per model output
    shaped ``[windows, ...]`` as :meth:`drsn.Model.run_windows` returns them."""

    starts: Int64Array
    outputs: List[Float32Array]


class StreamIntrospection(NamedTuple):
    """A push's windows with introspection (``Model.stream(..., introspect=True)``):
    ``starts`` and ``outputs`` as in :class:`StreamResult`, and per shrinkage unit the
    learned thresholds (float32 ``[windows, T_u]``) and the zeroed fraction (``[windows]``),
    as :meth:`drsn.Model.run_introspect` reports them."""

    starts: Int64Array
    outputs: List[Float32Array]
    thresholds: List[Float32Array]
    zero_fractions: List[Float32Array]


PushResult = Union[StreamResult, StreamIntrospection]


class Stream:
    """Sliding-window inference on a signal that arrives in chunks (drsn_stream_create).
    Made by :meth:`drsn.Model.stream` (or ``Stream(model, window, hop, ...)`` with the same
    keywords).

    * :meth:`push` takes a chunk laid out as run_windows' signal (1-D for one channel, or
      ``[channels, frames]``; float32; any number of frames, 0 included) and returns the
      windows it completed: ``(starts, outputs)``.
    * :meth:`flush` returns windows held back by ``max_waiting``; the frames of an
      incomplete window stay (the stream goes on). :meth:`reset` starts over at sample 0.
    * :meth:`process` runs the stream over an iterable of chunks.
    * One thread at a time per stream (a second thread gets InvalidArgumentError); any number
      of streams may share one model across threads. The stream keeps the model's library
      object alive: closing the model does not end its streams.
    """

    _handle: Optional[int] = None

    @public_call("Stream")
    def __init__(self, model: Model, window: int, hop: int, channels: int = 1,
                 normalize: Optional[str] = "zscore", epsilon: float = ZSCORE_EPSILON_DEFAULT,
                 batch_size: int = WINDOW_BATCH_DEFAULT, max_waiting: int = 0,
                 introspect: bool = False) -> None:
        window, hop, code, epsilon, batch_size = window_options(window, hop, normalize, epsilon,
                                                                batch_size)
        channels = _count_arg(channels, "channels", 1)
        max_waiting = _count_arg(max_waiting, "max_waiting", 0)
        if not isinstance(introspect, bool):
            raise InvalidArgumentError(f"introspect must be True or False, got {introspect!r}")
        self._model = model
        self._lib = model._lib
        self._busy = threading.Lock()
        self.window, self.hop, self.channels = window, hop, channels
        self.max_waiting, self.introspect = max_waiting, introspect
        handle = model._begin()
        try:
            shapes = (model._window_input_shape(channels, window),)
            plan = model._plan(handle, shapes)
            self._per_window = [tuple(s[1:]) for s in plan.output_shapes]
            self._units = model._shrinkage_units(handle, shapes, plan) if introspect else []
            out = c_void_p()
            self._lib.check(self._lib.require("stream_create")(
                handle, channels, window, hop, code, epsilon, batch_size, max_waiting,
                _INTROSPECT if introspect else 0, byref(out)))
            self._handle = out.value
        finally:
            model._end()

    # ---- lifetime --------------------------------------------------------------------

    @public_call("Stream.close")
    def close(self) -> None:
        """Frees the stream (windows still pending are dropped). Idempotent."""
        with self._busy:
            handle, self._handle = self._handle, None
        if handle is not None:
            self._lib.stream_destroy(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    @public_call("Stream.__enter__")
    def __enter__(self) -> Stream:
        self._require_open()
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 traceback: Optional[TracebackType]) -> None:
        self.close()

    def __del__(self) -> None:
        handle = self._handle
        if handle is not None:
            self._handle = None
            try:
                self._lib.stream_destroy(handle)
            except Exception:
                pass

    def __repr__(self) -> str:
        state = "closed" if self._handle is None else f"{self.channels} channel(s)"
        return (f"<drsn.Stream window={self.window} hop={self.hop} over {self._model.source!r}, "
                f"{state}>")

    def _require_open(self) -> int:
        handle = self._handle
        if handle is None:
            raise ClosedError("the stream is closed")
        return handle

    def _enter(self) -> int:
        if not self._busy.acquire(blocking=False):
            raise InvalidArgumentError(
                "the stream is in use by another thread (a stream is used by one thread at a "
                "time; give each thread its own stream)")
        try:
            return self._require_open()
        except BaseException:
            self._busy.release()
            raise

    # ---- pushing ---------------------------------------------------------------------

    def _chunk(self, chunk: npt.ArrayLike) -> Tuple[Float32Array, int]:
        array = signal_array(chunk, "chunk")
        channels, frames = (1, array.shape[0]) if array.ndim == 1 else array.shape
        if channels != self.channels:
            raise ShapeError(
                f"chunk: the stream has {self.channels} channel(s), the chunk "
                f"{tuple(array.shape)} has {channels} (a chunk is [frames] for one channel or "
                f"[channels, frames])")
        return array, int(frames)

    def _call(self, handle: int, frames: int, run: Any) -> PushResult:
        """Sizes the buffers for every window that may come back, calls `run(capacity,
        buffers...)` and returns the windows written."""
        lib = self._lib
        ready = c_size_t(0)
        lib.check(lib.require("stream_windows_ready")(handle, frames, byref(ready)))
        n = ready.value
        outputs = [np.empty((n,) + s, dtype=np.float32) for s in self._per_window]
        starts = np.empty(n, dtype=np.int64)
        thresholds = [np.empty((n, u.thresholds_per_sample), dtype=np.float32) for u in self._units]
        zero_fractions = [np.empty(n, dtype=np.float32) for _ in self._units]
        k = len(self._units)
        out_ptrs = (c_void_p * max(len(outputs), 1))(*[o.ctypes.data for o in outputs])
        t_ptrs = (c_void_p * max(k, 1))(*[t.ctypes.data for t in thresholds])
        z_ptrs = (c_void_p * max(k, 1))(*[z.ctypes.data for z in zero_fractions])
        got, pending = c_size_t(0), c_size_t(0)
        status = run(n, len(outputs), out_ptrs, starts.ctypes.data, k, t_ptrs, z_ptrs,
                     byref(got), byref(pending))
        if status == BufferTooSmallError.STATUS:
            raise InternalError(f"the library needed room for more than the {n} windows "
                                f"drsn_stream_windows_ready reported")
        lib.check(status)
        m = got.value
        if m > n:
            raise InternalError(f"the library wrote {m} windows into room for {n}")
        if self.introspect:
            return StreamIntrospection(starts[:m], [o[:m] for o in outputs],
                                       [t[:m] for t in thresholds], [z[:m] for z in zero_fractions])
        return StreamResult(starts[:m], [o[:m] for o in outputs])

    @public_call("Stream.push")
    def push(self, chunk: npt.ArrayLike) -> PushResult:
        """Appends ``chunk`` (float32, ``[frames]`` for one channel or ``[channels, frames]``;
        0 frames allowed) and returns the windows it completed (drsn_stream_push):
        ``(starts, outputs)``, with ``starts`` the int64 start sample of each window
        (counted from the stream's first sample) and ``outputs`` one array per model output
        shaped ``[windows, ...]``; with ``introspect=True`` a :class:`StreamIntrospection`.
        Raises DtypeError / ShapeError for a chunk of another type or channel count,
        leaving the stream as it was. NaN samples are computed (NaN outputs for the windows
        that hold them)."""
        array, frames = self._chunk(chunk)
        handle = self._enter()
        try:
            push = self._lib.require("stream_push")
            data = array.ctypes.data if frames else None
            return self._call(handle, frames,
                              lambda *rest: push(handle, data, self.channels, frames, _LAYOUT_PLANAR, *rest))
        finally:
            self._busy.release()

    @public_call("Stream.flush")
    def flush(self) -> PushResult:
        """Returns every complete window still held (by ``max_waiting``); the frames of an
        incomplete window stay for later pushes (drsn_stream_flush)."""
        handle = self._enter()
        try:
            flush = self._lib.require("stream_flush")
            return self._call(handle, 0, lambda *rest: flush(handle, *rest))
        finally:
            self._busy.release()

    @public_call("Stream.reset")
    def reset(self) -> None:
        """Forgets every frame and window: the next sample pushed is sample 0 again."""
        handle = self._enter()
        try:
            self._lib.check(self._lib.require("stream_reset")(handle))
        finally:
            self._busy.release()

    @public_call("Stream.process")
    def process(self, chunks: Iterable[npt.ArrayLike], flush: bool = True) -> Iterator[PushResult]:
        """Pushes every chunk of ``chunks`` (any iterable: a list, a generator reading a
        device, ...) and yields the result of each push that returned windows; then, with
        ``flush``, what :meth:`flush` returns. The results of all pushes together equal
        :meth:`drsn.Model.run_windows` on the chunks joined."""
        for chunk in chunks:
            result = self.push(chunk)
            if len(result.starts):
                yield result
        if flush:
            result = self.flush()
            if len(result.starts):
                yield result
