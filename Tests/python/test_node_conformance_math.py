"""ONNX's own conformance cases (onnx/backend/test/data/node, in ../shared/onnx-node-tests)
for the math and activation operators, Sum/Mean, Dropout, Clip, BatchNormalization and
constant Pad: each case passes (every output within 1e-6 + 1e-5 |expected|, NaN where
expected) or drsn refuses it with the reason listed in REFUSALS. A case refused only because
its opset is above what this build accepts is skipped (with the message), and the cases whose
operator's newer versions only add types are also run with the opset import lowered to 21.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import drsn

CASES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "onnx-node-tests"
OPS = ["sum", "mean", "dropout", "clip", "batchnorm", "constant_pad", "prelu", "elu", "selu", "tanh", "hardsigmoid",
       "hardswish", "gelu", "erf", "exp", "log", "sqrt", "pow", "reciprocal", "softplus", "softsign"]

# case pattern -> what drsn's refusal says (first match wins)
REFUSALS = [
    ("test_batchnorm_*_training_mode", "training_mode=1 is not supported"),
    ("test_clip_default_int8_*", "has type INT8; drsn accepts FLOAT inputs only"),
    ("test_pow_types_*", "drsn accepts FLOAT inputs only"),  # integer graph inputs
    ("test_constant_pad*", "'pads' has type INT64; drsn accepts FLOAT inputs only"),  # pads as a runtime input
    ("test_*_expanded*", "unsupported operator 'CastLike'"),  # the function bodies use CastLike
]

# Operators whose versions after 21 only add types (Dropout-22, Elu-22, Selu-22,
# HardSigmoid-22, HardSwish-22, Softplus-22, Softsign-22): their cases also run at opset 21.
TYPES_ONLY_AFTER_21 = ["dropout", "elu", "selu", "hardsigmoid", "hardswish", "softplus", "softsign"]


def _cases(prefixes):
    if not CASES_DIR.is_dir():
        return []
    return sorted(d.name for d in CASES_DIR.iterdir()
                  if any(d.name == f"test_{p}" or d.name.startswith(f"test_{p}_") for p in prefixes))


CASES = _cases(OPS)
pytestmark = pytest.mark.skipif(not CASES, reason=f"ONNX node cases not found at {CASES_DIR}")


def _numbered(folder: Path, kind: str):
    files = sorted(folder.glob(f"{kind}_*.pb"), key=lambda p: int(re.findall(r"\d+", p.name)[0]))
    return [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in files]


def _run_case(name: str, model: onnx.ModelProto):
    try:
        m = drsn.Model(model.SerializeToString())
    except drsn.Error as exc:
        msg = str(exc)
        if re.search(r"opset \d+ is not supported \(drsn supports opsets", msg):
            pytest.skip(msg)
        reason = next((r for pattern, r in REFUSALS if fnmatch.fnmatch(name, pattern)), None)
        assert reason is not None, f"{name}: refused without a listed reason: {type(exc).__name__}: {msg}"
        assert reason in msg, f"{name}: refused for another reason than '{reason}': {msg}"
        return "refused"
    try:
        constants = {t.name for t in model.graph.initializer}
        names = [i.name for i in model.graph.input if i.name not in constants]
        sets = sorted((CASES_DIR / name).glob("test_data_set_*"))
        assert sets, name
        for data in sets:
            feeds = dict(zip(names, _numbered(data, "input")))
            expected = _numbered(data, "output")
            got = m.run(feeds)
            assert len(got) == len(expected), name
            for k, (g, e) in enumerate(zip(got, expected)):
                assert g.shape == e.shape, f"{name} {data.name} output {k}: shape {g.shape} != {e.shape}"
                np.testing.assert_allclose(g, e.astype(np.float32), rtol=1e-5, atol=1e-6, equal_nan=True,
                                           err_msg=f"{name} {data.name} output {k}")
    finally:
        m.close()
    return "passed"


@pytest.mark.parametrize("name", CASES)
def test_node_case(name):
    _run_case(name, onnx.load(str(CASES_DIR / name / "model.onnx")))


@pytest.mark.parametrize("name", _cases(TYPES_ONLY_AFTER_21))
def test_node_case_at_opset21(name):
    model = onnx.load(str(CASES_DIR / name / "model.onnx"))
    default = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not default or default[0].version <= 21:
        pytest.skip("opset <= 21: test_node_case runs it as is")
    default[0].version = 21
    _run_case(name, model)
