"""read_sql runs exactly one read-only query: the text is parsed (DuckDB's parser, sqlglot for SQLAlchemy
databases), never searched for keywords; whatever is refused has no side effect."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from impactlab.errors import DataError
from impactlab.io.sql import check_select, read_sql

BYPASS = "select '--' as a; drop table payroll; -- '"


@pytest.fixture
def duck():
    con = duckdb.connect()
    con.execute("create table payroll(employee_id varchar, pay double)")
    con.execute("insert into payroll values ('E1', 100.0), ('E2', -3.5)")
    yield con
    con.close()


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "hr.db"
    con = sqlite3.connect(path)
    con.execute("create table payroll(employee_id text, pay real)")
    con.executemany("insert into payroll values (?, ?)", [("E1", 100.0), ("E2", -3.5)])
    con.commit()
    con.close()
    return path


def _duck_rows(con) -> list[tuple]:
    return con.execute("select * from payroll order by employee_id").fetchall()


def _sqlite_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return con.execute("select * from payroll order by employee_id").fetchall()


ROWS = [("E1", 100.0), ("E2", -3.5)]


def test_the_comment_in_a_literal_bypass_is_refused_and_drops_nothing(duck, sqlite_file):
    with pytest.raises(DataError, match="holds 2 statements; read_sql runs exactly one SELECT"):
        read_sql(BYPASS, duck, kind=None)
    assert _duck_rows(duck) == ROWS
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(f"sqlite:///{sqlite_file}")  # a writable engine of the caller's
    with engine.connect() as connection:
        for con in (engine, connection, f"sqlite:///{sqlite_file}"):
            with pytest.raises(DataError, match="holds 2 statements"):
                read_sql(BYPASS, con, kind=None)
    engine.dispose()
    assert _sqlite_rows(sqlite_file) == ROWS


@pytest.mark.parametrize(
    "query, word",
    [
        ("copy payroll to '{tmp}/leak.csv'", "COPY"),
        ("attach '{tmp}/other.duckdb' as other", "ATTACH"),
        ("set threads = 1", "SET"),
        ("pragma enable_profiling", "PRAGMA"),
        ("install httpfs", "INSTALL"),
        ("load httpfs", "LOAD"),
        ("call pragma_version()", "CALL"),
        ("checkpoint", "CHECKPOINT"),
        ("export database '{tmp}/dump'", "EXPORT"),
        ("create table copy_of as select * from payroll", "CREATE"),
        ("/* looks harmless */ update payroll set pay = 0", "UPDATE"),
    ],
)
def test_other_duckdb_statements_are_refused_without_side_effect(duck, tmp_path, query, word):
    article = "an" if word[0] in "AEIOU" else "a"
    with pytest.raises(DataError, match=f"is {article} {word} statement, not a SELECT"):
        read_sql(query.format(tmp=tmp_path), duck, kind=None)
    assert list(tmp_path.iterdir()) == []  # nothing copied, attached or exported
    assert _duck_rows(duck) == ROWS
    assert duck.execute("select count(*) from duckdb_tables()").fetchone() == (1,)


def test_a_delete_inside_with_is_refused_though_duckdb_would_run_it(duck):
    query = "with gone as (delete from payroll returning *) select * from gone"
    scratch = duckdb.connect()  # the known truth: DuckDB (>= 1.1) itself executes the DELETE inside the WITH
    scratch.execute("create table payroll as select 1 as a")
    try:
        scratch.execute(query)
    except duckdb.Error:  # DuckDB 1.0 cannot parse it: read_sql says so
        message = "DuckDB cannot parse the query"
    else:
        assert scratch.execute("select count(*) from payroll").fetchone() == (0,)
        message = "the query contains DELETE, which can change data"
    with pytest.raises(DataError, match=message):
        read_sql(query, duck, kind=None)
    assert _duck_rows(duck) == ROWS


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite", "mysql", "mssql"])
@pytest.mark.parametrize(
    "query, message",
    [
        (BYPASS, "holds 2 statements"),
        ("with x as (delete from payroll returning *) select * from x", "contains DELETE"),
        ("with x as (update payroll set pay = 0 returning *) select * from x", "contains UPDATE"),
        ("select * into backup from payroll", "contains INTO"),
        ("select 1; select 2", "holds 2 statements"),
        ("set role admin", "not a SELECT|cannot be parsed"),
        ("copy payroll to '/tmp/x.csv'", "not a SELECT|cannot be parsed"),
        ("pragma query_only = off", "not a SELECT|cannot be parsed"),
        ("call refresh_all()", "not a SELECT|cannot be parsed"),
        ("drop table payroll -- select", "is a DROP statement"),
    ],
)
def test_sqlalchemy_dialects_refuse_anything_but_one_select(dialect, query, message):
    pytest.importorskip("sqlglot")
    with pytest.raises(DataError, match=message):
        check_select(query, dialect)


def test_sqlite_refusals_leave_the_database_as_it_was(sqlite_file, tmp_path):
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{sqlite_file}"
    for query in (f"attach '{tmp_path}/x.db' as x", "pragma query_only = off", "select * into b from payroll",
                  "insert into payroll values ('E3', 1)", "delete from payroll"):
        with pytest.raises(DataError):
            read_sql(query, url, kind=None)
    assert _sqlite_rows(sqlite_file) == ROWS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hr.db"]


READS = [
    "select '--' as a, 'x; drop table payroll' as b /* ; */ from payroll -- '",
    "select 'it''s; -- fine' as a, '/* no */' as b from payroll",
    "/* a comment; with a semicolon */ select '--' as a, ';' as b from payroll;",
    "with p as (select * from payroll) select '-- ' || employee_id as a, 'drop' as b from p",
]


@pytest.mark.parametrize("query", READS)
def test_normal_queries_with_dashes_and_semicolons_in_strings_still_work(duck, sqlite_file, query):
    got = read_sql(query, duck, kind=None)
    assert len(got) == 2 and list(got.columns) == ["a", "b"]
    assert _duck_rows(duck) == ROWS
    pytest.importorskip("sqlalchemy")
    from_sqlite = read_sql(query, f"sqlite:///{sqlite_file}", kind=None)
    assert from_sqlite.values.tolist() == got.values.tolist()


def test_the_literal_values_come_back_exactly(duck):
    got = read_sql("select '--' as a, 'x; drop table payroll; --' as b", duck, kind=None)
    assert got.values.tolist() == [["--", "x; drop table payroll; --"]]
