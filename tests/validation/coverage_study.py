"""Coverage study: bias, RMSE and 95 % coverage of impactlab's estimators on simulated organisations.

Each design has a known true effect; every replication draws a new organisation (seeded by its index),
estimates the effect and records whether the 95 % confidence interval covers the truth. Designs:

* ``callaway_santanna`` — a staggered rollout (cohorts 3, 4, 5 and never trained, 6 periods) with effects
  that grow with time since training (1 + 0.5 e), unit and period effects; the estimand is the ``simple``
  aggregation, computed from the drawn cohort sizes. Also the cumulative effect over event times 0..2 (true
  value 4.5), the number an ROI over a horizon uses.
* ``sun_abraham`` — the same rollout; the estimand is the mean of the event-time effects 0..3 (1.75).
* ``drdid`` (panel and repeated cross-sections) — two periods, selection into training on covariates that
  also drive the outcome trend (so the unadjusted comparison is biased), constant effect 1.
* ``wild_bootstrap`` — TWFE with a constant effect 1 assigned by team, 12 teams with team × period shocks:
  few clusters, where the wild cluster bootstrap (Webb weights, null imposed) is the right inference.

Run the full study (500 organisations per estimator, about 10 minutes on 2 cores) and write the table::

    python tests/validation/coverage_study.py --reps 500 --workers 2 --out docs/validation.md

``tests/validation/test_coverage.py`` runs a small version by default and the full one under ``-m slow``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd

import impactlab as il
from impactlab.panel.panel import Panel

DYNAMIC = (1.0, 0.5)  # effect at event time e: DYNAMIC[0] + DYNAMIC[1] * e
LEVEL = 0.95


def _effect(e: np.ndarray) -> np.ndarray:
    return np.where(e >= 0, DYNAMIC[0] + DYNAMIC[1] * e, 0.0)


def staggered_panel(seed: int, n: int = 300, periods: int = 6) -> tuple[Panel, float]:
    """A staggered rollout and the true ``simple`` ATT of Callaway & Sant'Anna for the drawn cohorts."""
    rng = np.random.default_rng(seed)
    g = rng.choice([3, 4, 5, 0], size=n, p=[0.2, 0.2, 0.2, 0.4])
    alpha = rng.normal(size=n) + 0.5 * (g > 0)
    t = np.arange(1, periods + 1)
    gamma = 0.3 * t + rng.normal(scale=0.2, size=periods)
    e = t[None, :] - g[:, None]
    treated = (g > 0)[:, None]
    y = alpha[:, None] + gamma[None, :] + np.where(treated, _effect(e), 0.0) + rng.normal(size=(n, periods))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), periods), "t": np.tile(t, n), "g": np.repeat(g, periods),
                       "y": y.ravel()})
    sizes = {c: int((g == c).sum()) for c in (3, 4, 5)}
    num = sum(sizes[c] * _effect(np.array([p - c]))[0] for c in sizes for p in t if p >= c)
    den = sum(sizes[c] for c in sizes for p in t if p >= c)
    return Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"), float(num / den)


def two_period(seed: int, n: int = 1000, panel: bool = True) -> pd.DataFrame:
    """Two periods; training more likely for high x1, whose units also trend up: effect 1."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * x1 - 0.3 * x2)))).astype(float)
    base = 1 + x1 + 0.5 * x2 + rng.normal(size=n)
    trend = 0.5 + 0.8 * x1 - 0.3 * x2
    if panel:
        y1 = base + trend + d * 1.0 + rng.normal(size=n)
        return pd.DataFrame({"id": np.r_[np.arange(n), np.arange(n)], "post": np.r_[np.zeros(n), np.ones(n)],
                             "d": np.r_[d, d], "y": np.r_[base, y1], "x1": np.r_[x1, x1],
                             "x2": np.r_[x2, x2]})
    post = (rng.random(n) < 0.5).astype(float)
    y = base + post * (trend + d * 1.0) + 0.4 * d + rng.normal(size=n)
    return pd.DataFrame({"post": post, "d": d, "y": y, "x1": x1, "x2": x2})


def team_panel(seed: int, teams: int = 12, per_team: int = 20, periods: int = 6) -> Panel:
    """Training assigned by team (4 teams at period 3, 4 at period 5, 4 never), team × period shocks."""
    rng = np.random.default_rng(seed)
    n = teams * per_team
    team = np.repeat(np.arange(teams), per_team)
    team_g = np.repeat([3, 5, 0], teams // 3)[rng.permutation(teams)]
    g = team_g[team]
    t = np.arange(1, periods + 1)
    shock = rng.normal(scale=0.5, size=(teams, periods))[team]
    y = (rng.normal(size=n)[:, None] + 0.3 * t[None, :] + shock
         + ((g[:, None] > 0) & (t[None, :] >= g[:, None])) * 1.0 + rng.normal(size=(n, periods)))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), periods), "t": np.tile(t, n), "g": np.repeat(g, periods),
                       "team": np.repeat(team, periods), "y": y.ravel()})
    return Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team")


def _interval(res: object) -> tuple[float, float, float, float]:
    lo, hi = res.conf_int(LEVEL)  # type: ignore[attr-defined]
    return float(res.estimate), float(res.std_error), float(lo), float(hi)  # type: ignore[attr-defined]


def rep_callaway_santanna(seed: int) -> list[tuple[str, float, float, float, float, float]]:
    panel, truth = staggered_panel(seed)
    cs = il.callaway_santanna(panel)
    return [("callaway_santanna (simple)", truth, *_interval(cs.aggregate("simple"))),
            ("callaway_santanna (cumulative 0..2)", float(_effect(np.arange(3)).sum()),
             *_interval(cs.cumulative(2)))]


def rep_sun_abraham(seed: int) -> list[tuple[str, float, float, float, float, float]]:
    panel, _ = staggered_panel(seed)
    res = il.sun_abraham(panel)
    return [("sun_abraham (mean of e = 0..3)", float(_effect(np.arange(4)).mean()),
             *_interval(res.event_time_mean))]


def rep_drdid(seed: int) -> list[tuple[str, float, float, float, float, float]]:
    out = []
    for panel in (True, False):
        df = two_period(seed, panel=panel)
        res = il.drdid_frame(df, outcome="y", treated="d", post="post", unit="id" if panel else None,
                             covariates=["x1", "x2"], method="dr")
        out.append((f"drdid (dr, {'panel' if panel else 'repeated cross-sections'})", 1.0, *_interval(res)))
    return out


def rep_wild_bootstrap(seed: int) -> list[tuple[str, float, float, float, float, float]]:
    from impactlab.estimators.wild_bootstrap import wild_bootstrap

    res = wild_bootstrap(team_panel(seed), "twfe", n_draws=999, multiplier="webb", seed=seed)
    return [("twfe + wild cluster bootstrap (12 teams)", 1.0, *_interval(res))]


STUDIES: dict[str, Callable[[int], list[tuple[str, float, float, float, float, float]]]] = {
    "callaway_santanna": rep_callaway_santanna, "sun_abraham": rep_sun_abraham, "drdid": rep_drdid,
    "wild_bootstrap": rep_wild_bootstrap}


def _run_one(args: tuple[str, int]) -> list[tuple[str, float, float, float, float, float]]:
    name, seed = args
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return STUDIES[name](seed)


def run(reps: int, workers: int = 1, studies: tuple[str, ...] = tuple(STUDIES)) -> pd.DataFrame:
    """Replicate every study ``reps`` times (seeds 0..reps-1); one row per replication and estimand."""
    jobs = [(name, seed) for name in studies for seed in range(reps)]
    if workers > 1:
        with Pool(min(workers, 2)) as pool:
            parts = pool.map(_run_one, jobs, chunksize=10)
    else:
        parts = [_run_one(j) for j in jobs]
    rows = [r for p in parts for r in p]
    cols = ["estimator", "truth", "estimate", "std_error", "conf_low", "conf_high"]
    return pd.DataFrame(rows, columns=cols)


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE, mean standard error, empirical SD and coverage per estimator."""
    d = draws.assign(err=draws["estimate"] - draws["truth"],
                     cover=(draws["conf_low"] <= draws["truth"]) & (draws["truth"] <= draws["conf_high"]))
    g = d.groupby("estimator", sort=False)
    return pd.DataFrame({
        "reps": g.size(), "mean truth": g["truth"].mean(), "bias": g["err"].mean(),
        "RMSE": g["err"].apply(lambda e: float(np.sqrt(np.mean(e**2)))), "mean SE": g["std_error"].mean(),
        "SD of estimates": g["err"].std(), "coverage 95%": g["cover"].mean(),
    }).reset_index()


def markdown(table: pd.DataFrame, reps: int, seconds: float) -> str:
    lines = ["| estimator | reps | mean truth | bias | RMSE | mean SE | SD of estimates | coverage 95 % |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in table.iterrows():
        lines.append(f"| {r['estimator']} | {r['reps']} | {r['mean truth']:.4f} | {r['bias']:+.4f} | "
                     f"{r['RMSE']:.4f} | {r['mean SE']:.4f} | {r['SD of estimates']:.4f} | "
                     f"{r['coverage 95%']:.1%} |")
    return "\n".join(lines) + f"\n\n{reps} simulated organisations per estimator; {seconds:.0f} s.\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--workers", type=int, default=2, help="processes (at most 2)")
    ap.add_argument("--out", type=Path, default=None, help="markdown file whose table section is replaced")
    ap.add_argument("--studies", nargs="*", default=list(STUDIES), choices=list(STUDIES))
    a = ap.parse_args(argv)
    start = time.perf_counter()
    table = summarise(run(a.reps, a.workers, tuple(a.studies)))
    md = markdown(table, a.reps, time.perf_counter() - start)
    print(md)
    if a.out is not None:
        text = a.out.read_text(encoding="utf-8") if a.out.exists() else ""
        begin, end = "<!-- coverage-table -->", "<!-- /coverage-table -->"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            text = head + begin + "\n" + md + end + rest.split(end, 1)[1]
        else:
            text = text + "\n" + begin + "\n" + md + end + "\n"
        a.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
