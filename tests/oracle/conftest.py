"""Locate the frozen R ``did`` reference outputs in ``../shared/oracles/did``, beside the repository.

The oracle files live outside the repository (they are data we did not compute and do not ship); tests that
need them skip with the reason when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: tests/oracle/conftest.py -> parents[2] is the repository root; the oracles sit beside it in ../shared.
REPO_ROOT = Path(__file__).resolve().parents[2]
DID_ORACLE_DIR = REPO_ROOT.parent / "shared" / "oracles" / "did"


@pytest.fixture(scope="session")
def did_oracle_dir() -> Path:
    """Folder with the R ``did`` reference outputs; skips the test when it is not there."""
    if not (DID_ORACLE_DIR / "ref_attgt.csv").is_file():
        pytest.skip(f"R did oracle files not found in {DID_ORACLE_DIR} (they live in ../shared/oracles/did "
                    "next to the repository, outside a plain clone); parity tests skipped")
    return DID_ORACLE_DIR
