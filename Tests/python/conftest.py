"""pytest setup for the drsn Python tests.

* Imports the binding from <repo>/bindings/python (no install needed); the library is
  found by the binding's normal lookup (DRSN_LIBRARY, <repo>/.build/release, ...).
* ``--oracle-only`` (or DRSN_TEST_ORACLE_ONLY=1): check every test graph with
  onnx.checker (full check) and onnxruntime only, without loading libdrsn; tests that
  need the library are skipped. Without it, a missing library stops the session with
  the binding's LibraryNotFoundError message.
* At the end, the largest deviation from onnxruntime seen in each test is summarised
  (and written to $DRSN_TEST_REPORT if set).
"""

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bindings" / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import drsn  # noqa: E402
import oracle  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--oracle-only", action="store_true", default=False,
                     help="validate test graphs with onnx.checker + onnxruntime only; "
                          "do not load libdrsn")


def pytest_configure(config):
    oracle.ORACLE_ONLY = bool(config.getoption("--oracle-only")
                              or os.environ.get("DRSN_TEST_ORACLE_ONLY") == "1")
    config.addinivalue_line("markers", "needs_library: the test needs libdrsn")


def pytest_sessionstart(session):
    if oracle.ORACLE_ONLY:
        return
    try:
        drsn.library_version()
    except (drsn.LibraryNotFoundError, drsn.IncompatibleLibraryError) as exc:
        pytest.exit(f"{exc}\n(run with --oracle-only to validate the test graphs without "
                    f"the library)", returncode=1)


@pytest.fixture
def needs_library():
    """Skips the test in --oracle-only mode."""
    if oracle.ORACLE_ONLY:
        pytest.skip("needs libdrsn (--oracle-only)")


def pytest_terminal_summary(terminalreporter):
    import onnx_conformance
    if onnx_conformance.SUMMARY:
        terminalreporter.section("ONNX node tests")
        terminalreporter.write_line(onnx_conformance.SUMMARY)
    if not oracle.DEVIATIONS:
        return
    rows = sorted(oracle.DEVIATIONS.items(), key=lambda kv: -kv[1])
    lines = [f"{dev:.3e}  {name}" for name, dev in rows]
    report = os.environ.get("DRSN_TEST_REPORT")
    if report:
        Path(report).write_text("max |drsn - onnxruntime| per test\n" + "\n".join(lines) + "\n")
    terminalreporter.section("max |drsn - onnxruntime| (largest 15 of "
                             f"{len(rows)} tests)")
    for line in lines[:15]:
        terminalreporter.write_line(line)
    fixture_rows = [line for line in lines if "test_fixtures" in line]
    if fixture_rows:
        terminalreporter.section("fixture models")
        for line in fixture_rows:
            terminalreporter.write_line(line)
