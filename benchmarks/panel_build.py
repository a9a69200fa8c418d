"""Large-export benchmark: a 10-million-row transcript and a 1-million-row KPI table to a panel via DuckDB.

Generates, under a temporary directory (deleted afterwards):

* ``transcript.csv``: ``--rows`` rows (default 10,000,000) = ``--rows / 50`` employees x 50 programmes,
  one row each, statuses mixed (70 % Completed, 10 % In Progress, 10 % Withdrawn, 10 % Passed), completion
  dates over 2023-2024 (blank unless completed or passed);
* ``kpis.csv``: ``--kpi-employees`` employees (default 41,667) x 24 months = 1,000,008 rows of revenue.

Then, in a *separate process* (so its memory is its own), runs ``scan_completions`` (one programme),
``scan_kpis`` and ``build_panel`` and reports the wall time of each step and the peak resident memory of
that process (``VmHWM`` of ``/proc/self/status``, read by the process itself: ``ru_maxrss`` of a child
would also count this parent's size at the fork). The figures go to
``benchmarks/RESULTS.md`` under "Panel build from a 10-million-row transcript" (replaced on each run).

Usage::

    .venv/bin/python benchmarks/panel_build.py            # the full size (a few minutes, ~1 GB of disk)
    .venv/bin/python benchmarks/panel_build.py --rows 1000000 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
SECTION = "## Panel build from a 10-million-row transcript"
PROGRAM = "Programme 00"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
def vmhwm():
    # the peak resident size of this process image only (ru_maxrss also counts the parent at the fork)
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
import impactlab as il
from impactlab.io.large import scan_completions, scan_kpis
d = sys.argv[1]
steps = {}
t = time.perf_counter(); comp = scan_completions(d + "/transcript.csv", program=sys.argv[2])
steps["scan_completions"] = time.perf_counter() - t
t = time.perf_counter(); kpis = scan_kpis(d + "/kpis.csv", time="month", metrics=["revenue"])
steps["scan_kpis"] = time.perf_counter() - t
t = time.perf_counter()
panel = il.build_panel(kpis, comp, program=sys.argv[2], outcome="revenue")
steps["build_panel"] = time.perf_counter() - t
print(json.dumps({"steps": steps, "total": time.perf_counter() - t0,
                  "rows_read": comp.rows_read, "trained": len(comp.frame), "kpi_rows": len(kpis.frame),
                  "panel_obs": panel.n_obs, "panel_units": panel.n_units, "counts": comp.counts.to_dict(),
                  "vmhwm_kb": vmhwm()}))
"""


def generate(d: Path, rows: int, kpi_employees: int) -> dict[str, float]:
    import duckdb

    n_emp = rows // 50
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
          FROM range({kpi_employees}) a(e), range(24) b(m)
        ) TO '{d / "kpis.csv"}' (HEADER, DELIMITER ',')""")
    con.close()
    return {"transcript_s": gen_t, "kpis_s": time.perf_counter() - t,
            "transcript_mb": (d / "transcript.csv").stat().st_size / 1e6,
            "kpis_mb": (d / "kpis.csv").stat().st_size / 1e6}


def measure(d: Path) -> dict:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, str(d), PROGRAM], capture_output=True, text=True,
                         check=False)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"the measured process failed:\n{out.stderr}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["peak_mb"] = res["vmhwm_kb"] / 1024  # kilobytes on Linux
    res["wall_s"] = wall
    return res


def write(res: dict, gen: dict, rows: int, kpi_rows: int) -> str:
    import duckdb
    import pandas as pd

    import impactlab

    s = res["steps"]
    text = f"""{SECTION}

Measured by `benchmarks/panel_build.py` (run it to refresh this section). One process reads a
{rows:,}-row transcript CSV ({gen['transcript_mb']:,.0f} MB; {rows // 50:,} employees x 50 programmes) and
a {kpi_rows:,}-row KPI CSV ({gen['kpis_mb']:,.0f} MB; employees x 24 months) and builds the panel of one
programme: `scan_completions` -> `scan_kpis` -> `build_panel`.

| step | wall time (s) |
|---|---:|
| `scan_completions` (DuckDB: 4 of 5 columns, 1 of 50 programmes) | {s['scan_completions']:.1f} |
| `scan_kpis` (DuckDB) | {s['scan_kpis']:.1f} |
| `build_panel` (pandas) | {s['build_panel']:.1f} |
| whole process, imports included | {res['wall_s']:.1f} |

**Peak resident memory of the process: {res['peak_mb']:,.0f} MB** (`VmHWM`; target: under 2,048 MB).
Transcript rows of the programme read: {res['rows_read']:,}; employees with a first completion:
{res['trained']:,}; panel: {res['panel_obs']:,} observations of {res['panel_units']:,} units.
Row accounting of the scan: {', '.join(f'{k} {v:,}' for k, v in res['counts'].items())}.

Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()},
DuckDB {duckdb.__version__}, pandas {pd.__version__}, impactlab {impactlab.__version__};
2 CPU cores shared with other work, so the times are indicative.
(Generating the files took {gen['transcript_s'] + gen['kpis_s']:.0f} s and is not counted.)
"""
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--kpi-employees", type=int, default=41_667)
    ap.add_argument("--no-write", action="store_true", help="print the figures, leave RESULTS.md alone")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="impactlab-bench-") as tmp:
        d = Path(tmp)
        gen = generate(d, args.rows, args.kpi_employees)
        res = measure(d)
    text = write(res, gen, args.rows, args.kpi_employees * 24)
    print(text)
    if args.no_write:
        return
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    new = pattern.sub(lambda m: text.rstrip() + "\n", old) if SECTION in old else old.rstrip() + "\n\n" + text
    RESULTS.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
