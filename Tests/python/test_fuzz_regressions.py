"""Every input in Tests/fuzz/regressions (inputs that once crashed, hung or over-allocated
in the loader fuzzer or the corrupt-file suite) must load through libdrsn with a clean
status (and, when it loads, run once) in a subprocess that exits normally."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corrupt_driver  # noqa: E402

REGRESSIONS = HERE.parent / "fuzz" / "regressions"

pytestmark = pytest.mark.usefixtures("needs_library")


def test_fuzz_regressions(tmp_path):
    files = sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and not p.name.startswith("README"))
    assert files, f"no regression inputs in {REGRESSIONS}"
    records = [(corrupt_driver.KIND_MEMORY, p.read_bytes()) for p in files]
    results = corrupt_driver.run_batches(records, tmp_path)
    _, bad, slow = corrupt_driver.report("fuzz regressions", [p.name for p in files], results)
    for p, r in zip(files, results):
        print(f"  {p.name}: {corrupt_driver.outcome(r)} ({r[2]:.1f} ms)")
    assert not bad, "\n".join(f"{n}: {r}" for n, r in bad)
    assert not slow, f"slower than {corrupt_driver.SLOW_MS} ms: {slow}"


def test_structured_fuzzer_smoke(tmp_path):
    """Tests/fuzz/structured.py (the structure-aware fuzzer) runs and finds nothing in 400
    mutants of a fixed random seed; the long runs are a development activity."""
    import subprocess
    r = subprocess.run([sys.executable, str(HERE.parent / "fuzz" / "structured.py"), "120", "--seed", "7",
                        "--batch", "200", "--max-executions", "400", "--artifacts", str(tmp_path)],
                       capture_output=True, text=True, timeout=600)
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "400 executions" in r.stdout and "0 findings" in r.stdout
