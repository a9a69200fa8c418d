"""Where impactlab's time and memory go: cProfile of one estimator on the benchmark data.

Usage::

    python benchmarks/profile_impactlab.py cs   DATA.parquet [--covariates x1,x2] [--top 15]
    python benchmarks/profile_impactlab.py twfe DATA.parquet

Prints the functions with the largest cumulative time, the wall time of each stage (panel building,
estimation) and the peak resident memory after each stage (``VmHWM``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from worker import _rss_mb  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("task", choices=["cs", "twfe", "cs_fast", "twfe_fast"])
    ap.add_argument("data", type=Path)
    ap.add_argument("--covariates", default="")
    ap.add_argument("--top", type=int, default=18)
    a = ap.parse_args(argv)
    import impactlab as il

    covs = [c for c in a.covariates.split(",") if c] or None
    cols = ["id", "t", "g", "y", *(covs or []), *(["d"] if a.task.startswith("twfe") else [])]
    df = pd.read_parquet(a.data, columns=cols)  # the columns the task needs, as the benchmark workers read
    print(f"data read: peak {_rss_mb():.0f} MB")
    prof = cProfile.Profile()
    prof.enable()
    t0 = time.perf_counter()
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=covs)
    t1 = time.perf_counter()
    print(f"Panel.from_frame: {t1 - t0:.2f} s, peak {_rss_mb():.0f} MB")
    if a.task == "cs":
        res = il.callaway_santanna(panel, covariates=covs)
    elif a.task == "twfe":
        res = il.twfe(panel)
    elif a.task == "cs_fast":
        from impactlab.estimators.callaway_santanna import moments as fast

        _, y, gp = fast.balanced_arrays(panel)
        cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp))
        res = fast.simple_from_moments(cells)
    else:
        from impactlab.estimators._fast_twfe import twfe_balanced

        res = twfe_balanced(panel)
    t2 = time.perf_counter()
    prof.disable()
    print(f"estimation: {t2 - t1:.2f} s, peak {_rss_mb():.0f} MB; result {res!r}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(a.top)
    print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
