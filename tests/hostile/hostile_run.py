"""Run one case of the hostile-input corpus (tests/hostile/cases.toml) and say what the user gets.

A case names a file under ``files/``, the reader it targets with its arguments, and the expected verdict:
``refused`` (an ImpactlabError, message asserted), ``quarantined`` (a Table, bad rows in its ledger with
their reasons) or ``read`` (a Table, values asserted). :func:`run` returns an :class:`Outcome` that the
test module checks and ``make_page.py`` turns into docs/reliability.md. Anything that is neither a
Table nor an ImpactlabError (a raw traceback, a hang) is the verdict ``crashed``.
"""

from __future__ import annotations

import json
import threading
import time
import tomllib
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd

import impactlab.io as io_
from impactlab.errors import DataQualityWarning, ImpactlabError, StatisticalWarning

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
MANIFEST = HERE / "cases.toml"
SECRET = "pw-s3cr3t"
OURS = (DataQualityWarning, StatisticalWarning)


class CommandRefused(ImpactlabError):
    """The ``impactlab`` command exited non-zero: what it printed on stderr."""


def cases() -> list[dict[str, Any]]:
    """The manifest's cases, in order."""
    with MANIFEST.open("rb") as fh:
        return list(tomllib.load(fh)["case"])


@dataclass
class Outcome:
    verdict: str
    message: str
    error: BaseException | None = None
    tables: list[Any] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def table(self) -> Any:
        return self.tables[0] if self.tables else None


def _arg(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(("files/", "support/")):
        return HERE / value
    if isinstance(value, dict):
        return {k: _arg(v) for k, v in value.items()}
    return value


def run(case: dict[str, Any], tmp: Path) -> Outcome:
    """Read ``case``'s file with its reader; never raises but for a crash (re-raised for pytest to show)."""
    path = FILES / case["file"]
    args = {k: _arg(v) for k, v in case.get("args", {}).items()}
    facts: dict[str, Any] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tables = READERS[case["reader"]](path, args, facts, tmp)
        except ImpactlabError as exc:
            first = str(exc).splitlines()[0]
            return Outcome("refused", _short(first), error=exc, facts=facts, text=str(exc))
    facts["warnings"] = [str(w.message) for w in caught if issubclass(w.category, OURS)]
    reasons = []
    for t in tables:
        rej = t.rejected.drop_duplicates("source_row")
        reasons += [f"row {r}: {why}" for r, why in zip(rej["source_row"], rej["reason"], strict=True)]
    extra = facts.pop("_reasons", [])
    reasons += extra
    notes = "; ".join(tables[0].notes) if tables else ""
    said = facts.get("_said") or (facts["warnings"][0] if facts["warnings"] else notes)
    text = "\n".join([*reasons, *(n for t in tables for n in t.notes), *facts["warnings"], said])
    if reasons:
        return Outcome("quarantined", _short(reasons[0]), tables=tables, facts=facts, text=text)
    return Outcome("read", _short(said), tables=tables, facts=facts, text=text)


def _short(text: str, n: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------------------------- readers

def _file_reader(name: str):
    def read(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
        return [getattr(io_, name)(path, **args)]
    return read


def _costs_total(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    from impactlab import Costs

    program = args.pop("total_program")
    table = io_.read_costs(path, **args)
    costs = Costs.from_table(table, program=program)
    facts["total"] = costs.total
    return [table]


def _xapi(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    first = args.pop("after", None)
    x = io_.read_xapi(path, **args)
    if first is not None:
        x = io_.read_xapi(first).merge(x)
    return _xapi_facts(x, facts)


def _xapi_facts(x: Any, facts: dict) -> list[Any]:
    facts.update({f"counts.{k}": v for k, v in x.counts.items()})
    facts["checkpoint"] = x.checkpoint
    facts["duplicates.verdict"] = x.duplicates["verdict"].tolist()
    malformed = zip(x.malformed["source_row"], x.malformed["reason"], strict=True)
    facts["_reasons"] = [f"statement {r}: {why}" for r, why in malformed]
    facts["_reasons"] += [f"statement {r}: {why}" for r, why, v in zip(
        x.duplicates["source_row"], x.duplicates["reason"], x.duplicates["verdict"], strict=True)
        if v == "conflicting"]
    facts["_said"] = "; ".join(x.notes)
    return [x.completions, x.assessments]


def _sql(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    import duckdb

    con = duckdb.connect(str(tmp / "lms.duckdb"))
    con.execute("create table completions as select 'E1' as employee_id, 'Safety' as program, "
                "'Completed' as status, '2024-03-01' as completed_at")
    con.execute("create table payroll as select 1 as id, 50000 as salary")
    try:
        return [io_.read_sql(path.read_text(), con, **args)]
    finally:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        facts["payroll_kept"] = "payroll" in tables
        facts["settings_untouched"] = con.execute("select current_setting('threads')").fetchone()[0] != 1
        facts["files_written"] = sorted(p.name for p in tmp.iterdir() if p.name != "lms.duckdb"
                                        and not p.name.endswith(".wal"))
        con.close()


def _validate_rejected(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    import contextlib
    import io as stdio

    from impactlab.cli import main

    out = tmp / "rejected.csv"
    with contextlib.redirect_stdout(stdio.StringIO()), contextlib.redirect_stderr(stdio.StringIO()):
        facts["exit"] = main(["validate", str(path), "--rejected", str(out)])
    written = pd.read_csv(out, dtype=str, keep_default_na=False)
    cells = [c for col in written.columns for c in written[col]]
    facts["cells_a_spreadsheet_runs"] = [c for c in cells if c[:1] in ("=", "+", "@")]
    facts["escaped_cells"] = sorted(c for c in cells if c[:2] in ("'=", "'+", "'@"))
    return [io_.read_completions(path)]


def _panel_ids(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    import impactlab as il

    kpis = io_.read_kpis(args["kpis"])
    comp = io_.read_completions(path)
    panel = il.build_panel(kpis, comp, program="Safety", outcome="revenue")
    long = panel.long()
    facts["trained_units"] = sorted(long.loc[long["cohort"].notna(), "unit"].astype(str).unique().tolist())
    return [kpis, comp]


def _behavior(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    from impactlab.kirkpatrick import behavior

    obs = io_.read_observations(path)
    trained = args.pop("trained_at", None)
    comp = io_.read_completions(trained) if trained else None
    res = behavior(obs, trained_at=comp, **args)
    rej = res.rejected
    facts["_reasons"] = [f"row {r}: {why}" for r, why in zip(rej["source_row"], rej["reason"], strict=True)]
    facts["_said"] = "; ".join(res.notes)
    facts["people"] = sorted(res.people["employee_id"].astype(str).tolist())
    facts["rejected_rows"] = [int(r) for r in res.rejected["source_row"]]
    return [obs] + ([comp] if comp is not None else [])


def _scan(kind: str):
    def read(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
        from impactlab.io import large

        s = getattr(large, f"scan_{kind}")(path, **args)
        assert s.rows_read == int(s.counts.sum()), s.counts
        rej = s.rejected
        facts["_reasons"] = [f"row {r}: {why}" for r, why in zip(rej["source_row"], rej["reason"],
                                                                strict=True)]
        facts["_said"] = "; ".join(s.notes)
        facts["used"] = int(s.counts["used"])
        facts["rejected_rows"] = [int(r) for r in s.rejected["source_row"]]
        return []
    return read


def _cli_run(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    import contextlib
    import io as stdio
    import os

    from impactlab.cli import LOCK_NAME, main

    out = tmp / "out"
    out.mkdir()
    if args.get("earlier"):
        (out / "impact_summary.json").write_text("{}")
    if args.get("lock"):
        (out / LOCK_NAME).write_text(str(os.getpid()))
    before = sorted(p.name for p in out.iterdir())
    err = stdio.StringIO()
    with contextlib.redirect_stdout(stdio.StringIO()), contextlib.redirect_stderr(err):
        code = main(["run", str(path), "--out", str(out), *args.get("argv", [])])
    facts["exit"] = code
    facts["output_folder_untouched"] = sorted(p.name for p in out.iterdir()) == before
    if code:
        raise CommandRefused(f"exit {code}: " + " ".join(err.getvalue().split()))
    return []


def _deck(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    from pptx import Presentation

    from impactlab.deck import Deck

    title = path.read_text().rstrip("\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        saved = Deck(title).save(tmp / "deck.pptx")
    facts["_said"] = str(caught[0].message) if caught else ""
    facts["title_saved"] = Presentation(str(saved)).slides[0].shapes.title.text
    return []


READERS = {name.removeprefix("read_"): _file_reader(name) for name in (
    "read_completions", "read_roster", "read_kpis", "read_assessments", "read_surveys", "read_costs")}
READERS.update(costs_total=_costs_total, xapi=_xapi, sql=_sql, validate_rejected=_validate_rejected,
               panel_ids=_panel_ids, cli_run=_cli_run, deck=_deck, behavior=_behavior,
               scan_completions=_scan("completions"), scan_kpis=_scan("kpis"))


# ------------------------------------------------------------------------------------------------ LRS

STATEMENT = {
    "id": "6d0f2c5e-0000-4000-8000-00000000beef",
    "actor": {"account": {"homePage": "https://lms.example.com", "name": "lms1"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "https://lms.example.com/course/safety", "definition": {"name": {"en-US": "Safety"}}},
    "result": {"completion": True},
    "timestamp": "2024-03-02T09:00:00Z",
    "stored": "2024-03-02T09:00:00Z",
}


class _Server:
    """Serves a case's scripted pages in order (the last one again when they run out) and records the
    requests it gets."""

    def __init__(self, script: dict[str, Any], other: str = "") -> None:
        self.script, self.other, self.requests = script, other, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization")})
                outer.answer(self, len(outer.requests))

            def log_message(self, *a: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def answer(self, h: BaseHTTPRequestHandler, n: int) -> None:
        if self.script.get("endless"):
            page: dict[str, Any] = {"body": {"statements": [], "more": f"/xapi/statements?cursor={n}"}}
        else:
            pages = self.script["pages"] or [{"body": {"statements": []}}]
            page = pages[min(n, len(pages)) - 1]
        text = page.get("text")
        if "body" in page:
            body = json.loads(json.dumps(page["body"]).replace("{other}", self.other))
            body["statements"] = [STATEMENT if s == "{stmt}" else s for s in body.get("statements", [])]
            text = json.dumps(body)
        data = (text or "").encode()
        drip = self.script.get("drip")
        h.send_response(page.get("status", 200))
        h.send_header("Content-Type", page.get("content_type", "application/json"))
        h.send_header("X-Experience-API-Version", "1.0.3")
        for k, v in page.get("headers", {}).items():
            h.send_header(k, v.replace("{other}", self.other))
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if not drip:
            h.wfile.write(data)
            return
        for b in data:  # one byte at a time, until the client hangs up
            try:
                h.wfile.write(bytes([b]))
                h.wfile.flush()
            except OSError:
                return
            time.sleep(drip)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _lrs(path: Path, args: dict, facts: dict, tmp: Path) -> list[Any]:
    script = json.loads(path.read_text())
    other = _Server({"pages": [{"body": {"statements": ["{stmt}"]}}]})
    main = _Server(script, other=other.host)
    query = script.get("endpoint_query")
    endpoint = f"http://{main.host}/xapi/" + (f"?{query}" if query else "")
    options = {"max_retries": 2, "sleep": lambda s: None, "timeout": 5.0, "progress": False, **args}
    lrs = io_.LRS(endpoint, auth=("analyst", SECRET), **options)
    try:
        facts["repr_shows_a_secret"] = SECRET in repr(lrs) or (query or "\0") in repr(lrs)
        x = io_.read_xapi(lrs)
        return _xapi_facts(x, facts)
    except ImpactlabError as exc:
        facts["error_shows_a_secret"] = SECRET in str(exc) or bool(query and query.split("=")[1] in str(exc))
        raise
    finally:
        main.stop()
        other.stop()
        facts["requests"] = len(main.requests)
        facts["other_origin_requests"] = len(other.requests)
        facts["credentials_sent_elsewhere"] = any(r["auth"] for r in other.requests)
        if query:
            facts["every_request_has_the_query"] = all(query in r["path"] for r in main.requests)


READERS["lrs"] = _lrs
