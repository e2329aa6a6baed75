"""Finding, loading and declaring libdrsn (the C ABI in include/drsn.h).

Lookup order (first hit wins; see :func:`candidates`):

1. ``$DRSN_LIBRARY`` -- a file path. When set (non-empty) it is the *only* place tried:
   an explicit choice is never silently replaced by another copy of the library.
2. the package folder (``drsn/libdrsn.so``, put there by ``pip install`` when the
   library was built before installing);
3. ``<repo>/.build/release`` then ``<repo>/.build/debug`` when the package is imported
   from the source tree (``<repo>/bindings/python/drsn``);
4. ``./.build/release`` under the current directory;
5. the system loader (``libdrsn.so`` via LD_LIBRARY_PATH, rpath, ldconfig).

Loading happens once, lazily, on first use (``drsn.library_version()``, ``drsn.Model``),
so ``import drsn`` works without the library. Failure raises
:class:`~drsn.LibraryNotFoundError` listing every path tried and how to fix it. After a
library is loaded its ABI version must equal :data:`ABI_VERSION`, and every function of
the header must be present, else :class:`~drsn.IncompatibleLibraryError`.

The library is opened with ``ctypes.CDLL``, which releases the GIL during every call.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from ctypes import POINTER, c_char_p, c_float, c_int, c_int32, c_int64, c_size_t, c_uint32, c_void_p
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

from ._errors import (
    Error,
    IncompatibleLibraryError,
    LibraryNotFoundError,
    error_from_status,
)

__all__ = ["ABI_VERSION", "LIBRARY_NAME", "Library", "candidates", "load"]

#: The DRSN_ABI_VERSION this binding was written against.
ABI_VERSION = 1

if sys.platform == "darwin":
    LIBRARY_NAME = "libdrsn.dylib"
elif sys.platform == "win32":
    LIBRARY_NAME = "drsn.dll"
else:
    LIBRARY_NAME = "libdrsn.so"

BUILD_COMMAND = "swift build -c release --product drsn"

_status = c_int  # C enums are int-sized on every supported ABI
_p_void = POINTER(c_void_p)
_p_size = POINTER(c_size_t)
_p_int64 = POINTER(c_int64)

#: name -> (restype, argtypes), one entry per function of include/drsn.h.
PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    "drsn_version_number": (c_uint32, []),
    "drsn_version_string": (c_char_p, []),
    "drsn_abi_version": (c_uint32, []),
    "drsn_isa": (c_char_p, []),
    "drsn_status_string": (c_char_p, [_status]),
    "drsn_last_error": (c_char_p, []),
    "drsn_options_create": (_status, [_p_void]),
    "drsn_options_destroy": (None, [c_void_p]),
    "drsn_options_set_num_threads": (_status, [c_void_p, c_int32]),
    "drsn_options_get_num_threads": (_status, [c_void_p, POINTER(c_int32)]),
    "drsn_options_set_limit": (_status, [c_void_p, c_int, c_int64]),
    "drsn_options_get_limit": (_status, [c_void_p, c_int, POINTER(c_int64)]),
    "drsn_model_load_file": (_status, [c_char_p, c_void_p, _p_void]),
    "drsn_model_load_memory": (_status, [c_void_p, c_size_t, c_void_p, _p_void]),
    "drsn_model_destroy": (None, [c_void_p]),
    "drsn_model_input_count": (c_size_t, [c_void_p]),
    "drsn_model_output_count": (c_size_t, [c_void_p]),
    "drsn_model_input_name": (c_char_p, [c_void_p, c_size_t]),
    "drsn_model_output_name": (c_char_p, [c_void_p, c_size_t]),
    "drsn_model_input_dtype": (_status, [c_void_p, c_size_t, POINTER(c_int)]),
    "drsn_model_output_dtype": (_status, [c_void_p, c_size_t, POINTER(c_int)]),
    "drsn_model_input_shape": (_status, [c_void_p, c_size_t, _p_int64, c_size_t, _p_size]),
    "drsn_model_output_shape": (_status, [c_void_p, c_size_t, _p_int64, c_size_t, _p_size]),
    # (model, num_inputs, const int64_t* const* input_dims, const size_t* input_ranks,
    #  output_index, int64_t* dims, capacity, size_t* out_rank)
    "drsn_model_output_shape_for": (
        _status,
        [c_void_p, c_size_t, _p_void, _p_size, c_size_t, _p_int64, c_size_t, _p_size],
    ),
    # (model, num_inputs, const float* const* inputs, const int64_t* const* input_dims,
    #  const size_t* input_ranks, num_outputs, float* const* outputs, const size_t* caps)
    "drsn_model_run": (
        _status,
        [c_void_p, c_size_t, _p_void, _p_void, _p_size, c_size_t, _p_void, _p_size],
    ),
    "drsn_model_summary_json": (c_char_p, [c_void_p]),
    # (length, window, hop, size_t* out_count)
    "drsn_window_count": (_status, [c_size_t, c_size_t, c_size_t, _p_size]),
    # (model, const float* signal, channels, length, window, hop, drsn_normalization,
    #  float epsilon, batch_size, num_outputs, float* const* outputs, const size_t* caps,
    #  size_t* out_window_count)
    "drsn_model_run_windows": (
        _status,
        [c_void_p, c_void_p, c_size_t, c_size_t, c_size_t, c_size_t, c_int, c_float, c_size_t,
         c_size_t, _p_void, _p_size, _p_size],
    ),
    # (model, num_inputs, input_dims, input_ranks, size_t* out_count,
    #  size_t* thresholds_per_sample, size_t* features_per_sample, capacity)
    "drsn_model_shrinkage_units": (
        _status,
        [c_void_p, c_size_t, _p_void, _p_size, _p_size, _p_size, _p_size, c_size_t],
    ),
    # (model, num_inputs, inputs, input_dims, input_ranks, num_outputs, outputs,
    #  output_capacities, num_units, float* const* thresholds, const size_t* threshold_caps,
    #  float* const* zero_fractions, const size_t* zero_fraction_caps)
    "drsn_model_run_introspect": (
        _status,
        [c_void_p, c_size_t, _p_void, _p_void, _p_size, c_size_t, _p_void, _p_size,
         c_size_t, _p_void, _p_size, _p_void, _p_size],
    ),
    # (model, channels, window, hop, drsn_normalization, float epsilon, batch_size,
    #  max_waiting, uint32_t flags, drsn_stream** out_stream)
    "drsn_stream_create": (
        _status,
        [c_void_p, c_size_t, c_size_t, c_size_t, c_int, c_float, c_size_t, c_size_t, c_uint32,
         _p_void],
    ),
    "drsn_stream_destroy": (None, [c_void_p]),
    "drsn_stream_reset": (_status, [c_void_p]),
    # (stream, output_index, size_t* out_elements)
    "drsn_stream_output_elements": (_status, [c_void_p, c_size_t, _p_size]),
    # (stream, frames, size_t* out_windows)
    "drsn_stream_windows_ready": (_status, [c_void_p, c_size_t, _p_size]),
    # (stream, const float* samples, channels, frames, drsn_layout, capacity, num_outputs,
    #  float* const* outputs, int64_t* starts, num_units, float* const* thresholds,
    #  float* const* zero_fractions, size_t* out_windows, size_t* out_pending)
    "drsn_stream_push": (
        _status,
        [c_void_p, c_void_p, c_size_t, c_size_t, c_int, c_size_t, c_size_t, _p_void, c_void_p,
         c_size_t, _p_void, _p_void, _p_size, _p_size],
    ),
    # (stream, capacity, num_outputs, outputs, starts, num_units, thresholds,
    #  zero_fractions, size_t* out_windows, size_t* out_pending)
    "drsn_stream_flush": (
        _status,
        [c_void_p, c_size_t, c_size_t, _p_void, c_void_p, c_size_t, _p_void, _p_void, _p_size,
         _p_size],
    ),
}


#: Functions a library of this ABI version may lack (added to the header while ABI 1 was
#: current). A missing one is set to None and fails only when used (see Library.require).
OPTIONAL = frozenset({
    "drsn_options_set_limit", "drsn_options_get_limit",
    "drsn_isa",
    # model summary, sliding windows and threshold introspection
    "drsn_model_summary_json", "drsn_window_count", "drsn_model_run_windows",
    "drsn_model_shrinkage_units", "drsn_model_run_introspect",
    # streaming
    "drsn_stream_create", "drsn_stream_destroy", "drsn_stream_reset",
    "drsn_stream_output_elements", "drsn_stream_windows_ready", "drsn_stream_push",
    "drsn_stream_flush",
})


#: The Python call that corresponds to a C function, for library messages that mention
#: one (e.g. "... use drsn_model_output_shape_for"): a Python caller reads the name it
#: can call. Functions without a Python counterpart keep their C name.
PYTHON_NAMES: Dict[str, str] = {
    "drsn_model_load_file": "Model",
    "drsn_model_load_memory": "Model",
    "drsn_options_set_num_threads": "Model",
    "drsn_options_set_limit": "Model",
    "drsn_model_output_shape_for": "Model.output_shapes",
    "drsn_model_run": "Model.run",
    "drsn_model_summary_json": "Model.summary",
    "drsn_window_count": "drsn.window_count",
    "drsn_model_run_windows": "Model.run_windows",
    "drsn_model_shrinkage_units": "Model.shrinkage_units",
    "drsn_model_run_introspect": "Model.run_introspect",
    "drsn_options_get_limit": "drsn.default_limits",
    "drsn_stream_create": "Model.stream",
    "drsn_stream_reset": "Stream.reset",
    "drsn_stream_push": "Stream.push",
    "drsn_stream_flush": "Stream.flush",
}

_C_FUNCTION_PREFIX = re.compile(r"(drsn_[a-z0-9_]+): ")
_C_FUNCTION_NAME = re.compile(r"\bdrsn_[a-z0-9_]+\b")


def python_message(raw: str) -> Tuple[str, Optional[str]]:
    """(detail, C function) of a drsn_last_error() message: the leading ``drsn_xxx: ``
    the C API puts before its own argument errors is removed (the binding's public calls
    put the Python call there instead, see drsn._errors.public_call), and C function
    names in the rest are replaced by the Python call that does the same."""
    function = None
    match = _C_FUNCTION_PREFIX.match(raw)
    if match:
        function = match.group(1)
        raw = raw[match.end():]
    detail = _C_FUNCTION_NAME.sub(lambda m: PYTHON_NAMES.get(m.group(0), m.group(0)), raw)
    return detail, function


class Library:
    """A loaded libdrsn with every prototype declared. ``path`` is where it came from.
    Each C function ``drsn_xxx`` is the attribute ``xxx`` (None for a missing optional
    one)."""

    if TYPE_CHECKING:
        # The functions are set per name from PROTOTYPES in __init__.
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self.cdll = cdll
        self.path = path
        for name, (restype, argtypes) in PROTOTYPES.items():
            try:
                fn = getattr(cdll, name)
            except AttributeError:
                if name in OPTIONAL:
                    setattr(self, name[len("drsn_"):], None)
                    continue
                raise IncompatibleLibraryError(
                    f"{path} does not export {name}(); it is not a libdrsn matching this "
                    f"binding. Rebuild it with `{BUILD_COMMAND}`."
                ) from None
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name[len("drsn_"):], fn)

    def require(self, name: str) -> Callable[..., Any]:
        """The function `name` (without the drsn_ prefix); IncompatibleLibraryError if
        this library predates it."""
        fn: Optional[Callable[..., Any]] = getattr(self, name)
        if fn is None:
            raise IncompatibleLibraryError(
                f"{self.path} does not export drsn_{name}(); it is older than the header "
                f"this binding follows. Rebuild it with `{BUILD_COMMAND}`.")
        return fn

    def version(self) -> str:
        return str(self.version_string().decode("utf-8"))

    def error(self, status: int) -> Error:
        """The exception for a failed call, built from drsn_last_error() of this thread.
        Must be called right after the failing call (before any other drsn_* call).
        The message is the library's without the C function name (kept in the error's
        ``function``); the public call that failed adds its own name in front."""
        raw = self.last_error()
        detail, function = python_message(raw.decode("utf-8", "replace") if raw else "")
        name = self.status_string(status)
        error = error_from_status(status, detail, name.decode() if name else None)
        error.function = function
        return error

    def check(self, status: int) -> None:
        """Raises the mapped exception if ``status`` is not DRSN_OK."""
        if status != 0:
            raise self.error(status)


def _source_tree_root(package_dir: Path) -> Optional[Path]:
    """<repo> when the package lives at <repo>/bindings/python/drsn, else None."""
    root = package_dir.parent.parent.parent
    if package_dir.parent.name == "python" and package_dir.parent.parent.name == "bindings" \
            and (root / "include" / "drsn.h").is_file():
        return root
    return None


def candidates() -> list[tuple[str, str]]:
    """(where, path) pairs in lookup order. A path without a folder part is handed to
    the system loader. When $DRSN_LIBRARY is set it is the only candidate."""
    env = os.environ.get("DRSN_LIBRARY")
    if env:
        return [("$DRSN_LIBRARY", env)]
    package_dir = Path(__file__).resolve().parent
    found = [("package folder", str(package_dir / LIBRARY_NAME))]
    root = _source_tree_root(package_dir)
    if root is not None:
        found.append(("source tree, release build", str(root / ".build" / "release" / LIBRARY_NAME)))
        found.append(("source tree, debug build", str(root / ".build" / "debug" / LIBRARY_NAME)))
    found.append(("current directory", str(Path.cwd() / ".build" / "release" / LIBRARY_NAME)))
    found.append(("system loader", LIBRARY_NAME))
    unique, seen = [], set()
    for where, path in found:
        key = os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            unique.append((where, path))
    return unique


def _open(path: str) -> Library:
    """Opens one candidate and checks its ABI. OSError: could not be opened."""
    cdll = ctypes.CDLL(path)
    try:
        abi = cdll.drsn_abi_version
    except AttributeError:
        raise IncompatibleLibraryError(
            f"{path} has no drsn_abi_version(); it is not libdrsn."
        ) from None
    abi.restype = c_uint32
    abi.argtypes = []
    found = abi()
    if found != ABI_VERSION:
        raise IncompatibleLibraryError(
            f"{path} has ABI version {found}, but this binding needs ABI version "
            f"{ABI_VERSION}. Install a binding matching the library, or rebuild the "
            f"library from the same source tree (`{BUILD_COMMAND}`)."
        )
    return Library(cdll, path)


def _not_found_message(tried: list[tuple[str, str, str]]) -> str:
    lines = [f"drsn: could not load the native library {LIBRARY_NAME}. Tried, in order:"]
    for where, path, why in tried:
        lines.append(f"  - {where}: {path} ({why})")
    if len(tried) == 1 and tried[0][0] == "$DRSN_LIBRARY":
        lines.append("  (no other place is searched while DRSN_LIBRARY is set)")
    lines.append("To fix it, do one of:")
    lines.append(f"  - build the library in the drsn repository: `{BUILD_COMMAND}` "
                 f"(writes .build/release/{LIBRARY_NAME});")
    lines.append(f"  - set DRSN_LIBRARY to the full path of {LIBRARY_NAME};")
    lines.append("  - reinstall the binding after building (`pip install ./bindings/python` "
                 "bundles the library into the package).")
    return "\n".join(lines)


_lock = threading.Lock()
_loaded: Optional[Library] = None


def load() -> Library:
    """The process-wide Library, loading it on the first call (thread-safe).
    Raises LibraryNotFoundError or IncompatibleLibraryError; a failure is not cached,
    so a later call retries (e.g. after the library has been built)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        tried: list[tuple[str, str, str]] = []
        for where, path in candidates():
            is_bare_name = os.path.dirname(path) == ""
            if not is_bare_name and not os.path.isfile(path):
                tried.append((where, path, "no such file"))
                continue
            try:
                _loaded = _open(path)
                return _loaded
            except OSError as exc:
                why = "not found" if is_bare_name else "exists but could not be loaded"
                tried.append((where, path, f"{why}: {exc}"))
        raise LibraryNotFoundError(_not_found_message(tried))
