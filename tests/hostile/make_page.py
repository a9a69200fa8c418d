# ruff: noqa: E501  (byte strings and markdown rows are kept whole, one per line)
"""Write docs/reliability.md from the hostile-input corpus: every case of cases.toml, run, with its verdict
and the message a user sees. Run from the repository root: ``python tests/hostile/make_page.py``;
tests/hostile/test_hostile_corpus.py checks that the page lists every case with its verdict."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_run as h  # noqa: E402

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"

READ_WITH = {
    "completions": "read_completions", "roster": "read_roster", "kpis": "read_kpis",
    "assessments": "read_assessments", "surveys": "read_surveys", "costs": "read_costs",
    "costs_total": "read_costs + Costs.from_table", "xapi": "read_xapi (file)", "lrs": "read_xapi(LRS(...))",
    "sql": "read_sql (DuckDB)", "validate_rejected": "impactlab validate --rejected",
    "panel_ids": "build_panel", "cli_run": "impactlab run", "deck": "Deck(title).save",
    "behavior": "read_observations + kirkpatrick.behavior",
    "scan_completions": "io.scan_completions (DuckDB)", "scan_kpis": "io.scan_kpis (DuckDB)",
}

HEAD = """# Reliability: what hostile input gets

impactlab's readers are meant to be used on exports nobody checked. This page lists what each of the
hostile inputs of the project's test corpus gets: **refused** (nothing is returned; the error says what,
where and how to fix it), **quarantined** (the good rows are returned, each bad row is in the table's
`.rejected` ledger with its reason, and `rows_read == kept + rejected`), or **read** (read correctly; the
values are asserted by the tests). Cases marked **not yet** are known to be handled wrongly today; the
tests expect them to fail until they are fixed.

The table is generated from the corpus (`tests/hostile/cases.toml`, one input file per case); the test
suite runs every case and checks that this page lists each one with its verdict. The message is the first
line of the error, the first rejected row's reason, or the note or warning the read gave.

"""

SECURITY = """
## Security rules and where they are tested

| rule | what it means | tested in |
|---|---|---|
| Credentials are bound to the LRS endpoint's origin | Basic or bearer credentials go only to the endpoint's scheme, host and port. A `more` link (absolute or `//host`) or a redirect to another origin stops the pull with an `LRSError`; nothing is sent there. A secret in the endpoint's query string (`?apikey=...`) is sent with every request and shown as `***` in `repr`, errors and logs. A pull has a deadline, a page cap and a statement cap. | cases `lrs_more_other_host`, `lrs_more_protocol_relative`, `lrs_redirect_other_origin`, `lrs_apikey_in_query`, `lrs_endless_cursors`, `lrs_drip` above; `tests/io/test_lrs_security.py` |
| One read-only SQL statement | `read_sql` parses the query (DuckDB's own parser; sqlglot for other databases) and runs exactly one `SELECT` / `WITH` / `VALUES` query; anything else (a second statement hidden behind a comment in a string literal, `COPY`, `ATTACH`, `SET`, `DROP`) is refused before it runs, and files it opens are opened read-only. | cases `sql_*` above; `tests/io/test_sql_readonly.py` |
| Spreadsheet formula escaping | Every CSV or xlsx impactlab writes (`impactlab validate --rejected`, `io.write_table`) puts an apostrophe before a cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab, a line break or a NUL), leaving plain numbers such as `-3.5` alone. | case `formula_injection_export` above; `tests/io/test_export.py` |
"""


def _clean(text: str) -> str:
    text = text.replace(str(h.FILES) + "/", "").replace(str(h.HERE) + "/", "")
    hosts = list(dict.fromkeys(re.findall(r"http://127\.0\.0\.1:\d+", text)))  # the LRS first, then the other
    for host, shown in zip(hosts, ("https://lrs.example.com", "https://other.example.net"), strict=False):
        text = text.replace(host, shown)
        # a message cut short may end inside a host: its port would change from run to run
        text = re.sub(r"http://127\.0\.0\.1:(\d*)…$",
                      lambda m, h=host, s=shown: s + "…" if h.startswith(m.group(0)[:-1]) else m.group(0), text)
    text = re.sub(r"/\S*/out\b", "OUT", text)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text.replace("|", "\\|")


def rows() -> list[str]:
    out = ["| case | what the file contains | read with | verdict | what the user sees |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as d:
        for i, case in enumerate(h.cases()):
            tmp = Path(d) / str(i)
            tmp.mkdir()
            try:
                o = h.run(case, tmp)
                verdict, message = o.verdict, o.message
                if verdict == "read" and case.get("values"):
                    got = "; ".join(f"{k} = {v}" for k, v in case["values"].items())
                    message = f"read: {got}" + (f" ({o.message})" if o.message else "")
            except Exception as exc:  # noqa: BLE001 (a crash is a verdict too)
                verdict, message = "crashed", f"{type(exc).__name__}: {exc}"
            shown = f"**{verdict}**"
            if "xfail" in case:
                shown = f"**not yet** ({verdict}; should be {case['verdict']}: {case['xfail']})"
            out.append(f"| `{case['name']}` | {_clean(case['what'])} | {READ_WITH[case['reader']]} | {shown} | "
                       f"{_clean(message)} |")
    return out


def main() -> None:
    PAGE.write_text(HEAD + "\n".join(rows()) + "\n" + SECURITY, encoding="utf-8")


if __name__ == "__main__":
    main()
