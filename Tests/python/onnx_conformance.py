"""Runs the ONNX backend node tests (../shared/onnx-node-tests, see its README.md) through
drsn and classifies every case. Used by test_onnx_node_conformance.py; also a script:

    python onnx_conformance.py CASE_DIR...      # child: one JSON line per case, in order
    python onnx_conformance.py --all [-v]       # every case, with the summary line

A case is a folder with ``model.onnx`` and ``test_data_set_N/{input,output}_K.pb``. Its
outcome is one of

* ``pass`` -- drsn loaded it and every data set agrees with the stored outputs (same shape,
  NaN where they have NaN, ``|drsn - expected| <= ATOL + RTOL * |expected|``; integer and
  boolean outputs compared as float32, since drsn writes float32);
* ``refused`` -- drsn raised one of its errors (not InternalError) at load or run, with a
  ``reason``: operator, dtype, opset, domain or feature (what the message names);
* ``mismatch`` -- it ran but an output differs (``detail`` says where);
* ``internal`` -- drsn raised InternalError;
* ``crash`` / ``hang`` -- the child process died or overran its time (set by the parent).

Independently of what drsn did, each case is *in scope* or not: in scope when the model
imports a default-domain opset inside drsn's window, every node is a default-domain
operator drsn lists as supported, every graph input is FLOAT and every graph output FLOAT
or BOOL. drsn states its operators and opset window in the messages of two refusals (an
unknown operator, opset 99); :func:`drsn_capabilities` reads them from there, so the scope
follows the library being tested.

Cases run in child processes, a chunk at a time, with a time limit: a chunk that crashes
or hangs has its unfinished cases rerun one per process, so the case responsible is named.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
#: The cases: $DRSN_ONNX_NODE_TESTS, else ../shared/onnx-node-tests next to the checkout.
CASES_DIR = Path(os.environ.get("DRSN_ONNX_NODE_TESTS") or REPO_ROOT.parent / "shared" / "onnx-node-tests")
#: The expected-failure list (see :func:`read_expected_failures`).
EXPECTED_FAILURES = HERE / "conformance_expected_failures.txt"

RTOL = 1e-3
ATOL = 1e-4
#: Cases per child process.
CHUNK = 60
#: Time limit of a chunk (seconds): a base plus this much per case; and of one case alone.
CHUNK_BASE_SECONDS = 30
CASE_SECONDS = 3
SINGLE_CASE_SECONDS = 60

FLOAT, BOOL = 1, 9  # onnx.TensorProto.FLOAT / BOOL
DEFAULT_DOMAINS = ("", "ai.onnx")
#: The summary line of the last whole-suite run in this process (conftest prints it).
SUMMARY = ""


# ---- what drsn supports (read from the library) -------------------------------------------

@dataclass(frozen=True)
class Capabilities:
    operators: frozenset
    min_opset: int
    max_opset: int


def _refusal(model_bytes: bytes) -> str:
    import drsn
    try:
        drsn.Model(model_bytes).close()
    except drsn.UnsupportedError as exc:
        return str(exc)
    raise AssertionError("drsn loaded a model it was expected to refuse")


def drsn_capabilities() -> Capabilities:
    """drsn's operators and opset window, from the messages of two refusals: an unknown
    operator ("...; supported: A, B, C") and opset 99 ("...opsets 7 to 28)")."""
    from onnx import TensorProto, helper

    def model(op: str, opset: int) -> bytes:
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
        graph = helper.make_graph([helper.make_node(op, ["x"], ["y"])], "probe", [x], [y])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()

    ops = re.search(r"supported: (.*)$", _refusal(model("NoSuchOperatorForTheProbe", 17)))
    window = re.search(r"opsets (\d+) to (\d+)", _refusal(model("Relu", 99)))
    if ops is None or window is None:
        raise AssertionError("drsn's refusal messages no longer name its operators / opset window")
    return Capabilities(frozenset(s.strip() for s in ops.group(1).split(",")),
                        int(window.group(1)), int(window.group(2)))


def out_of_scope(model, caps: Capabilities) -> Optional[str]:
    """Why the case is beyond what drsn supports, or None when it is in scope."""
    opset = next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS), None)
    if opset is None:
        return "domain: imports no default-domain opset"
    if not caps.min_opset <= opset <= caps.max_opset:
        return f"opset {opset}"
    for n in model.graph.node:
        if n.domain not in DEFAULT_DOMAINS:
            return f"domain {n.domain}"
        if n.op_type not in caps.operators:
            return f"operator {n.op_type}"
    inits = {t.name for t in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name not in inits and vi.type.tensor_type.elem_type != FLOAT:
            return f"input dtype of {vi.name}"
    for vi in model.graph.output:
        if not vi.type.HasField("tensor_type") or vi.type.tensor_type.elem_type not in (FLOAT, BOOL):
            return f"output dtype of {vi.name}"
    return None


# ---- one case (child process) ---------------------------------------------------------------

def refusal_reason(message: str) -> str:
    """The kind of thing a refusal message names: operator, opset, domain, dtype or feature
    (anything else: an attribute value, a rank, a mode, an output drsn does not compute).
    ``message`` should not contain the model's path (its name may say anything)."""
    m = message.lower()
    if "unsupported operator" in m:
        return "operator"
    if "domain" in m:
        return "domain"
    if re.search(r"\bopset \d+ is not supported", m):
        return "opset"
    if re.search(r"\btype\b|dtype|data type|float inputs only|runtime tensors are|\bcast to\b", m):
        return "dtype"
    return "feature"


def _compare(name: str, actual, expected) -> Optional[str]:
    """None when ``actual`` (drsn's float32 output) agrees with ``expected``; else why not."""
    import numpy as np
    if actual.shape != expected.shape:
        return f"output {name!r}: shape {actual.shape}, expected {expected.shape}"
    if expected.dtype.kind not in "fbiu":
        return f"output {name!r}: cannot compare {expected.dtype} values"
    exp = expected.astype(np.float64)
    act = actual.astype(np.float64)
    if expected.dtype.kind in "biu":
        bad = act != exp
    else:
        nan_exp, nan_act = np.isnan(exp), np.isnan(act)
        with np.errstate(invalid="ignore"):
            close = np.isclose(act, exp, rtol=RTOL, atol=ATOL) | (act == exp)
        bad = (nan_exp != nan_act) | (~nan_exp & ~close)
    if not bad.any():
        return None
    k = int(np.flatnonzero(bad)[0])
    return (f"output {name!r}: {int(bad.sum())} of {bad.size} values differ, first at flat index {k}: "
            f"drsn {act.flat[k]!r}, expected {exp.flat[k]!r}")


def run_case(case: Path, caps: Capabilities) -> dict:
    """Loads and runs one case; returns its record (case, outcome, scope, reason, detail)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    import drsn

    model = onnx.load(str(case / "model.onnx"), load_external_data=False)
    record = {"case": case.name, "scope": out_of_scope(model, caps), "outcome": None, "reason": None,
              "detail": ""}
    inits = {t.name for t in model.graph.initializer}
    input_names = [vi.name for vi in model.graph.input if vi.name not in inits]
    output_names = [vi.name for vi in model.graph.output]
    try:
        with drsn.Model(case / "model.onnx", num_threads=1) as m:
            for data_set in sorted(case.glob("test_data_set_*")):
                feeds = {}
                for k, name in enumerate(input_names):
                    pb = data_set / f"input_{k}.pb"
                    if pb.exists():
                        feeds[name] = numpy_helper.to_array(onnx.TensorProto.FromString(pb.read_bytes()))
                actual = m.run_dict(feeds)
                for k, name in enumerate(output_names):
                    expected = numpy_helper.to_array(
                        onnx.TensorProto.FromString((data_set / f"output_{k}.pb").read_bytes()))
                    if name not in actual:
                        record.update(outcome="mismatch", detail=f"{data_set.name}: no output {name!r}")
                        return record
                    why = _compare(name, actual[name], np.asarray(expected))
                    if why:
                        record.update(outcome="mismatch", detail=f"{data_set.name}: {why}")
                        return record
    except drsn.InternalError as exc:
        record.update(outcome="internal", detail=str(exc))
        return record
    except drsn.Error as exc:
        detail = exc.detail.replace(f"{case / 'model.onnx'}: ", "")
        record.update(outcome="refused", reason=refusal_reason(detail), detail=f"{type(exc).__name__}: {detail}")
        return record
    record["outcome"] = "pass"
    return record


#: Test hook of the parent's crash and hang handling: "crash:<case>" or "hang:<case>" makes
#: the child abort or stall when it reaches that case.
FAULT_ENV = "DRSN_CONFORMANCE_FAULT"


def child_main(case_dirs: Sequence[str]) -> None:
    """Runs the given cases in order, one JSON line each, flushed as soon as it is known."""
    sys.path.insert(0, str(REPO_ROOT / "bindings" / "python"))
    caps = drsn_capabilities()
    fault, _, fault_case = os.environ.get(FAULT_ENV, "").partition(":")
    for c in case_dirs:
        if Path(c).name == fault_case:
            if fault == "crash":
                os.abort()
            if fault == "hang":
                time.sleep(3600)
        print(json.dumps(run_case(Path(c), caps)), flush=True)


# ---- the parent: chunks in child processes ------------------------------------------------

def _run_child(cases: Sequence[Path], timeout: float) -> tuple[list[dict], Optional[str]]:
    """Runs ``cases`` in one child; returns the records it finished and, if it did not
    finish them all, why (exit status, signal or time limit)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *map(str, cases)],
                                stdout=out, stderr=err, cwd=str(HERE))
        try:
            rc = proc.wait(timeout=timeout)
            problem = None if rc == 0 else f"exit status {rc}"
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            problem = f"no result within {timeout:.0f} s"
        out.seek(0)
        records = [json.loads(line) for line in out.read().decode().splitlines() if line.startswith("{")]
        if problem and len(records) < len(cases):
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            if tail:
                problem += ": " + " | ".join(tail)
        return records, problem


def _run_chunk(cases: Sequence[Path]) -> list[dict]:
    records, problem = _run_child(cases, CHUNK_BASE_SECONDS + CASE_SECONDS * len(cases))
    if problem is None and len(records) == len(cases):
        return records
    # A crash or hang: every unfinished case alone, so that the responsible one is named.
    for case in cases[len(records):]:
        single, why = _run_child([case], SINGLE_CASE_SECONDS)
        if single:
            records.extend(single)
        else:
            outcome = "hang" if why and why.startswith("no result") else "crash"
            records.append({"case": case.name, "scope": None, "outcome": outcome, "reason": None,
                            "detail": why or "no record"})
    return records


def all_cases(root: Path = CASES_DIR) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "model.onnx").is_file())


def run_all(cases: Sequence[Path], workers: int = 2) -> list[dict]:
    """Every case's record, in the order of ``cases``."""
    chunks = [list(cases[i:i + CHUNK]) for i in range(0, len(cases), CHUNK)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_run_chunk, chunks))
    return [r for chunk in results for r in chunk]


# ---- expected failures and the verdict -----------------------------------------------------

def read_expected_failures(path: Path = EXPECTED_FAILURES) -> dict[str, str]:
    """``case: reason`` lines (``#`` comments and blank lines ignored) -> {case: reason}.
    Every entry needs a reason; a case listed twice is an error."""
    listed: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        case, sep, reason = line.partition(":")
        case, reason = case.strip(), reason.strip()
        if not sep or not case or not reason:
            raise ValueError(f"{path.name}:{number}: expected 'case: reason', got {raw!r}")
        if case in listed:
            raise ValueError(f"{path.name}:{number}: {case} is listed twice")
        listed[case] = reason
    return listed


@dataclass
class Verdict:
    counts: dict = field(default_factory=dict)
    refused_by_reason: dict = field(default_factory=dict)
    #: Problems that fail the test, one line each.
    problems: list = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.refused_by_reason.items()))
        return (f"ONNX node tests: {c.get('total', 0)} cases: passed {c.get('pass', 0)} / "
                f"refused-clean {c.get('refused', 0)} ({reasons}) / expected-failure {c.get('expected', 0)} / "
                f"mismatch {c.get('mismatch', 0)} / refused-in-scope {c.get('refused-in-scope', 0)} / "
                f"internal {c.get('internal', 0)} / crash {c.get('crash', 0)} / hang {c.get('hang', 0)}")


def judge(records: Iterable[dict], expected: dict[str, str], known_cases: Iterable[str]) -> Verdict:
    """Classifies the records against the expected-failure list.

    Fails (``problems``): a mismatch, InternalError, crash or hang that is not listed; a
    case in scope that is refused and not listed; a listed case that passes, or that is
    refused while out of scope (nothing to expect there), or that does not exist."""
    v = Verdict()
    counts: dict[str, int] = {}

    def bump(key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    seen = set()
    for r in records:
        name, outcome = r["case"], r["outcome"]
        seen.add(name)
        bump("total")
        listed = name in expected
        if outcome == "pass":
            bump("pass")
            if listed:
                v.problems.append(f"{name}: passes now; remove it from {EXPECTED_FAILURES.name}")
            continue
        if outcome == "refused" and r["scope"] is not None:
            bump("refused")
            v.refused_by_reason[r["reason"]] = v.refused_by_reason.get(r["reason"], 0) + 1
            if listed:
                v.problems.append(f"{name}: out of scope ({r['scope']}) and refused cleanly; "
                                  f"remove it from {EXPECTED_FAILURES.name}")
            continue
        if listed:
            bump("expected")
            continue
        key = "refused-in-scope" if outcome == "refused" else outcome
        bump(key)
        v.problems.append(f"{name}: {key}: {r['detail']}")
    for name in sorted(set(expected) - set(known_cases)):
        v.problems.append(f"{name}: listed in {EXPECTED_FAILURES.name} but no such case")
    v.counts = counts
    return v


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "--all":
        verbose = "-v" in argv
        start = time.monotonic()
        cases = all_cases()
        records = run_all(cases)
        verdict = judge(records, read_expected_failures(), [c.name for c in cases])
        if verbose:
            for r in records:
                print(json.dumps(r))
        for p in verdict.problems:
            print("PROBLEM", p)
        print(verdict.summary(), f"({time.monotonic() - start:.0f} s)")
        return 1 if verdict.problems else 0
    child_main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
