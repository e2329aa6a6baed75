"""ONNX backend node conformance cases (../shared/onnx-node-tests, see its README) of the
operators added in issue 11 round 2: LRN, LayerNormalization, InstanceNormalization, Split,
Tile, ReduceL1/L2/Min/Prod/SumSquare/LogSumExp, Resize, Upsample. Every test data set of
every case must match the stored output (|d| <= 1e-4 + 1e-4 |expected|), or drsn must
refuse the model with the UnsupportedError reason listed in REFUSED.

The cases are run as drsn is meant to be used: inputs that drsn takes as constants only
(non-float inputs such as axes, split and repeats; the roi / scales / sizes of Resize and
Upsample) become initializers with the data set's values, and a case whose data has an
empty input (drsn's API takes no 0-sized run-time input) has all its inputs frozen, so
the operator is evaluated by constant folding. `_expanded` cases (the operator's function
body in other ops) and SplitToSequence are not included.
"""

import glob
import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import drsn
from oracle import ort_run, ort_session

CASES_DIR = Path(__file__).resolve().parents[3] / "shared" / "onnx-node-tests"
PATTERN = re.compile(r"^test_(lrn|layer_normalization|instancenorm|split|tile|"
                     r"reduce_(l1|l2|min|prod|sum_square|log_sum_exp)|resize|upsample)")
CASES = sorted(p.name for p in CASES_DIR.glob("test_*")
               if PATTERN.match(p.name) and "_expanded" not in p.name and "to_sequence" not in p.name) \
    if CASES_DIR.is_dir() else []

if not CASES:
    pytest.skip(f"no ONNX node test cases in {CASES_DIR}", allow_module_level=True)

# case-name regex -> what drsn's refusal says
REFUSED = {
    r"cubic": "mode 'cubic' is not supported",
    r"antialias": "antialias = 1 is not supported",
    r"tf_crop_and_resize": "'tf_crop_and_resize' is not supported",
}
# Cases at an opset above drsn's maximum at the time of writing (InstanceNormalization-22):
# refused for the opset until OperatorRegistry.maxOpset reaches it, then they must pass.
OPSET_REFUSAL = "is not supported (drsn supports opsets"
# Where the ONNX reference implementation and onnxruntime disagree, drsn follows
# onnxruntime (the project's oracle): Resize align_corners with a fractional output length
# (scale 0.6 of 4 = 2.4 -> 2 elements) divides by length_resized - 1 with the integer length
# in onnxruntime, the fractional one in the reference.
ORT_IS_REFERENCE = {"test_resize_downsample_scales_linear_align_corners"}


def _tensor(path):
    t = onnx.TensorProto()
    t.ParseFromString(Path(path).read_bytes())
    return numpy_helper.to_array(t)


def _frozen(model, feeds):
    """The model with drsn's constant-only inputs (and all inputs, if one is empty) turned
    into initializers; returns (model, run-time feeds)."""
    params = set()
    for n in model.graph.node:
        if n.op_type in ("Resize", "Upsample"):
            params |= set(n.input[1:])
    empty = any(v.size == 0 for v in feeds.values())
    frozen = onnx.ModelProto()
    frozen.CopyFrom(model)
    runtime = {}
    for name, value in feeds.items():
        if value.dtype != np.float32 or name in params or empty:
            frozen.graph.initializer.append(numpy_helper.from_array(value, name))
        else:
            runtime[name] = value
    return frozen, runtime


@pytest.mark.parametrize("case", CASES)
def test_node_case(case):
    folder = CASES_DIR / case
    model = onnx.load(folder / "model.onnx")
    inits = {i.name for i in model.graph.initializer}
    inputs = [vi.name for vi in model.graph.input if vi.name not in inits]
    refusal = next((why for pat, why in REFUSED.items() if re.search(pat, case)), None)
    sets = sorted(glob.glob(str(folder / "test_data_set_*")))
    assert sets, case
    for data in sets:
        feeds = {name: _tensor(f"{data}/input_{k}.pb") for k, name in enumerate(inputs)}
        expected = {vo.name: _tensor(f"{data}/output_{k}.pb") for k, vo in enumerate(model.graph.output)}
        frozen, runtime = _frozen(model, feeds)
        try:
            m = drsn.Model(frozen.SerializeToString())
        except drsn.UnsupportedError as exc:
            if refusal is None and OPSET_REFUSAL in str(exc):
                return
            assert refusal is not None, f"{case}: refused: {exc}"
            assert refusal in str(exc), f"{case}: refused for another reason: {exc}"
            return
        assert refusal is None, f"{case}: loaded, but REFUSED lists it ({refusal})"
        with m:
            actual = m.run_dict(runtime)
        if case in ORT_IS_REFERENCE:
            expected = ort_run(ort_session(model), feeds)
        for name, exp in expected.items():
            got = actual[name]
            assert got.shape == exp.shape, f"{case} {name}: shape {got.shape}, expected {exp.shape}"
            np.testing.assert_allclose(got, exp.astype(np.float32), rtol=1e-4, atol=1e-4,
                                       err_msg=f"{case} ({Path(data).name}) output {name}")
