from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA


def _invariant(table) -> None:
    """rows_read == kept + distinct rejected source rows (DESIGN.md, 'Nothing lost')."""
    assert table.rows_read == len(table.frame) + table.rejected["source_row"].nunique()


@pytest.fixture
def invariant():
    return _invariant
