"""Exception hierarchy of the drsn binding.

Every error raised by the binding derives from :class:`Error`. Errors reported by the
C library map one-to-one from its ``drsn_status`` codes to a subclass; errors the
binding detects itself before calling C (wrong dtype, wrong shape, closed model) use
the subclass the library would have used. Each instance carries:

* ``status`` -- the ``drsn_status`` code (int), or ``None`` for errors that have no
  status (library loading);
* ``message`` -- the text: ``"<call>: <detail>"``, where ``call`` names the Python call
  that failed (``"Model.run"``, ``"Model"`` for the constructor, ``"drsn.window_count"``);
* ``call`` -- that Python call (``None`` for errors that are not about one call: library
  loading);
* ``detail`` -- the message without the call (for library errors: ``drsn_last_error()``
  at the failure, without the name of the C function that reported it);
* ``function`` -- for library errors, the C function that reported it (e.g.
  ``"drsn_model_output_shape_for"``) when the library named one, else ``None``.

Where a builtin exception expresses the same kind of failure, the subclass also derives
from it, so ``except ValueError`` / ``except OSError`` / ``except MemoryError`` keep
working in generic code.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, ClassVar, Dict, Optional, Type, TypeVar, cast

__all__ = [
    "Error",
    "InvalidArgumentError",
    "FileError",
    "InvalidModelError",
    "UnsupportedError",
    "ShapeError",
    "DtypeError",
    "BufferTooSmallError",
    "OutOfMemoryError",
    "LimitExceededError",
    "InternalError",
    "ClosedError",
    "LibraryNotFoundError",
    "IncompatibleLibraryError",
    "STATUS_OK",
    "error_from_status",
]

STATUS_OK = 0


class Error(Exception):
    """Base class of every drsn error. ``status`` is the drsn_status code or None;
    ``message`` (also ``str(error)``) starts with the Python call that failed, ``call``."""

    #: drsn_status value this class stands for (None: not a library status).
    STATUS: ClassVar[Optional[int]] = None
    #: False for errors about the environment rather than one call (library loading).
    _NAMES_CALL: ClassVar[bool] = True

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        self.message: str = message
        self.detail: str = message
        self.call: Optional[str] = None
        self.function: Optional[str] = None
        self.status: Optional[int] = self.STATUS if status is None else status
        # Pass only the message to the builtin base: OSError interprets 2+ args as
        # (errno, strerror), which is not what ``status`` is.
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def _name_call(self, call: str) -> None:
        """Makes the message ``"<call>: <detail>"``. Called by every public entry point
        on the way out, so the outermost public call is the one named (``Model.run_dict``
        calling ``Model.run`` names ``Model.run_dict``)."""
        if not self._NAMES_CALL:
            return
        self.call = call
        self.message = f"{call}: {self.detail}"
        self.args = (self.message,)


_F = TypeVar("_F", bound=Callable[..., Any])


def public_call(call: str) -> Callable[[_F], _F]:
    """Decorator of the binding's public functions and methods: a drsn :class:`Error`
    raised inside gets ``call`` as its ``call`` and message prefix (see
    :meth:`Error._name_call`). Signature and annotations are kept (functools.wraps)."""

    def decorate(fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Error as exc:
                exc._name_call(call)
                raise

        return cast(_F, wrapper)

    return decorate


class InvalidArgumentError(Error, ValueError):
    """DRSN_ERR_INVALID_ARGUMENT: a bad argument (count, index, option value, ...)."""

    STATUS = 1


class FileError(Error, OSError):
    """DRSN_ERR_IO: a model file or external-data file could not be opened or read."""

    STATUS = 2


class InvalidModelError(Error, ValueError):
    """DRSN_ERR_INVALID_MODEL: the bytes are not a well-formed ONNX model."""

    STATUS = 3


class UnsupportedError(Error):
    """DRSN_ERR_UNSUPPORTED: an operator, attribute value, dtype or opset drsn lacks."""

    STATUS = 4


class ShapeError(Error, ValueError):
    """DRSN_ERR_SHAPE_MISMATCH: an input's rank or dimensions do not fit the model."""

    STATUS = 5


class DtypeError(Error, TypeError):
    """DRSN_ERR_DTYPE_MISMATCH: an array has another element type than float32."""

    STATUS = 6


class BufferTooSmallError(Error, ValueError):
    """DRSN_ERR_BUFFER_TOO_SMALL: an output buffer cannot hold its output."""

    STATUS = 7


class OutOfMemoryError(Error, MemoryError):
    """DRSN_ERR_OUT_OF_MEMORY: the library could not allocate memory."""

    STATUS = 8


class LimitExceededError(Error):
    """DRSN_ERR_LIMIT_EXCEEDED: the model exceeds the configured resource limits."""

    STATUS = 9


class InternalError(Error):
    """DRSN_ERR_INTERNAL: a bug in drsn; please report it with the message."""

    STATUS = 100


class ClosedError(InvalidArgumentError):
    """The model was closed; it cannot be used any more (a ValueError)."""


class LibraryNotFoundError(Error, ImportError):
    """libdrsn could not be found or loaded. The message lists every path tried."""

    _NAMES_CALL = False


class IncompatibleLibraryError(Error, ImportError):
    """A libdrsn was loaded but has another ABI version or lacks symbols."""

    _NAMES_CALL = False


_BY_STATUS: Dict[int, Type[Error]] = {
    cls.STATUS: cls
    for cls in (
        InvalidArgumentError,
        FileError,
        InvalidModelError,
        UnsupportedError,
        ShapeError,
        DtypeError,
        BufferTooSmallError,
        OutOfMemoryError,
        LimitExceededError,
        InternalError,
    )
}


def error_from_status(status: int, message: str, status_name: Optional[str] = None) -> Error:
    """Builds the exception for a failed call: the class mapped from ``status``
    (plain :class:`Error` for an unknown code) with ``message`` as its text. An empty
    message is replaced by the status name so that an error never reads as blank."""
    cls = _BY_STATUS.get(status, Error)
    if not message:
        message = f"{status_name or 'drsn error'} (status {status})"
    return cls(message, status)
