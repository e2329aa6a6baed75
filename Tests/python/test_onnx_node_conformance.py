"""The ONNX backend node tests (../shared/onnx-node-tests, 1,802 one-operator cases with
stored inputs and outputs) run through drsn by onnx_conformance.py, in child processes.

* Every case must pass (rtol 1e-3, atol 1e-4), or be refused cleanly with a drsn error when
  it uses an operator, data type, domain or opset drsn does not support.
* A case in scope (drsn's operators and types) that does not pass, and any case that loads
  but gives a wrong result, must be listed with a reason in
  conformance_expected_failures.txt; a crash, hang or InternalError never passes. A listed
  case that passes fails the test too, so that the list only shrinks.

The whole-suite test is skipped when the cases are absent (and fails then with
DRSN_REQUIRE_FIXTURES=1, like the shared fixtures). The driver's own tests below build
their cases in a temporary folder.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnx_conformance as oc
from shared_fixtures import missing

pytestmark = pytest.mark.usefixtures("needs_library")


def test_onnx_node_tests():
    if not oc.CASES_DIR.is_dir():
        missing(oc.CASES_DIR)
    cases = oc.all_cases()
    assert len(cases) > 1000, f"{oc.CASES_DIR} holds only {len(cases)} cases"
    verdict = oc.judge(oc.run_all(cases), oc.read_expected_failures(), [c.name for c in cases])
    summary = oc.SUMMARY = verdict.summary()  # printed at the end of the session (conftest)
    assert not verdict.problems, summary + "\n" + "\n".join(verdict.problems)


# ---- the driver ------------------------------------------------------------------------------

def _write_case(root, name, op="Relu", expected=None, shape=(2, 3)):
    """A case folder: one `op` node, input x = [-1.5, 0, 2, ...], expected output y
    (np.maximum(x, 0) unless given)."""
    case = root / name
    (case / "test_data_set_0").mkdir(parents=True)
    x = (np.arange(np.prod(shape), dtype=np.float32).reshape(shape) - 2.5)
    y = np.maximum(x, 0) if expected is None else expected
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"])], name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(np.shape(y)))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), case / "model.onnx")
    (case / "test_data_set_0" / "input_0.pb").write_bytes(numpy_helper.from_array(x).SerializeToString())
    (case / "test_data_set_0" / "output_0.pb").write_bytes(
        numpy_helper.from_array(np.asarray(y, np.float32)).SerializeToString())
    return case


@pytest.fixture(scope="module")
def caps():
    return oc.drsn_capabilities()


def test_capabilities_come_from_the_library(caps):
    # read from drsn's refusal messages (test_opsets.py checks the exact list and window)
    assert {"Conv", "Relu", "Softmax"} <= caps.operators and "NoSuchOperatorForTheProbe" not in caps.operators
    assert 1 <= caps.min_opset < caps.max_opset


def test_pass_and_mismatch(tmp_path, caps):
    good = oc.run_case(_write_case(tmp_path, "good"), caps)
    assert (good["outcome"], good["scope"]) == ("pass", None), good
    x = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    off = np.maximum(x, 0)
    off[1, 2] += 1e-2  # beyond atol + rtol * |y|
    bad = oc.run_case(_write_case(tmp_path, "bad", expected=off), caps)
    assert bad["outcome"] == "mismatch" and "flat index 5" in bad["detail"], bad
    shape = oc.run_case(_write_case(tmp_path, "shape", expected=np.maximum(x, 0).reshape(3, 2)), caps)
    assert shape["outcome"] == "mismatch" and "shape" in shape["detail"], shape
    within = np.maximum(x, 0) * (1 + 5e-4)  # inside rtol 1e-3
    assert oc.run_case(_write_case(tmp_path, "within", expected=within), caps)["outcome"] == "pass"


def test_compare_nan_and_integers():
    nan = np.array([1.0, np.nan], np.float32)
    assert oc._compare("y", nan.copy(), nan) is None
    assert "differ" in oc._compare("y", np.array([1.0, 0.0], np.float32), nan)
    assert "differ" in oc._compare("y", nan, np.array([1.0, 0.0], np.float32))
    assert oc._compare("y", np.array([1.0, 0.0], np.float32), np.array([True, False])) is None
    assert "differ" in oc._compare("y", np.array([3.0], np.float32), np.array([4], np.int64))


def test_refusal_is_classified(tmp_path, caps):
    r = oc.run_case(_write_case(tmp_path, "det", op="Det", shape=(2, 2), expected=np.zeros((), np.float32)), caps)
    assert (r["outcome"], r["reason"], r["scope"]) == ("refused", "operator", "operator Det"), r
    assert oc.refusal_reason("graph input 'x' has type INT64; drsn accepts FLOAT inputs only") == "dtype"
    assert oc.refusal_reason("opset 99 is not supported (drsn supports opsets 7 to 28)") == "opset"
    assert oc.refusal_reason("MaxPool Indices output is not supported") == "feature"


def test_crash_and_hang_are_named(tmp_path, monkeypatch):
    cases = [_write_case(tmp_path, f"case{i}") for i in range(4)]
    monkeypatch.setenv(oc.FAULT_ENV, "crash:case1")
    records = oc._run_chunk(cases)
    assert [(r["case"], r["outcome"]) for r in records] == [
        ("case0", "pass"), ("case1", "crash"), ("case2", "pass"), ("case3", "pass")], records
    monkeypatch.setenv(oc.FAULT_ENV, "hang:case2")
    monkeypatch.setattr(oc, "CHUNK_BASE_SECONDS", 8)
    monkeypatch.setattr(oc, "CASE_SECONDS", 0)
    monkeypatch.setattr(oc, "SINGLE_CASE_SECONDS", 8)
    records = oc._run_chunk(cases)
    assert [(r["case"], r["outcome"]) for r in records] == [
        ("case0", "pass"), ("case1", "pass"), ("case2", "hang"), ("case3", "pass")], records


def test_judge():
    def rec(case, outcome, scope=None):
        return {"case": case, "outcome": outcome, "scope": scope, "reason": "operator", "detail": "d"}
    records = [rec("ok", "pass"), rec("listed_ok", "pass"), rec("beyond", "refused", "operator X"),
               rec("listed_beyond", "refused", "operator X"), rec("in_scope", "refused"),
               rec("listed_in_scope", "refused"), rec("wrong", "mismatch"), rec("listed_wrong", "mismatch"),
               rec("boom", "crash", "operator X")]
    listed = {n: "why" for n in ("listed_ok", "listed_beyond", "listed_in_scope", "listed_wrong", "gone")}
    v = oc.judge(records, listed, [r["case"] for r in records])
    flagged = sorted(p.split(":")[0] for p in v.problems)
    assert flagged == ["boom", "gone", "in_scope", "listed_beyond", "listed_ok", "wrong"], v.problems
    assert (v.counts["pass"], v.counts["refused"], v.counts["expected"]) == (2, 2, 2), v.counts
    assert "crash 1" in v.summary() and "mismatch 1" in v.summary()


def test_expected_failure_list_is_well_formed(tmp_path):
    listed = oc.read_expected_failures()
    assert listed and all(reason for reason in listed.values())
    bad = tmp_path / "list.txt"
    bad.write_text("test_a: why\ntest_a: again\n")
    with pytest.raises(ValueError, match="twice"):
        oc.read_expected_failures(bad)
    bad.write_text("test_b\n")
    with pytest.raises(ValueError, match="case: reason"):
        oc.read_expected_failures(bad)
