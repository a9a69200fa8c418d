"""Reading a canonical table from a SQL query, on DuckDB (embedded) or any database SQLAlchemy reaches,
read-only by default both in the query text accepted and in the connection opened
(``docs/explanation.md``, "Reading exports").
"""

from __future__ import annotations

import dataclasses
import os
import re
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
_FIRST_WORDS = frozenset({"select", "with", "values", "from", "table"})
_FORBIDDEN = frozenset(
    {"insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "grant", "revoke", "into"}
)
_LITERALS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)


def check_select(query: str) -> str:
    """Return ``query`` if it is one read-only statement; raise :class:`DataError` naming the problem."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError(f"The 'query' parameter must be a non-empty SQL string. Got {query!r} instead.")
    bare = _LITERALS.sub(" '' ", _COMMENTS.sub(" ", query))
    parts = [p for p in bare.split(";") if p.strip()]
    hint = "read_sql only reads; run changes in your database tool, or pass read_only=False if you must"
    if len(parts) != 1:
        raise DataError(
            f"the query holds {len(parts)} statements; read_sql runs exactly one SELECT",
            source="query",
            hint=hint,
        )
    words = re.findall(r"[a-z_][a-z0-9_]*", parts[0].lower())
    first = re.match(r"\s*\(*\s*([a-z_]+)", parts[0].lower())
    if first is None or first.group(1) not in _FIRST_WORDS:
        seen = first.group(1).upper() if first else parts[0].strip()[:20]
        raise DataError(
            f"the query starts with {seen!r}; read_sql runs only SELECT / WITH / VALUES / FROM queries",
            source="query",
            hint=hint,
        )
    bad = sorted({w for w in words if w in _FORBIDDEN})
    if bad:
        raise DataError(
            f"the query contains {', '.join(w.upper() for w in bad)}, which can change data; "
            "read_sql runs read-only queries",
            source="query",
            hint=hint,
        )
    return query


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
    engine = sa.create_engine(con) if own else con
    name = f"sql:{engine.url.render_as_string(hide_password=True)}" if hasattr(engine, "url") else "sql"
    dialect = engine.dialect.name if hasattr(engine, "dialect") else ""
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
    if read_only:
        check_select(query)
    import duckdb

    if isinstance(con, duckdb.DuckDBPyConnection):
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
        One ``SELECT`` (or ``WITH`` / ``VALUES`` / DuckDB ``FROM``) statement. Name the columns as you like:
        header matching and ``columns=`` work as for files.
    con : DuckDB connection, path, SQLAlchemy URL or engine
        A ``duckdb.DuckDBPyConnection``; a path to a ``.duckdb`` file (opened read-only); a SQLAlchemy URL
        such as ``"sqlite:///lms.db"`` or ``"postgresql+psycopg://user@host/lms"`` (needs
        ``pip install "impactlab[sql]"``; the password is never shown); or a SQLAlchemy engine/connection.
    kind : str or None
        The canonical table to read the rows as (the reader ``read_<kind>`` runs on them), or ``None`` for
        the raw rows as a DataFrame.
    params : sequence or mapping, optional
        Query parameters (DuckDB ``?`` / ``$name``; SQLAlchemy ``:name``). Prefer them to string formatting.
    read_only : bool
        Refuse statements that can change data and open connections read-only (``docs/explanation.md``,
        "Reading exports").
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
        The query is not read-only, or the database refused it (its message is quoted).
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
