"""Synthetic difference-in-differences against diff-diff's ``SyntheticDiD`` (Arkhangelsky et al. 2021).

California Proposition 99 (R ``synthdid``'s ``california_prop99``: 39 states, 1970–2000, California treated
from 1989), and a simulated pilot of three teams. diff-diff 3.13 reproduces R ``synthdid``'s Frank–Wolfe
weights and its placebo draws (``numpy.random.default_rng(seed).permutation`` per draw); impactlab draws the
same permutations, so with the same seed the placebo standard errors are equal, not only close.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactlab as il

dd = pytest.importorskip("diff_diff")

#: Both run the same Frank–Wolfe iterations with the same stopping rule (diff-diff on a rescaled outcome,
#: impactlab with running sums): estimates and weights agree to ~1e-12; 1e-6 is the brief's bound.
TOL = 1e-6

PROP99 = Path(__file__).resolve().parents[1] / "published" / "data" / "california_prop99.csv"


def _prop99() -> pd.DataFrame:
    df = pd.read_csv(PROP99, sep=";")
    df["ever"] = df.groupby("State")["treated"].transform("max").astype(int)
    df["cohort"] = np.where(df["ever"] == 1, 1989, 0)
    return df


def _diff_diff(df: pd.DataFrame, n_draws: int, seed: int, **cols: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = dd.SyntheticDiD(variance_method="placebo", n_bootstrap=n_draws, seed=seed)
        return est.fit(df, **cols)


def _compare(ours: il.SyntheticResult, theirs: object, draws_equal: bool = True) -> None:
    assert ours.estimate == pytest.approx(theirs.att, abs=TOL)
    uw = dict(zip(ours.unit_weights["unit"], ours.unit_weights["weight"], strict=True))
    assert set(uw) == set(theirs.unit_weights)
    for u, w in theirs.unit_weights.items():
        assert uw[u] == pytest.approx(w, abs=TOL), u
    tw = dict(zip(ours.time_weights["time"], ours.time_weights["weight"], strict=True))
    for t, w in theirs.time_weights.items():
        assert tw[t] == pytest.approx(w, abs=TOL), t
    if draws_equal:
        assert ours.std_error == pytest.approx(theirs.se, rel=1e-8)


def test_prop99_equals_diff_diff_with_the_same_placebo_draws() -> None:
    df = _prop99()
    panel = il.Panel.from_frame(df, unit="State", time="Year", outcome="PacksPerCapita", cohort="cohort")
    ours = il.synthetic_did(panel, n_draws=20, seed=0)
    theirs = _diff_diff(df, 20, 0, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
                        post_periods=list(range(1989, 2001)))
    _compare(ours, theirs)
    assert ours.estimate == pytest.approx(-15.603827872733866, abs=1e-9)
    assert ours.spec["zeta_omega"] == pytest.approx(theirs.zeta_omega, rel=1e-12)
    assert ours.spec["noise_level"] == pytest.approx(theirs.noise_level, rel=1e-12)
    np.testing.assert_allclose(np.sort(ours.draws), np.sort(theirs.variance_effects), atol=TOL)


@pytest.mark.slow
def test_prop99_placebo_se_with_200_draws_equals_diff_diff() -> None:
    df = _prop99()
    panel = il.Panel.from_frame(df, unit="State", time="Year", outcome="PacksPerCapita", cohort="cohort")
    ours = il.synthetic_did(panel, n_draws=200, seed=0)
    theirs = _diff_diff(df, 200, 0, outcome="PacksPerCapita", treatment="ever", unit="State", time="Year",
                        post_periods=list(range(1989, 2001)))
    _compare(ours, theirs)
    assert ours.std_error == pytest.approx(10.276745834556, rel=1e-9)


def test_three_pilot_teams_equal_diff_diff() -> None:
    rng = np.random.default_rng(5)
    n, T, start = 25, 14, 10
    level = rng.normal(100, 10, n)
    trend = rng.normal(1.0, 0.3, n)
    rows = []
    for u in range(n):
        for t in range(1, T + 1):
            effect = 4.0 if u < 3 and t >= start else 0.0
            rows.append((f"team{u:02d}", t, level[u] + trend[u] * t + effect + rng.normal(0, 1.5),
                         start if u < 3 else 0, int(u < 3)))
    df = pd.DataFrame(rows, columns=["team", "month", "sales", "cohort", "ever"])
    panel = il.Panel.from_frame(df, unit="team", time="month", outcome="sales", cohort="cohort")
    ours = il.synthetic_did(panel, n_draws=30, seed=3)
    theirs = _diff_diff(df, 30, 3, outcome="sales", treatment="ever", unit="team", time="month",
                        post_periods=list(range(start, T + 1)))
    _compare(ours, theirs)
