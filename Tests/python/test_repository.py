"""Checks on the repository's own files: no machine-specific absolute path (a checkout or a
home folder of the machines this project is developed on, MACHINE_PATHS) in any tracked
file, text or binary (an ONNX export can quote the exporting machine's paths in its
metadata, see Tests/models/export_zoo.py)."""

import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Written in two pieces so that this file does not match itself.
MACHINE_PATHS = ["/" + "work/", "/" + "root/"]


def test_no_machine_specific_absolute_paths():
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    args = ["git", "grep", "-l", "-F"] + [a for p in MACHINE_PATHS for a in ("-e", p)]
    proc = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout == "", f"tracked files with {' or '.join(MACHINE_PATHS)}:\n{proc.stdout}"
