"""The shared fixture exports: ../shared/fixtures next to the repository ($DRSN_FIXTURES
overrides it). Tests that use them are skipped when a fixture is absent, unless
DRSN_REQUIRE_FIXTURES=1 -- Tests/run.sh sets it when that folder exists -- which makes a
missing fixture a failure, so that a broken path cannot pass as a skip."""

import os
from pathlib import Path
from typing import NoReturn, Optional

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("DRSN_FIXTURES") or REPO_ROOT.parent / "shared" / "fixtures")
REQUIRED = os.environ.get("DRSN_REQUIRE_FIXTURES") == "1"


def missing(path: Path, allow_module_level: bool = False) -> NoReturn:
    """Skips the calling test (or module) because ``path`` is absent; with
    DRSN_REQUIRE_FIXTURES=1 fails it instead."""
    if REQUIRED:
        pytest.fail(f"{path} is missing, and DRSN_REQUIRE_FIXTURES=1 requires the shared fixtures",
                    pytrace=False)
    pytest.skip(f"{path} not found", allow_module_level=allow_module_level)


def fixture(name: str) -> Optional[Path]:
    """FIXTURES / name when it exists. When it does not: None, for a test that falls back to
    another model, or a failure with DRSN_REQUIRE_FIXTURES=1."""
    path = FIXTURES / name
    if path.exists():
        return path
    if REQUIRED:
        missing(path)
    return None
