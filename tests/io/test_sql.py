"""read_sql on DuckDB (connection and file) and SQLite through SQLAlchemy; read-only by default."""

from __future__ import annotations

import sqlite3
import sys

import duckdb
import pandas as pd
import pytest

from impactlab.errors import DataError, MissingDependencyError
from impactlab.io.sql import check_select, read_sql

ROWS = [
    (7, "Negotiation", "Completed", "2024-03-01"),
    (8, "Negotiation", "In Progress", None),
    (9, "Negotiation", "Teleported", "2024-03-02"),  # unknown status: rejected, never guessed
    (10, "Coaching", "Passed", "2024-04-15"),
]


@pytest.fixture
def duck_file(tmp_path):
    path = tmp_path / "lms.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create table transcript(user_id integer, course varchar, status varchar, completed date)")
    con.executemany("insert into transcript values (?, ?, ?, ?)", ROWS)
    con.close()
    return path


@pytest.fixture
def sqlite_url(tmp_path):
    path = tmp_path / "lms.db"
    con = sqlite3.connect(path)
    con.execute("create table transcript(user_id integer, course text, status text, completed text)")
    con.executemany("insert into transcript values (?, ?, ?, ?)", ROWS)
    con.commit()
    con.close()
    return f"sqlite:///{path}"


def _check(table) -> None:
    assert table.frame[["employee_id", "program", "status"]].values.tolist() == [
        ["7", "Negotiation", "completed"],
        ["8", "Negotiation", "in_progress"],
        ["10", "Coaching", "passed"],
    ]
    assert table.frame["completed_at"].iloc[0] == pd.Timestamp("2024-03-01", tz="UTC")
    assert table.rejected["source_row"].tolist() == [3] and table.rejected["check"].tolist() == ["status"]
    assert table.rows_read == table.n_kept + table.n_rejected == 4


def test_duckdb_file_connection_and_sqlite_give_the_same_table(duck_file, sqlite_url):
    q = "select user_id, course, status, completed from transcript order by user_id"
    from_file = read_sql(q, duck_file)
    with duckdb.connect(str(duck_file), read_only=True) as con:
        from_con = read_sql(q, con)
    from_sqlite = read_sql(q, sqlite_url)
    for t in (from_file, from_con, from_sqlite):
        _check(t)
    assert from_file.source == f"duckdb:{duck_file}" and from_con.source == "duckdb:<connection>"
    assert (
        from_sqlite.source.startswith("sql:sqlite:///") and "query: select user_id" in from_sqlite.notes[-1]
    )
    pd.testing.assert_frame_equal(from_file.frame, from_sqlite.frame)


def test_parameters_kind_none_and_other_kinds(duck_file, sqlite_url):
    raw = read_sql("select * from transcript where user_id > ?", duck_file, kind=None, params=[8])
    assert raw["user_id"].tolist() == [9, 10]
    raw2 = read_sql("select * from transcript where user_id > :k", sqlite_url, kind=None, params={"k": 8})
    assert raw2["user_id"].tolist() == [9, 10]
    kpis = read_sql(
        "select user_id as employee_id, '2024-0' || (user_id % 6 + 1) as month, 1.5 * user_id as revenue "
        "from transcript",
        duck_file,
        kind="kpis",
        time="month",
    )
    assert kpis.frame["revenue"].tolist() == [10.5, 12.0, 13.5, 15.0]
    with pytest.raises(ValueError, match="'kind' parameter must be one of 'completions'"):
        read_sql("select 1", duck_file, kind="transcripts")


@pytest.mark.parametrize(
    "query, message",
    [
        ("delete from transcript", "is a DELETE statement, not a SELECT"),
        ("select 1; drop table transcript", "holds 2 statements"),
        ("with x as (select 1) insert into transcript select * from x", "is an INSERT statement"),
        ("select * into backup from transcript", "cannot parse the query"),
        ("attach 'other.duckdb'", "is an ATTACH statement"),
        ("pragma query_only = off", "is a PRAGMA statement"),
        ("   ", "non-empty SQL string"),
    ],
)
def test_statements_that_can_change_data_are_refused(duck_file, query, message):
    with pytest.raises((DataError, ValueError), match=message):
        read_sql(query, duck_file)
    assert len(read_sql("select * from transcript", duck_file, kind=None)) == 4  # nothing changed


def test_keywords_inside_literals_comments_and_quotes_are_fine():
    assert check_select("select 'drop table x' as s, \"update\" from t -- delete\n")
    assert check_select("/* insert */ (select 1) ;")
    assert check_select("from transcript")


def test_connections_opened_here_are_read_only(duck_file, sqlite_url, monkeypatch):
    # bypass the query check to show the connection itself refuses a write
    from impactlab.io import sql

    monkeypatch.setattr(sql, "check_select", lambda query, dialect="duckdb": query)
    with pytest.raises(DataError, match="the query failed in DuckDB: .*read-only"):
        _write_duck(duck_file)
    with pytest.raises(DataError, match="the query failed in sqlite: attempt to write a readonly database"):
        _write_sqlite(sqlite_url)
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(sqlite_url)
    read_sql("select * from transcript", engine)
    with engine.begin() as conn:  # the caller's engine is writable again afterwards
        conn.exec_driver_sql("create table ok(a int)")
    engine.dispose()


def _write_duck(path):
    from impactlab.io import sql

    db = duckdb.connect(str(path), read_only=True)
    try:
        return sql._duckdb_rows(db, "create table x as select 1", None)
    finally:
        db.close()


def _write_sqlite(url):
    from impactlab.io import sql

    return sql._sqlalchemy_rows(url, "create table x(a int)", None, True)


def test_errors_name_the_database_without_the_password(duck_file, monkeypatch):
    with pytest.raises(DataError, match="the query failed in DuckDB: .*nosuch"):
        read_sql("select * from nosuch", duck_file)
    empty = duck_file.parent / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(DataError, match=r"sql:sqlite:///.*no such table: nosuch"):
        read_sql("select * from nosuch", f"sqlite:///{empty}")
    with pytest.raises(FileNotFoundError, match="No such SQLite file: .*missing.db"):  # never created
        read_sql("select 1", f"sqlite:///{duck_file.parent / 'missing.db'}")
    assert not (duck_file.parent / "missing.db").exists()
    with pytest.raises(ValueError, match="not a DuckDB file .*sqlite:///path"):
        read_sql("select 1", duck_file.with_suffix(".db"))
    with pytest.raises(FileNotFoundError, match="No such DuckDB file"):
        read_sql("select 1", duck_file.with_name("missing.duckdb"))
    with pytest.raises(TypeError, match="'con' parameter must be a DuckDB connection"):
        read_sql("select 1", 42)
    sa = pytest.importorskip("sqlalchemy")
    url = sa.engine.make_url("postgresql://analyst:hunter2secret@127.0.0.1:1/lms")
    assert "hunter2secret" not in url.render_as_string(hide_password=True)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "impactlab\[sql\]"'):
        read_sql("select 1", "sqlite:///x.db")
