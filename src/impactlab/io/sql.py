"""Reading a canonical table from a SQL query, on DuckDB (embedded) or any database SQLAlchemy reaches,
read-only by default both in the query text accepted and in the connection opened
(``docs/explanation.md``, "Reading exports").
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from impactlab.errors import DataError, check_option, require
from impactlab.io.table import Table

Kind = Literal["completions", "assessments", "surveys", "observations", "roster", "kpis", "costs"]
KINDS: tuple[str | None, ...] = (
    "completions",
    "assessments",
    "surveys",
    "observations",
    "roster",
    "kpis",
    "costs",
    None,
)
DUCKDB_SUFFIXES = (".duckdb", ".ddb")
_HINT = "read_sql only reads; run changes in your database tool, or pass read_only=False if you must"
#: Query-tree nodes of DuckDB's parser that only read (``json_serialize_sql``); any other node, such as a
#: DELETE inside a WITH clause, which DuckDB runs, is refused.
_DUCKDB_READ_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
#: SQLAlchemy dialect name -> sqlglot dialect name (the ones that differ; others are tried as they are).
_SQLGLOT_DIALECTS = {"postgresql": "postgres", "mssql": "tsql", "mariadb": "mysql", "sqlite": "sqlite"}
#: sqlglot expressions that write, change the session or the schema, or that sqlglot could not parse into
#: a known statement (``Command``); looked up by name because sqlglot versions differ.
_SQLGLOT_FORBIDDEN = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "TruncateTable", "Into",
    "Copy", "Command", "Set", "Pragma", "Use", "Transaction", "Commit", "Rollback", "Attach", "Detach",
    "Grant", "Revoke", "LoadData", "Cache", "Uncache", "Lock", "Analyze", "Refresh", "Install", "Load",
)


def _refuse(message: str) -> DataError:
    return DataError(message, source="query", hint=_HINT)


def _require_text(query: object) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"The 'query' parameter must be a non-empty SQL string. Got {query!r} instead.")
    return query


def check_select(query: str, dialect: str = "duckdb") -> str:
    """Return ``query`` if it is exactly one read-only query; raise :class:`DataError` naming the problem.

    The text is parsed, never searched for keywords: by DuckDB's own parser for DuckDB (its statement
    splitter, then its query tree), by sqlglot in the database's dialect for SQLAlchemy connections. One
    ``SELECT`` (or ``WITH`` ... ``SELECT``, ``VALUES``, DuckDB's ``FROM``/``TABLE``, set operations) passes;
    several statements, any other statement (``COPY``, ``ATTACH``, ``SET``, ``PRAGMA``, ``INSTALL``, ``LOAD``,
    ``CALL``...), a data-changing statement inside a ``WITH`` clause and ``SELECT ... INTO`` are refused.
    """
    _require_text(query)
    if dialect == "duckdb":
        _check_duckdb(query)
    else:
        _check_sqlglot(query, dialect)
    return query


def _check_duckdb(query: str) -> None:
    import json

    import duckdb

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise _refuse(f"DuckDB cannot parse the query: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise _refuse(f"the query holds {len(statements)} statements; read_sql runs exactly one SELECT")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        word = _first_word(query, duckdb)  # DuckDB files PRAGMA under SET, INSTALL under LOAD
        raise _refuse(_not_select(word if word and kind in ("SET", "LOAD", "CALL") else kind))
    with duckdb.connect(":memory:") as scratch:  # parse only, on an empty database: nothing runs
        row = scratch.execute("select json_serialize_sql(?::varchar)", [query]).fetchone()
    tree = json.loads(row[0]) if row else {"error": True}
    if tree.get("error"):
        raise _refuse(f"DuckDB cannot read the query as one SELECT: {tree.get('error_message', '')}")
    nodes = sorted({n for n in _node_types(tree) if n not in _DUCKDB_READ_NODES})
    if nodes:
        seen = ", ".join(n.removesuffix("_QUERY_NODE").removesuffix("_NODE") for n in nodes)
        raise _refuse(f"the query contains {seen}, which can change data; read_sql runs read-only queries")


def _not_select(word: str) -> str:
    article = "an" if word[:1] in "AEIOU" else "a"
    return (f"the query is {article} {word} statement, not a SELECT; read_sql runs only one SELECT / WITH / "
            "VALUES query")


def _first_word(query: str, duckdb: Any) -> str:
    """The statement's first keyword as DuckDB's tokenizer sees it (comments skipped)."""
    for position, kind in duckdb.tokenize(query):
        if "COMMENT" not in str(kind):
            word = query[position:].split(None, 1)
            return word[0].upper().rstrip(";") if word else ""
    return ""


def _node_types(tree: Any) -> list[str]:
    """Every ``..._NODE`` type in DuckDB's serialised query tree."""
    found: list[str] = []
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if isinstance(kind, str) and kind.endswith("_NODE"):
                found.append(kind)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _check_sqlglot(query: str, dialect: str) -> None:
    sqlglot = require("sqlglot", "sql", "Checking that a SQL query only reads")
    from sqlglot import exp

    name = _SQLGLOT_DIALECTS.get(dialect, dialect)
    try:
        sqlglot.Dialect.get_or_raise(name)
    except ValueError:
        name = ""  # a database sqlglot does not know: its generic SQL
    try:
        empty = getattr(exp, "Semicolon", type(None))  # a trailing comment parses as an empty statement
        parsed = sqlglot.parse(query, read=name or None)
        trees = [t for t in parsed if t is not None and not isinstance(t, empty)]
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _refuse(f"the query cannot be parsed as {dialect or 'SQL'}: {first}") from None
    if len(trees) != 1:
        raise _refuse(f"the query holds {len(trees)} statements; read_sql runs exactly one SELECT")
    root = trees[0]
    readers = tuple(getattr(exp, n) for n in ("Select", "Union", "Intersect", "Except", "Values", "Subquery")
                    if hasattr(exp, n))
    forbidden = tuple(getattr(exp, n) for n in _SQLGLOT_FORBIDDEN if hasattr(exp, n))
    if not isinstance(root, readers) or isinstance(root, forbidden):
        tokens = sqlglot.tokenize(query, read=name or None)
        word = tokens[0].text.upper() if tokens else ""
        raise _refuse(_not_select(root.key.upper() if word in ("", "WITH", "(") else word))
    bad = sorted({node.key.upper() for node in root.find_all(*forbidden)})
    if bad:
        raise _refuse(f"the query contains {', '.join(bad)}, which can change data; read_sql runs "
                      "read-only queries")


def _is_sqlalchemy(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "sqlalchemy"


def _duckdb_rows(con: Any, query: str, params: Any) -> pd.DataFrame:
    import duckdb

    try:
        rel = con.execute(query, params) if params is not None else con.execute(query)
        return rel.df()
    except duckdb.Error as exc:
        raise DataError(
            f"the query failed in DuckDB: {exc}",
            source="query",
            hint="check table and column names with con.sql('describe <table>')",
        ) from None


def _sqlalchemy_rows(con: Any, query: str, params: Any, read_only: bool) -> tuple[pd.DataFrame, str]:
    sa = require("sqlalchemy", "sql", "Reading from a SQLAlchemy database URL")
    own = isinstance(con, str)
    engine = sa.create_engine(_read_only_url(sa, con) if read_only else con) if own else con
    name = f"sql:{engine.url.render_as_string(hide_password=True)}" if hasattr(engine, "url") else "sql"
    dialect = engine.dialect.name if hasattr(engine, "dialect") else ""
    if read_only:
        try:
            check_select(query, dialect)
        except BaseException:
            if own:
                engine.dispose()
            raise
    ctx = engine.connect() if hasattr(engine, "connect") else _NoClose(engine)
    try:
        with ctx as conn:
            if read_only and dialect == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            elif read_only and dialect in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
            elif read_only and dialect == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            try:
                result = conn.execute(sa.text(query), dict(params) if params else {})
                frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
            except sa.exc.SQLAlchemyError as exc:
                msg = str(getattr(exc, "orig", exc)).splitlines()[0]
                raise DataError(
                    f"the query failed in {dialect or 'the database'}: {msg}",
                    source=name,
                    hint="check table and column names",
                ) from None
            finally:
                conn.rollback()
                if read_only and dialect == "sqlite" and not own:
                    conn.exec_driver_sql("PRAGMA query_only = OFF")
    finally:
        if own:
            engine.dispose()
    return frame, name


def _read_only_url(sa: Any, con: str) -> Any:
    """A SQLite file URL opened read-only (``mode=ro``): a missing file is an error, never a new database."""
    url = sa.engine.make_url(con)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return url
    if not Path(database).is_file():
        raise FileNotFoundError(f"No such SQLite file: {database!r}")
    from urllib.parse import quote

    ro = {**url.query, "mode": "ro", "uri": "true"}
    return url.set(database=f"file:{quote(database, safe='/:')}", query=ro)


class _NoClose:
    """Use a caller's SQLAlchemy Connection in a ``with`` block without closing it."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> Any:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def fetch(
    query: str, con: Any, *, params: Sequence[Any] | Mapping[str, Any] | None = None, read_only: bool = True
) -> tuple[pd.DataFrame, str]:
    """Run ``query`` on ``con`` (see :func:`read_sql`); return the rows and a name for the source."""
    _require_text(query)
    import duckdb

    if isinstance(con, duckdb.DuckDBPyConnection):
        if read_only:
            check_select(query, "duckdb")
        return _duckdb_rows(con, query, params), "duckdb:<connection>"
    if _is_sqlalchemy(con):
        return _sqlalchemy_rows(con, query, params, read_only)
    if isinstance(con, str) and "://" in con:
        return _sqlalchemy_rows(con, query, params, read_only)
    if isinstance(con, (str, os.PathLike)):
        path = Path(con)
        if path.suffix.lower() not in DUCKDB_SUFFIXES:
            raise ValueError(
                f"The 'con' parameter names {str(path)!r}, which is not a DuckDB file "
                f"({', '.join(DUCKDB_SUFFIXES)}); for SQLite and other databases pass a "
                "SQLAlchemy URL such as 'sqlite:///path/to/file.db'."
            )
        if not path.is_file():
            raise FileNotFoundError(f"No such DuckDB file: {str(path)!r}")
        if read_only:
            check_select(query, "duckdb")
        db = duckdb.connect(str(path), read_only=read_only)
        try:
            return _duckdb_rows(db, query, params), f"duckdb:{path}"
        finally:
            db.close()
    raise TypeError(
        "The 'con' parameter must be a DuckDB connection, a path to a .duckdb file, a SQLAlchemy "
        f"URL or a SQLAlchemy engine/connection. Got {type(con).__name__} instead."
    )


def read_sql(
    query: str,
    con: Any,
    *,
    kind: Kind | None = "completions",
    params: Sequence[Any] | Mapping[str, Any] | None = None,
    read_only: bool = True,
    **options: Any,
) -> Table | pd.DataFrame:
    """Run a SQL query and read its rows as a canonical table.

    Parameters
    ----------
    query : str
        Exactly one ``SELECT`` (or ``WITH`` ... ``SELECT`` / ``VALUES`` / DuckDB ``FROM``) statement. Name the
        columns as you like: header matching and ``columns=`` work as for files.
    con : DuckDB connection, path, SQLAlchemy URL or engine
        A ``duckdb.DuckDBPyConnection``; a path to a ``.duckdb`` file (opened read-only); a SQLAlchemy URL
        such as ``"sqlite:///lms.db"`` (a SQLite file is opened read-only and must exist) or
        ``"postgresql+psycopg://user@host/lms"`` (needs ``pip install "impactlab[sql]"``; the password is
        never shown); or a SQLAlchemy engine/connection.
    kind : str or None
        The canonical table to read the rows as (the reader ``read_<kind>`` runs on them), or ``None`` for
        the raw rows as a DataFrame.
    params : sequence or mapping, optional
        Query parameters (DuckDB ``?`` / ``$name``; SQLAlchemy ``:name``). Prefer them to string formatting.
    read_only : bool
        Parse the query (DuckDB's own parser; sqlglot for SQLAlchemy databases) and refuse anything but one
        read-only query, and open the connections made here read-only: DuckDB and SQLite files in read-only
        mode (``docs/explanation.md``, "Reading exports").
    **options
        Passed to the reader (``columns=``, ``errors=``, ``preset=``, ``tz=``; ``unit=``/``time=``/
        ``metrics=`` for KPIs...).

    Returns
    -------
    Table or DataFrame
        A table whose ``source`` names the database (``duckdb:<file>``, ``sql:<url without password>``);
        ``source_row`` is the 1-based row of the query result.

    Raises
    ------
    DataError
        The query is not exactly one read-only query, or the database refused it (its message is quoted).
    FileNotFoundError
        A DuckDB or SQLite file that does not exist.
    MissingDependencyError
        A SQLAlchemy URL without SQLAlchemy installed.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("create table lms as select * from (values (7, 'Negotiation', 'Completed', "
    ...                 "date '2024-03-01')) t(user_id, course, status, completed)")
    >>> t = read_sql("select * from lms", con)
    >>> t.frame[["employee_id", "program", "status"]].values.tolist()
    [['7', 'Negotiation', 'completed']]
    """
    check_option("kind", kind, KINDS)
    frame, name = fetch(query, con, params=params, read_only=read_only)
    if kind is None:
        return frame
    from impactlab import io

    table = getattr(io, f"read_{kind}")(frame, **options)
    short = " ".join(query.split())
    note = f"query: {short[:80]}{'...' if len(short) > 80 else ''}"
    return dataclasses.replace(table, source=name, notes=(*table.notes, note))
