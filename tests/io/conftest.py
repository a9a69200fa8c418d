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


@pytest.fixture
def serve():
    """Start fake LRS servers (tests/io/lrs_server.py, default user and secret) on ephemeral ports; stop
    them all at teardown."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from lrs_server import FakeLRS

    started = []

    def start(stmts, **kw):
        srv = FakeLRS(stmts, **kw).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
