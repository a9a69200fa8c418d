"""The frozen R ``did`` reference outputs, kept in ``tests/oracle/data`` (see its ``PROVENANCE.md``).

They are part of the repository, so a clone runs every reference test; a missing file fails the test that
reads it (nothing here skips).
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: The reference panels and R outputs: csdid project files and the outputs of ``data/make.R``.
DID_ORACLE_DIR = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def did_oracle_dir() -> Path:
    """Folder with the R ``did`` reference outputs (``tests/oracle/data``)."""
    return DID_ORACLE_DIR
