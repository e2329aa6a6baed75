"""drsn -- Python binding of libdrsn, an inference runtime for Deep Residual Shrinkage
Networks (ONNX models, float32).

    import numpy as np, drsn
    with drsn.Model("model.onnx") as model:
        print(model.inputs, model.outputs)
        (logits,) = model.run(np.zeros((1, 1, 2048), np.float32))

The native library is located and loaded on first use (see :mod:`drsn._library` for the
lookup order; set ``DRSN_LIBRARY`` to choose a file). Errors derive from
:class:`drsn.Error` and carry the library's ``status`` code and message.
"""

import typing as _typing

from ._errors import (
    BufferTooSmallError,
    ClosedError,
    DtypeError,
    Error,
    FileError,
    IncompatibleLibraryError,
    InternalError,
    InvalidArgumentError,
    InvalidModelError,
    LibraryNotFoundError,
    LimitExceededError,
    OutOfMemoryError,
    ShapeError,
    UnsupportedError,
)
from . import _errors
from ._library import ABI_VERSION, load as _load
from ._model import LIMITS, NORMALIZATIONS, Model, ShrinkageUnit, TensorInfo, default_limits, window_count
from ._quantization import QuantizationReport, quantize
from ._stream import Stream, StreamIntrospection, StreamResult

__version__ = "0.2.0"

# The exception classes, in _errors' order (its __all__ is the one list of them).
_ERROR_NAMES = [_n for _n in _errors.__all__ if _n.endswith("Error")]

def _publish(cls: type) -> None:
    """Shows ``cls`` as drsn.X, its public name, in tracebacks and reprs. typing's
    get_type_hints evaluates a class's annotations in the module ``__module__`` names,
    so they are resolved first, in the module that defines the class."""
    own = cls.__dict__.get("__annotations__")
    if own:
        hints = _typing.get_type_hints(cls)
        cls.__annotations__ = {name: hints[name] for name in own}
    cls.__module__ = __name__


for _cls in (Model, TensorInfo, ShrinkageUnit, Stream, StreamResult, StreamIntrospection, *(getattr(_errors, _n) for _n in _ERROR_NAMES)):
    _publish(_cls)
del _cls, _publish

__all__ = [
    "__version__",
    "ABI_VERSION",
    "LIMITS",
    "default_limits",
    "library_version",
    "library_path",
    "isa",
    "Model",
    "TensorInfo",
    "ShrinkageUnit",
    "Stream",
    "StreamResult",
    "StreamIntrospection",
    "NORMALIZATIONS",
    "window_count",
    "quantize",
    "QuantizationReport",
    *_ERROR_NAMES,
]


def library_version() -> str:
    """Version string of the loaded libdrsn (drsn_version_string), e.g. "0.2.0".
    Loads the library if needed (LibraryNotFoundError if it cannot be found)."""
    return _load().version()


def isa() -> str:
    """Instruction set libdrsn's kernels use in this process (drsn_isa): "avx512", "avx2"
    or "baseline" (DRSN_FORCE_ISA lowers it). IncompatibleLibraryError for a library that
    predates the function."""
    return str(_load().require("isa")().decode("ascii"))


def library_path() -> str:
    """Path (or bare name given to the system loader) of the loaded libdrsn."""
    return _load().path
