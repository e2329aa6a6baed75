"""Exception hierarchy of the drsn binding.

Every error raised by the binding derives from :class:`Error`. Errors reported by the
C library map one-to-one from its ``drsn_status`` codes to a subclass; errors the
binding detects itself before calling C (wrong dtype, wrong shape, closed model) use
the subclass the library would have used. Each instance carries:

* ``status`` -- the ``drsn_status`` code (int), or ``None`` for errors that have no
  status (library loading);
* ``message`` -- the text (for library errors: ``drsn_last_error()`` at the failure).

Where a builtin exception expresses the same kind of failure, the subclass also derives
from it, so ``except ValueError`` / ``except OSError`` / ``except MemoryError`` keep
working in generic code.
"""

from __future__ import annotations

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
    """Base class of every drsn error. ``status`` is the drsn_status code or None."""

    #: drsn_status value this class stands for (None: not a library status).
    STATUS: int | None = None

    def __init__(self, message: str, status: int | None = None):
        self.message = message
        self.status = self.STATUS if status is None else status
        # Pass only the message to the builtin base: OSError interprets 2+ args as
        # (errno, strerror), which is not what ``status`` is.
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


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


class IncompatibleLibraryError(Error, ImportError):
    """A libdrsn was loaded but has another ABI version or lacks symbols."""


_BY_STATUS: dict[int, type[Error]] = {
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


def error_from_status(status: int, message: str, status_name: str | None = None) -> Error:
    """Builds the exception for a failed call: the class mapped from ``status``
    (plain :class:`Error` for an unknown code) with ``message`` as its text. An empty
    message is replaced by the status name so that an error never reads as blank."""
    cls = _BY_STATUS.get(status, Error)
    if not message:
        message = f"{status_name or 'drsn error'} (status {status})"
    return cls(message, status)
