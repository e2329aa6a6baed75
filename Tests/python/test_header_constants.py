"""include/drsn.h is the one source of the constants the header, Swift and Python share.

Swift reads them from the header itself (Sources/CDRSNSupport/include/drsn_abi.h; the
raw values of its mirror enums are checked by Tests/DRSNCoreTests/HeaderConstantsTests).
The Python binding keeps its own tables, because an installed wheel has no header: this
module parses the header and checks every one of them against it, and against what the
built library reports:

* versions: DRSN_VERSION_* and DRSN_ABI_VERSION vs ``drsn.__version__``, pyproject.toml,
  ``drsn.ABI_VERSION`` and drsn_version_number / _string / drsn_abi_version;
* drsn_status: every enumerator vs drsn_status_string and the binding's exception classes;
* drsn_dtype: every enumerator vs the binding's numpy table and the codes the library
  reports for float32, bool and int64 outputs;
* drsn_limit: every enumerator vs ``drsn.LIMITS``, and the "Default ..." of its comment vs
  the library's defaults (``drsn.default_limits()``);
* drsn_normalization vs ``drsn.NORMALIZATIONS``;
* DRSN_MAX_DIMENSION vs the bound the library enforces;
* DRSN_WINDOW_BATCH_DEFAULT vs ``Model.run_windows``' and the CLI's default batch size;
* DRSN_ZSCORE_EPSILON_DEFAULT vs the default epsilon of ``Model.run_windows`` and the CLI;
* DRSN_MAX_THREADS vs the num_threads range the library accepts.
"""

import inspect
import re
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
from onnx import TensorProto

import drsn
from drsn import _errors, _model, cli
from oracle import make_model, node

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = (REPO_ROOT / "include" / "drsn.h").read_text()
PYPROJECT = (REPO_ROOT / "bindings" / "python" / "pyproject.toml").read_text()


def define(name: str) -> str:
    """The value of ``#define name value`` (quotes stripped)."""
    match = re.search(rf"^#define {name} (.+?)\s*$", HEADER, re.M)
    assert match, f"drsn.h defines no {name}"
    return match.group(1).strip('"')


def enum(name: str) -> List[Tuple[str, int, str]]:
    """(enumerator, value, its doc comment) of ``typedef enum name { ... } name;``."""
    match = re.search(rf"typedef enum {name} \{{(.*?)\}} {name};", HEADER, re.S)
    assert match, f"drsn.h has no enum {name}"
    found = []
    for doc, constant, value in re.findall(r"((?:/\*\*.*?\*/\s*)?)(DRSN_\w+) = (\d+)", match.group(1), re.S):
        found.append((constant, int(value), " ".join(doc.split())))
    assert found, name
    return found


def test_header_version_macros_agree():
    major, minor, patch = (int(define(f"DRSN_VERSION_{p}")) for p in ("MAJOR", "MINOR", "PATCH"))
    assert define("DRSN_VERSION_STRING") == f"{major}.{minor}.{patch}"
    assert define("DRSN_VERSION_NUMBER") == (
        "(DRSN_VERSION_MAJOR * 10000 + DRSN_VERSION_MINOR * 100 + DRSN_VERSION_PATCH)")


def test_package_version():
    assert drsn.__version__ == define("DRSN_VERSION_STRING")
    assert re.search(r'^version = "([^"]+)"$', PYPROJECT, re.M).group(1) == drsn.__version__


def test_library_version_matches_header(needs_library):
    assert drsn.library_version() == define("DRSN_VERSION_STRING")
    lib = drsn._library.load()
    major, minor, patch = (int(define(f"DRSN_VERSION_{p}")) for p in ("MAJOR", "MINOR", "PATCH"))
    assert lib.version_number() == major * 10000 + minor * 100 + patch


def test_abi_version(needs_library):
    assert drsn.ABI_VERSION == int(define("DRSN_ABI_VERSION"))
    assert drsn._library.load().abi_version() == drsn.ABI_VERSION


def test_status_codes_match_the_binding():
    statuses = enum("drsn_status")
    assert statuses[0][:2] == ("DRSN_OK", 0) and _errors.STATUS_OK == 0
    # One exception class per error status, whose docstring starts with the status's name.
    classes = {cls.__dict__["STATUS"]: cls for cls in (getattr(_errors, n) for n in _errors.__all__)
               if isinstance(cls, type) and cls.__dict__.get("STATUS") is not None}
    assert set(classes) == {value for _, value, _ in statuses[1:]}
    for name, value, _ in statuses[1:]:
        assert classes[value].__doc__.startswith(f"{name}:"), (name, classes[value])
        assert type(_errors.error_from_status(value, "m")) is classes[value]


def test_status_strings(needs_library):
    lib = drsn._library.load()
    for name, value, _ in enum("drsn_status"):
        assert lib.status_string(value) == name.encode(), name
    assert lib.status_string(12345) == b"DRSN_ERR_UNKNOWN"


def test_dtype_codes_match_the_binding():
    dtypes = {name[len("DRSN_DTYPE_"):].lower(): value for name, value, _ in enum("drsn_dtype")}
    assert dtypes.pop("undefined") == 0
    assert {code: np.dtype(name) for name, code in dtypes.items()} == _model._NUMPY_DTYPES


def test_dtype_codes_reported_by_the_library(needs_library):
    model = make_model([node("Relu", ["x"], ["y"]), node("Greater", ["x", "zero"], ["mask"]),
                        node("Shape", ["x"], ["shape"])],
                       [("x", ["N", 4])], ["y", ("mask", TensorProto.BOOL), ("shape", TensorProto.INT64)],
                       {"zero": np.float32(0)})
    with drsn.Model(model.SerializeToString()) as m:
        assert [o.dtype for o in m.outputs] == [np.dtype(np.float32), np.dtype(np.bool_), np.dtype(np.int64)]
        assert m.inputs[0].dtype == np.dtype(np.float32)


def test_limit_codes_match_the_binding():
    assert {name[len("DRSN_LIMIT_"):].lower(): value for name, value, _ in enum("drsn_limit")} == drsn.LIMITS


def header_limit_defaults() -> Dict[str, int]:
    """{limit name: value} from the "Default X." of each drsn_limit comment: X is a number,
    2^N, or a number of KiB / MiB / GiB."""
    units = {"": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    defaults = {}
    for name, _, doc in enum("drsn_limit"):
        match = re.search(r"Default (\d+)(?:\^(\d+))?(?: (KiB|MiB|GiB))?\.", doc)
        assert match, f"{name}: no 'Default ...' in its comment: {doc}"
        base, power, unit = match.groups()
        value = int(base) ** int(power) if power else int(base)
        defaults[name[len("DRSN_LIMIT_"):].lower()] = value * units[unit or ""]
    return defaults


def test_limit_defaults(needs_library):
    assert header_limit_defaults() == drsn.default_limits()


def test_normalization_codes_match_the_binding():
    codes = {name[len("DRSN_NORMALIZE_"):].lower(): value for name, value, _ in enum("drsn_normalization")}
    assert codes == {k: v for k, v in drsn.NORMALIZATIONS.items() if k is not None}
    assert drsn.NORMALIZATIONS[None] == codes["none"]


def max_dimension() -> int:
    assert re.fullmatch(r"\d+", define("DRSN_MAX_DIMENSION")), define("DRSN_MAX_DIMENSION")
    return int(define("DRSN_MAX_DIMENSION"))


def test_max_dimension_is_the_documented_bound():
    # The comments of the header give the number as 2^N.
    power = max_dimension().bit_length() - 1
    assert max_dimension() == 1 << power
    assert f"DRSN_MAX_DIMENSION ({'2^' + str(power)})" in HEADER
    assert HEADER.count(f"DRSN_MAX_DIMENSION, 2^{power}") == 2


def test_max_dimension_is_the_librarys_bound(needs_library):
    bound = max_dimension()
    model = make_model([node("Relu", ["x"], ["y"])], [("x", ["N", 4])], ["y"], {})
    with drsn.Model(model.SerializeToString()) as m:
        for too_large in (bound + 1, 1 << 40):
            with pytest.raises(drsn.ShapeError, match="between 1 and 2"):
                m.output_shapes([[too_large, 4]])
        # At the bound the dimension itself is accepted (the plan may still exceed a limit).
        try:
            assert m.output_shapes([[bound, 4]]) == [(bound, 4)]
        except drsn.LimitExceededError:
            pass


def test_window_batch_default():
    default = int(define("DRSN_WINDOW_BATCH_DEFAULT"))
    assert _model.WINDOW_BATCH_DEFAULT == default
    assert inspect.signature(drsn.Model.run_windows).parameters["batch_size"].default == default
    args = cli.build_parser().parse_args(["classify", "model.onnx", "signal.npy", "--window", "8"])
    assert args.batch_size == default


def test_zscore_epsilon_default():
    default = float(define("DRSN_ZSCORE_EPSILON_DEFAULT").rstrip("f"))  # a float literal: 1e-8f
    assert _model.ZSCORE_EPSILON_DEFAULT == default
    assert inspect.signature(drsn.Model.run_windows).parameters["epsilon"].default == default
    args = cli.build_parser().parse_args(["classify", "model.onnx", "signal.npy", "--window", "8"])
    assert args.epsilon == default


def test_max_threads(needs_library):
    bound = int(define("DRSN_MAX_THREADS"))
    assert _model.MAX_THREADS == bound
    model = make_model([node("Relu", ["x"], ["y"])], [("x", ["N", 4])], ["y"], {}).SerializeToString()
    with drsn.Model(model, num_threads=bound) as m:
        assert m.num_threads == bound
    with pytest.raises(drsn.InvalidArgumentError, match=f"between 0 and {bound}"):
        drsn.Model(model, num_threads=bound + 1)
