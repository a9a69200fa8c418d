"""Large-export benchmark: a 10-million-row transcript and a 1M x 24 KPI table to a panel, two routes.

Generates once (in ``--workdir``, kept for the next run, or a temporary directory deleted afterwards):

* ``transcript.csv``: ``--rows`` rows (default 10,000,000) = ``--kpi-employees`` employees (default
  ``rows / programmes`` = 1,000,000) x ``--programmes`` programmes (default 10), one row each, statuses
  mixed (70 % Completed, 10 % In Progress, 10 % Withdrawn, 10 % Passed), completion dates over 2023-2024
  (blank unless completed or passed);
* ``kpis.csv``: the employees x ``--months`` months (default 24: 24,000,000 rows) of revenue, in the
  order a monthly extract is appended (month by month, employees within a month).

Then each route runs in a *separate process* (so its memory is its own) on the same files and builds the
panel of one programme:

* ``pandas``: ``scan_completions`` (DuckDB, first completion per employee) -> ``scan_kpis`` (DuckDB) ->
  ``build_panel`` (pandas, with the row accounting);
* ``sql``: canonical views over the raw files -> ``impactlab.panel.sql.panel_query`` run by DuckDB,
  fetched through Arrow by ``impactlab.panel.sql.fetch`` -> ``Panel.from_frame`` (which sorts by unit and
  period).

Each process reports the wall time of its steps, the resident memory after each step and its peak
(``VmHWM`` of ``/proc/self/status``, read by the process itself: ``ru_maxrss`` of a child would also count
this parent's size at the fork), and a fingerprint of the panel (observations, units, periods, trained
units, checksums of the outcome and cohort positions); the two fingerprints must agree. The figures go to
``benchmarks/RESULTS.md`` under "## Panel build ..." (that section only is replaced on each run).

Usage::

    .venv/bin/python benchmarks/panel_build.py --workdir /tmp/pbwork    # the issue's size, files kept
    .venv/bin/python benchmarks/panel_build.py --rows 1000000 --no-write   # a quick look (100k employees)
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## Panel build from a 10-million-row transcript and a 1M x 24 KPI table"
SECTION_PREFIX = "## Panel build from a"  # earlier headings of this section are replaced too
PROGRAM = "Programme 00"
ROUTES = ("pandas", "sql")

COMMON = r"""
import json, math, resource, sys, time
import numpy as np
t0 = time.perf_counter()
def status():
    # resident now and the peak of this process image only (ru_maxrss also counts the parent at the fork)
    try:
        with open("/proc/self/status") as fh:
            got = {x.split(":")[0]: int(x.split()[1]) for x in fh if x.startswith(("VmHWM", "VmRSS"))}
        return got["VmRSS"] / 1024, got["VmHWM"] / 1024
    except (OSError, KeyError):
        return float("nan"), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
steps, rss = {}, {}
def step(name, t):
    steps[name] = time.perf_counter() - t
    rss[name] = status()
def fingerprint(panel):
    long = panel._long
    y = long["outcome"].to_numpy()
    cp = long["cohort_period"].to_numpy()
    per = long["period"].to_numpy()
    first = np.r_[True, long["unit"].to_numpy()[1:] != long["unit"].to_numpy()[:-1]]
    return {"n_obs": panel.n_obs, "n_units": panel.n_units, "n_periods": panel.n_periods,
            "periods": [str(panel.periods[0])[:7], str(panel.periods[-1])[:7]],
            "units": [str(long["unit"].iloc[0]), str(long["unit"].iloc[-1])],
            "trained_units": int((cp[first] > 0).sum()), "dropped": len(panel.dropped),
            "sum_outcome": math.fsum(y), "sum_outcome_x_period": math.fsum(y * per),
            "sum_cohort_period": int(cp.sum())}
"""

CHILD_PANDAS = COMMON + r"""
import impactlab as il
from impactlab.io.large import scan_completions, scan_kpis
d, program = sys.argv[1], sys.argv[2]
rss["imports"] = status()
t = time.perf_counter(); comp = scan_completions(d + "/transcript.csv", program=program)
step("scan_completions", t)
t = time.perf_counter(); kpis = scan_kpis(d + "/kpis.csv", time="month", metrics=["revenue"])
step("scan_kpis", t)
t = time.perf_counter()
panel = il.build_panel(kpis, comp, program=program, outcome="revenue")
step("build_panel", t)
print(json.dumps({"steps": steps, "rss": rss, "total": time.perf_counter() - t0,
                  "rows_read": comp.rows_read, "trained": len(comp.frame), "kpi_rows": len(kpis.frame),
                  "counts": comp.counts.to_dict(), "kpi_counts": kpis.counts.to_dict(),
                  "fingerprint": fingerprint(panel)}))
"""

CHILD_SQL = COMMON + r"""
import duckdb
import impactlab as il
from impactlab.io.large import timestamp_sql
from impactlab.panel import sql
from impactlab.schemas.vocab import extend_status_map, normalise_status
d, program = sys.argv[1], sys.argv[2]
rss["imports"] = status()
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
con.execute("SET enable_progress_bar = false")
tx = f"read_csv('{d}/transcript.csv', header=true, all_varchar=true)"
# canonical statuses through the readers' map, for the distinct raw statuses of the file
smap = extend_status_map(None)
raw = [r[0] for r in con.execute(f'SELECT DISTINCT "Transcript Status" FROM {tx}').fetchall()]
con.execute("CREATE TEMP TABLE st(s VARCHAR, status VARCHAR)")
con.executemany("INSERT INTO st VALUES (?, ?)", [[s, normalise_status(s, smap)] for s in raw if s])
done = timestamp_sql('trim("Transcript Completed Date")')
con.execute(f'''CREATE VIEW completions AS SELECT trim("User ID") AS employee_id,
    trim("Training Title") AS program, st.status AS status, {done} AS completed_at
    FROM {tx} LEFT JOIN st ON "Transcript Status" = st.s''')
con.execute(f'''CREATE VIEW kpis AS SELECT trim(employee_id) AS employee_id,
    CAST(strptime(trim(month), '%Y-%m') AS DATE) AS period, try_cast(trim(revenue) AS DOUBLE) AS revenue
    FROM read_csv('{d}/kpis.csv', header=true, all_varchar=true)''')
step("views and status map (DuckDB)", t)
t = time.perf_counter()
query = sql.panel_query("kpis", "completions", program=program, outcome="revenue")
# sql.fetch goes through Arrow (DuckDB's .df() builds a Python object per text value: seconds and GBs
# at 24M rows), dates as datetime64; no ORDER BY: Panel.from_frame sorts on integer codes
frame = sql.fetch(con, query)
con.close()
step("panel_query to pandas via Arrow (DuckDB)", t)
t = time.perf_counter()
panel = il.Panel.from_frame(frame, unit="unit", time="time", outcome="outcome", cohort="cohort")
step("Panel.from_frame", t)
print(json.dumps({"steps": steps, "rss": rss, "total": time.perf_counter() - t0, "kpi_rows": len(frame),
                  "fingerprint": fingerprint(panel)}))
"""


def generate(d: Path, rows: int, programmes: int, kpi_employees: int, months: int) -> dict[str, float]:
    """Write the two CSV files (skipped when ``d`` already holds them for the same parameters)."""
    import duckdb

    params = {"rows": rows, "programmes": programmes, "kpi_employees": kpi_employees, "months": months}
    stamp = d / "params.json"
    if stamp.exists() and json.loads(stamp.read_text())["params"] == params:
        return json.loads(stamp.read_text())["gen"]
    n_emp = rows // programmes
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(f"""
        COPY (
          SELECT 'E' || lpad(CAST(i % {n_emp} AS VARCHAR), 7, '0') AS "User ID",
                 'Programme ' || lpad(CAST(i // {n_emp} AS VARCHAR), 2, '0') AS "Training Title",
                 CASE WHEN hash(i) % 10 < 7 THEN 'Completed' WHEN hash(i) % 10 = 7 THEN 'In Progress'
                      WHEN hash(i) % 10 = 8 THEN 'Withdrawn' ELSE 'Passed' END AS "Transcript Status",
                 CASE WHEN hash(i) % 10 IN (7, 8) THEN NULL ELSE
                   strftime(TIMESTAMP '2023-01-01 08:00:00' + to_days(CAST(hash(i * 7 + 1) % 730 AS INTEGER)),
                            '%Y-%m-%d %H:%M:%S') END AS "Transcript Completed Date",
                 round((hash(i * 3) % 160) / 10.0, 1) AS "Training Hours"
          FROM range({rows}) t(i)
        ) TO '{d / "transcript.csv"}' (HEADER, DELIMITER ',')""")
    gen_t = time.perf_counter() - t
    t = time.perf_counter()
    con.execute(f"""
        COPY (
          SELECT 'E' || lpad(CAST(e AS VARCHAR), 7, '0') AS employee_id,
                 strftime(DATE '2023-01-01' + to_months(CAST(m AS INTEGER)), '%Y-%m') AS month,
                 round(10000 + (hash(e * 31 + m) % 5000) - 2500, 2) AS revenue
          FROM range({months}) b(m), range({kpi_employees}) a(e) ORDER BY m, e
        ) TO '{d / "kpis.csv"}' (HEADER, DELIMITER ',')""")
    con.close()
    gen = {"transcript_s": gen_t, "kpis_s": time.perf_counter() - t,
           "transcript_mb": (d / "transcript.csv").stat().st_size / 1e6,
           "kpis_mb": (d / "kpis.csv").stat().st_size / 1e6}
    stamp.write_text(json.dumps({"params": params, "gen": gen}))
    return gen


def measure(d: Path, route: str) -> dict:
    """Run one route in its own process; its figures."""
    code = CHILD_PANDAS if route == "pandas" else CHILD_SQL
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(d), PROGRAM], capture_output=True, text=True,
                         check=False)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"the {route} route failed:\n{out.stderr}")
    # the figures are the last line that is a JSON object (an engine may print progress bars before it)
    at = out.stdout.rfind('{"steps"')
    if at < 0:
        raise SystemExit(f"the {route} route printed no figures:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    res = json.loads(out.stdout[at:].splitlines()[0])
    res["peak_mb"] = max(v[1] for v in res["rss"].values())
    res["wall_s"] = wall
    return res


def agree(results: dict[str, dict]) -> list[str]:
    """Differences between the routes' panel fingerprints (empty: the same panel)."""
    if len(results) < 2:
        return []
    (a, fa), (b, fb) = ((k, v["fingerprint"]) for k, v in list(results.items())[:2])
    diffs = []
    for key in fa:
        x, y = fa[key], fb[key]
        same = abs(x - y) <= 1e-12 * max(abs(x), abs(y), 1.0) if isinstance(x, float) else x == y
        if not same:
            diffs.append(f"{key}: {a} {x!r} vs {b} {y!r}")
    return diffs


def write(results: dict[str, dict], gen: dict, args: argparse.Namespace, diffs: list[str]) -> str:
    import duckdb
    import pandas as pd

    import impactlab

    n_emp = args.rows // args.programmes
    kpi_rows = args.kpi_employees * args.months
    lines = [SECTION, "",
             "Measured by `benchmarks/panel_build.py` (run it to refresh this section). The same files feed "
             f"both routes: a {args.rows:,}-row transcript CSV ({gen['transcript_mb']:,.0f} MB; {n_emp:,} "
             f"employees x {args.programmes} programmes) and a {kpi_rows:,}-row KPI CSV "
             f"({gen['kpis_mb']:,.0f} MB; {args.kpi_employees:,} employees x {args.months} months, appended "
             "month by month). Each route builds the panel of one programme in its own process.", "",
             "| route | step | wall time (s) | resident after (MB) | peak so far (MB) |",
             "|---|---|---:|---:|---:|"]
    for route, res in results.items():
        for name, secs in res["steps"].items():
            now, peak = res["rss"][name]
            lines.append(f"| {route} | `{name}` | {secs:.1f} | {now:,.0f} | {peak:,.0f} |")
        lines.append(f"| {route} | **whole process, imports included** | **{res['wall_s']:.1f}** | | "
                     f"**{res['peak_mb']:,.0f}** |")
    lines.append("")
    fp = next(iter(results.values()))["fingerprint"]
    lines.append(f"Panel: {fp['n_obs']:,} observations of {fp['n_units']:,} units over {fp['n_periods']} "
                 f"periods ({fp['periods'][0]} to {fp['periods'][1]}); {fp['trained_units']:,} trained "
                 f"units; {fp['dropped']:,} rows dropped.")
    if len(results) > 1:
        lines.append("The routes build the same panel: " + ("observations, units, periods, trained units "
                     "and the checksums of the outcome and cohort positions agree." if not diffs
                     else "**NO**: " + "; ".join(diffs)))
    if "pandas" in results:
        res = results["pandas"]
        lines.append(f"Transcript rows of the programme read: {res['rows_read']:,}; employees with a first "
                     f"completion: {res['trained']:,}. Row accounting of the transcript scan: "
                     + ", ".join(f"{k} {v:,}" for k, v in res["counts"].items())
                     + "; of the KPI scan: " + ", ".join(f"{k} {v:,}" for k, v in res["kpi_counts"].items())
                     + ".")
    lines += ["", f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}, "
              f"DuckDB {duckdb.__version__}, pandas {pd.__version__}, impactlab {impactlab.__version__}; "
              "2 CPU cores shared with other work, so the times are indicative. (Generating the files took "
              f"{gen['transcript_s'] + gen['kpis_s']:.0f} s and is not counted.)", ""]
    return "\n".join(lines)


def replace_section(text: str) -> None:
    """Put ``text`` in place of this script's section of RESULTS.md (any earlier heading of it)."""
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^" + re.escape(SECTION_PREFIX) + r".*?(?=\n## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda m: text.rstrip() + "\n", old, count=1)
    else:
        new = old.rstrip() + "\n\n" + text
    RESULTS.write_text(new, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="transcript rows (default 10,000,000)")
    ap.add_argument("--programmes", type=int, default=10, help="programmes in the transcript (default 10)")
    ap.add_argument("--kpi-employees", type=int, default=None,
                    help="employees in the KPI table (default: rows / programmes)")
    ap.add_argument("--months", type=int, default=24, help="months of KPIs (default 24)")
    ap.add_argument("--routes", default=",".join(ROUTES), help="comma-separated: pandas, sql (default both)")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="keep the generated files here and reuse them (default: a temporary directory)")
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave RESULTS.md alone")
    args = ap.parse_args()
    if args.kpi_employees is None:
        args.kpi_employees = args.rows // args.programmes
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = sorted(set(routes) - set(ROUTES))
    if unknown:
        ap.error(f"unknown routes {unknown}; choose from {ROUTES}")
    tmp = None
    if args.workdir is None:
        tmp = tempfile.mkdtemp(prefix="impactlab-bench-")
        d = Path(tmp)
    else:
        d = args.workdir
        d.mkdir(parents=True, exist_ok=True)
    try:
        gen = generate(d, args.rows, args.programmes, args.kpi_employees, args.months)
        results = {route: measure(d, route) for route in routes}
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    diffs = agree(results)
    text = write(results, gen, args, diffs)
    print(text)
    print(json.dumps(results, indent=1), file=sys.stderr)
    if not args.no_write:
        replace_section(text)
    if diffs:
        raise SystemExit("the routes disagree: " + "; ".join(diffs))


if __name__ == "__main__":
    main()
