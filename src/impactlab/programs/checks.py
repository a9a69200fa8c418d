"""The checks of :func:`impactlab.portfolio`: each programme's dip before training, found by the rule
:func:`impactlab.evaluate` uses, and each programme's pre-training effects.

* **Dip before training** (per programme): the level event study of :func:`impactlab.evaluate`'s dip rule
  (``evaluate.probe``, ``evaluate.dip_window``: Callaway–Sant'Anna on the programme's own panel, universal
  base ``PROBE + 1`` periods before completion; the window is the furthest of the ``PROBE`` periods just
  before completion whose level differs at 5 %, Bonferroni). With fewer than ``FEW_CLUSTERS`` clusters the
  widest window the rule allows is used, as evaluate does.
* **Pre-training effects** (per programme): Test 1 of Borusyak, Jaravel & Spiess (2024) on the
  observations no programme has reached: the outcome on unit and period effects and, for every programme,
  one indicator per event time in the ``PROBE`` periods before its anticipation window; each programme's
  indicators tested jointly (cluster-robust CR1, F with ``G - 1`` denominator degrees of freedom).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.analysis.evaluate import PRETREND_FAIL, PROBE, dip_deviations, dip_seen, dip_window, probe
from impactlab.estimators.inference import demean
from impactlab.panel import Panel
from impactlab.results.evaluation import CHECK_COLUMNS
from impactlab.results.evaluation import number as _fmt

__all__ = ["VALIDATED_CLUSTERS", "Dip", "clusters_row", "dip_of", "lead_tests", "pretrend_row"]


#: The fewest clusters at which portfolio's Student-t intervals were checked on simulated organisations
#: (tests/validation/portfolio_clusters_study.py, docs/validation.md).
VALIDATED_CLUSTERS = 12
#: What that check found, quoted by the clusters check: with 12 teams, and with 6.
CLUSTERS_HELD = ("on 100 simulated organisations with 12 teams they held each of three programmes' "
                 "truth 94 to 97 times")
CLUSTERS_MISSED = ("on simulated organisations with 6 teams the interval of the programme booked by team "
                   "held its truth in only 40 of 50, its standard error about half the spread of its "
                   "estimates")


def _row(check: str, status: str, seen: str, meaning: str, what_to_do: str = "") -> dict[str, str]:
    return dict(zip(CHECK_COLUMNS, (check, status, seen, meaning, what_to_do), strict=True))


@dataclass(frozen=True)
class Dip:
    """One programme's dip: the window the rule sets (``None`` when it could not be measured) and the
    check's row."""

    window: int | None
    row: dict[str, str]


def dip_of(panel: Panel, title: str, n_clusters: int, few_clusters: int) -> Dip:
    """The dip rule of :func:`impactlab.evaluate` on one programme's panel."""
    check = f"dip before training: {title}"
    with warnings.catch_warnings():
        # the probe's own cautions (balanced panel, small cohorts) are about the probe, not the estimate
        warnings.simplefilter("ignore")
        dev = dip_deviations(probe(panel))
    if dev is None or not len(dev):
        return Dip(None, _row(check, "warn", "could not be measured (too few periods before the first "
                              "completion)", "a dip before completion would bias this programme's effect "
                              "upward and cannot be ruled out here."))
    a = dip_window(dev, n_clusters)
    seen = dip_seen(dev, "completion")
    if a >= PROBE:
        return Dip(PROBE - 1, _row(
            check, "fail", seen,
            f"the outcome of those who took it moves as early as {PROBE} periods before completion, as far "
            "back as this check can see: a dip that long, or trends that differ, cannot be separated from "
            "the effect.", "Find out when employees were nominated and whether they were chosen after a bad "
            "spell; this programme's number cannot be called causal from these data."))
    if n_clusters < few_clusters:
        return Dip(PROBE - 1, _row(
            check, "warn", seen, f"with {n_clusters} clusters a dip cannot be measured reliably: the widest "
            f"window the rule allows ({PROBE - 1} periods before completion) is left out."))
    if a == 0:
        return Dip(0, _row(check, "pass", seen, "no significant change in the periods just before "
                           "completion."))
    return Dip(a, _row(check, "warn", seen, f"a dip (or rise) in the {a} period(s) before completion: they "
                       "are left out of the comparison (anticipation window), so it does not inflate the "
                       "effect."))


def lead_tests(unit: np.ndarray, period: np.ndarray, y: np.ndarray, cluster: np.ndarray,
               cohorts: np.ndarray, anticipation: int) -> list[tuple[pd.DataFrame, float, int, int] | None]:
    """Per programme: its leads (event_time, estimate, std_error, n_obs), the p-value of their joint
    F test, its numerator and denominator degrees of freedom; ``None`` where a programme has no lead.

    Parameters as in :func:`impactlab.estimators._portfolio_fit.joint_fit`.
    """
    a = int(anticipation)
    n_prog = cohorts.shape[1]
    reached = (cohorts > 0) & (period[:, None] >= cohorts - a)
    keep = ~reached.any(axis=1)
    ev = period[keep][:, None] - cohorts[keep]
    on = cohorts[keep] > 0
    cols: list[tuple[int, int]] = []
    blocks: list[np.ndarray] = []
    for p in range(n_prog):
        for e in range(-a - PROBE, -a):
            d = on[:, p] & (ev[:, p] == e)
            if d.sum() > 0:
                cols.append((p, e))
                blocks.append(d.astype("float64"))
    out: list[tuple[pd.DataFrame, float, int, int] | None] = [None] * n_prog
    if not cols:
        return out
    codes, uniq = pd.factorize(cluster[keep], sort=False)
    G = len(uniq)
    if G < 2:
        return out
    within = demean(np.column_stack([y[keep], *blocks]), [unit[keep], period[keep]])
    yw, X = within[:, 0], within[:, 1:]
    xtx = X.T @ X
    if np.linalg.matrix_rank(xtx) < X.shape[1]:
        return out
    bread = np.linalg.inv(xtx)
    beta = bread @ (X.T @ yw)
    resid = yw - X @ beta
    scores = np.zeros((G, X.shape[1]))
    np.add.at(scores, codes, X * resid[:, None])
    n, k = X.shape
    n_periods = len(np.unique(period[keep]))
    adj = G / (G - 1) * (n - 1) / max(n - k - n_periods, 1)
    V = adj * bread @ (scores.T @ scores) @ bread
    n_obs = np.array([b.sum() for b in blocks])
    prog = np.array([p for p, _ in cols])
    for p in range(n_prog):
        idx = np.flatnonzero(prog == p)
        if not len(idx):
            continue
        b, v = beta[idx], V[np.ix_(idx, idx)]
        q = len(idx)
        try:
            f = float(b @ np.linalg.solve(v, b)) / q
        except np.linalg.LinAlgError:
            continue
        leads = pd.DataFrame({"event_time": [cols[i][1] for i in idx], "estimate": b,
                              "std_error": np.sqrt(np.clip(np.diag(v), 0.0, None)),
                              "n_obs": n_obs[idx].astype(np.int64)})
        out[p] = (leads, float(stats.f.sf(f, q, G - 1)), q, G - 1)
    return out


def pretrend_row(title: str, test: tuple[pd.DataFrame, float, int, int] | None) -> dict[str, str]:
    """The check's row for one programme's pre-training effects."""
    check = f"pre-training effects: {title}"
    if test is None:
        return _row(check, "warn", "no observation before the anticipation window to test",
                    "parallel trends cannot be checked for this programme.")
    leads, p, q, dfd = test
    z = (leads["estimate"] / leads["std_error"]).abs()
    worst = leads.loc[z.idxmax()]
    seen = (f"joint F({q}, {dfd}) test of event times {int(leads['event_time'].min())} to "
            f"{int(leads['event_time'].max())}: p = {p:.3g}; largest {_fmt(float(worst['estimate']))} at "
            f"event time {int(worst['event_time'])} ({float(z.max()):.1f} SE)")
    if p < PRETREND_FAIL:
        return _row(check, "fail", seen, "before completion (and before the anticipation window), those who "
                    "took it already moved differently from those no programme had reached: its effect "
                    "mixes that difference in.", "This programme's number cannot be called causal; its "
                    "result's elements and the leads show when the groups part.")
    if p < 0.05:
        return _row(check, "warn", seen, f"some difference before completion (p < 0.05), short of the "
                    f"{PRETREND_FAIL} that fails the check.")
    return _row(check, "pass", seen, "no clear difference before completion (a test that passes is not "
                "proof).")


def clusters_row(n_clusters: int, cluster: str | None, few_clusters: int) -> dict[str, str]:
    """The clusters check: enough clusters, Student's t validated at this many, or not validated."""
    what = "employees" if cluster is None else f"values of {cluster!r}"
    seen = f"standard errors clustered on {n_clusters:,} {what}"
    if n_clusters >= few_clusters:
        return _row("clusters", "pass", seen, "enough clusters for clustered standard errors.")
    seen += f"; intervals from Student's t with {n_clusters - 1} degrees of freedom (CR1)"
    if n_clusters >= VALIDATED_CLUSTERS:
        return _row("clusters", "warn", seen, f"with fewer than {few_clusters} clusters clustered standard "
                    f"errors are too small and Student's t widens the intervals: {CLUSTERS_HELD} "
                    "(docs/validation.md).")
    return _row("clusters", "fail", seen, f"with fewer than {VALIDATED_CLUSTERS} clusters the intervals are "
                f"too narrow: {CLUSTERS_MISSED} (docs/validation.md).",
                "If training was not assigned by these groups and outcomes are not shared within them, leave "
                "out cluster= (the employee); otherwise no interval here is reliable.")
