"""dose_response on unbalanced panels (each comparison with the employees observed in both of its periods),
and the variance of the overall averages with the doses and cohort shares counted as drawn: by hand, and
coverage of a known truth on simulated organisations with hires and leavers
(tests/validation/dose_response_study.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import StatisticalWarning

_spec = importlib.util.spec_from_file_location(
    "dose_response_study", Path(__file__).parents[1] / "validation" / "dose_response_study.py")
study = importlib.util.module_from_spec(_spec)
sys.modules["dose_response_study"] = study
_spec.loader.exec_module(study)


def _frame(n: int = 90, periods: int = 4, cohorts: tuple[int, ...] = (3,), seed: int = 0) -> pd.DataFrame:
    """A third never trained, the rest split over ``cohorts``; hours uniform on 1..5; ATT(d) = 1 + d^2 / 2."""
    rng = np.random.default_rng(seed)
    g = np.zeros(n, dtype=int)
    g[n // 3:] = np.array(cohorts)[np.arange(n - n // 3) % len(cohorts)]
    d = np.where(g > 0, rng.uniform(1, 5, n), 0.0)
    fe = rng.normal(0, 2, n)
    rows = [(i, t, fe[i] + 0.5 * t + ((1 + 0.5 * d[i] ** 2) * (1 + (t - g[i])) if g[i] and t >= g[i] else 0.0)
             + rng.normal(), g[i], d[i]) for i in range(n) for t in range(1, periods + 1)]
    return pd.DataFrame(rows, columns=["id", "t", "y", "g", "hours"])


def _panel(frame: pd.DataFrame) -> il.Panel:
    return il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g", covariates=["hours"])


def _gappy(f: pd.DataFrame) -> pd.DataFrame:
    """Employee 89 (trained) leaves after period 3, 88 (trained) is hired in period 3, 0 (never trained)
    misses period 3, 1 (never trained) is seen in period 1 only."""
    gone = (((f["id"] == 89) & (f["t"] == 4)) | ((f["id"] == 88) & (f["t"] < 3))
            | ((f["id"] == 0) & (f["t"] == 3)) | ((f["id"] == 1) & (f["t"] > 1)))
    return f.loc[~gone]


def test_each_comparison_uses_those_observed_in_both_periods() -> None:
    """degree=1, one cohort trained in period 3 of 4: ATT^o and ACRT^o are the averages over periods 3 and 4
    of the difference of mean changes since period 2 and of the least-squares slope, each on the employees
    observed in that period and in period 2; 88 (hired after period 2) and 1 (seen once) are excluded."""
    f = _gappy(_frame(seed=1))
    res = il.dose_response(_panel(f), dose="hours", degree=1, n_draws=None)
    w = f.pivot(index="id", columns="t", values="y")
    info = f.groupby("id")[["g", "hours"]].first()
    atts, slopes, sizes = [], [], []
    for t in (3, 4):
        dy = (w[t] - w[2]).dropna()
        tr = info.loc[dy.index, "g"].to_numpy() == 3
        mu0 = dy[~tr].mean()
        atts.append(dy[tr].mean() - mu0)
        slopes.append(np.polyfit(info.loc[dy.index, "hours"].to_numpy()[tr], dy[tr] - mu0, 1)[0])
        sizes.append((int(tr.sum()), int((~tr).sum())))
    assert res.estimate == pytest.approx(np.mean(atts), abs=1e-12)
    assert res.acrt == pytest.approx(np.mean(slopes), abs=1e-10)
    used = list(zip(res.cells["n_treated"], res.cells["n_control"], strict=True))
    assert used == sizes == [(59, 28), (58, 29)]
    reasons = dict(zip(res.excluded["id"], res.excluded["reason"], strict=True))
    assert set(reasons) == {88, 1}
    assert "not observed in 2, the period before training" in reasons[88]
    assert "never trained and not observed in both periods" in reasons[1]
    assert res.n_units == 88 and res.n_obs == len(f) - 3
    assert res.spec["unbalanced"] and any("Unbalanced panel: 2 of the 88" in n for n in res.notes)
    assert "observed in both" in " ".join(res.explain().cautions)


def test_balanced_subset_on_request_warns_with_the_share_dropped() -> None:
    f = _gappy(_frame(seed=1))
    share = r"4 of 90 employees \(4\.4%\) are not observed in every period"
    with pytest.warns(StatisticalWarning, match=share):
        res = il.dose_response(_panel(f), dose="hours", n_draws=None, allow_unbalanced=False)
    assert set(res.excluded["id"]) == {0, 1, 88, 89}
    assert res.excluded["reason"].str.contains("not observed in every period").all()
    alone = il.dose_response(_panel(f.loc[~f["id"].isin([0, 1, 88, 89])]), dose="hours", n_draws=None)
    assert (res.estimate, res.std_error, res.acrt) == pytest.approx(
        (alone.estimate, alone.std_error, alone.acrt), abs=1e-12)
    balanced = _frame(seed=1)
    pd.testing.assert_frame_equal(
        il.dose_response(_panel(balanced), dose="hours", n_draws=None).curves,
        il.dose_response(_panel(balanced), dose="hours", n_draws=None, allow_unbalanced=False).curves)


def test_a_cell_with_too_few_trained_is_left_out_with_a_note() -> None:
    """Cohort 3 keeps 3 trained employees in period 4: too few for a cubic's 4 terms, so the cohort's weight
    goes to period 3 alone; the cohort-3 employees seen only in period 4 after training are in the ledger."""
    f = _frame(seed=2)
    trained = sorted(f.loc[f["g"] == 3, "id"].unique())
    f = f.loc[~(f["id"].isin(trained[3:]) & (f["t"] == 4))]
    res = il.dose_response(_panel(f), dose="hours", n_draws=None)
    assert list(res.cells["period"]) == [3] and res.cells["weight"].tolist() == [1.0]
    assert any("1 period(s) from 4 left out" in n for n in res.notes)


def test_acrt_variance_counts_the_doses_by_hand() -> None:
    """degree=2, one cohort, one period after training: ATT(d) = c0 + c1 d + c2 d^2 by least squares and
    ACRT^o = c1 + 2 c2 mean(D). Its influence function: the coefficients' (HC0) plus, with the doses drawn,
    2 c2 (D_i - mean(D)) / n, the spread of ACRT(D_i) over the trained (contdid's cont_did_acrt)."""
    f = _frame(periods=3, seed=3)
    w = f.pivot(index="id", columns="t", values="y")
    info = f.groupby("id")[["g", "hours"]].first()
    dy = (w[3] - w[2]).to_numpy()
    tr = info["g"].to_numpy() == 3
    D = info["hours"].to_numpy()[tr]
    X = np.column_stack([np.ones(tr.sum()), D, D ** 2])
    c, *_ = np.linalg.lstsq(X, dy[tr] - dy[~tr].mean(), rcond=None)
    e = dy[tr] - dy[~tr].mean() - X @ c
    if_c = (X * e[:, None]) @ np.linalg.inv(X.T @ X).T
    grad = np.array([0.0, 1.0, 2 * D.mean()])
    se_fixed = np.sqrt(np.sum((if_c @ grad) ** 2))
    se_drawn = np.sqrt(np.sum((if_c @ grad + 2 * c[2] * (D - D.mean()) / tr.sum()) ** 2))
    drawn = il.dose_response(_panel(f), dose="hours", degree=2, n_draws=None)
    fixed = il.dose_response(_panel(f), dose="hours", degree=2, n_draws=None, dose_variance=False)
    assert drawn.acrt == pytest.approx(c[1] + 2 * c[2] * D.mean(), abs=1e-10)
    assert fixed.acrt_std_error == pytest.approx(se_fixed, rel=1e-9)
    assert drawn.acrt_std_error == pytest.approx(se_drawn, rel=1e-9)
    assert drawn.acrt_std_error > fixed.acrt_std_error
    assert drawn.std_error == fixed.std_error  # ATT^o's influence function already holds every change
    one_cohort = il.dose_response(_panel(f), dose="hours", degree=2, n_draws=None, share_variance=False)
    assert one_cohort.acrt_std_error == drawn.acrt_std_error  # one cohort: its share is 1, not drawn


def test_share_variance_by_hand() -> None:
    """Two cohorts (2 and 3 of 3 periods): ATT^o weights cohort g by its share p_g of the trained. Its
    influence function by hand, from the binary changes: each cell's difference of means, plus, with the
    shares drawn, (ATT_g - ATT^o) / n_trained for each trained employee of cohort g."""
    f = _frame(periods=3, cohorts=(2, 3), seed=4)
    w = f.pivot(index="id", columns="t", values="y")
    g = f.groupby("id")["g"].first().to_numpy()
    n_tr = int((g > 0).sum())
    p = {2: (g == 2).sum() / n_tr, 3: (g == 3).sum() / n_tr}
    psi, psi_share = np.zeros(len(g)), np.zeros(len(g))
    cohort_att = {}
    for cg, cells in ((2, (2, 3)), (3, (3,))):
        atts = []
        for t in cells:
            dy = (w[t] - w[cg - 1]).to_numpy()
            tr, co = g == cg, g == 0
            atts.append(dy[tr].mean() - dy[co].mean())
            wt = p[cg] / len(cells)
            psi[tr] += wt * (dy[tr] - dy[tr].mean()) / tr.sum()
            psi[co] -= wt * (dy[co] - dy[co].mean()) / co.sum()
        cohort_att[cg] = np.mean(atts)
    att = p[2] * cohort_att[2] + p[3] * cohort_att[3]
    for cg in (2, 3):
        psi_share[g == cg] = (cohort_att[cg] - att) / n_tr
    drawn = il.dose_response(_panel(f), dose="hours", degree=1, n_draws=None)
    fixed = il.dose_response(_panel(f), dose="hours", degree=1, n_draws=None, share_variance=False)
    assert drawn.estimate == pytest.approx(att, abs=1e-12)
    assert fixed.std_error == pytest.approx(np.sqrt(np.sum(psi ** 2)), rel=1e-10)
    assert drawn.std_error == pytest.approx(np.sqrt(np.sum((psi + psi_share) ** 2)), rel=1e-10)
    assert drawn.std_error > fixed.std_error


def test_option_refusals() -> None:
    with pytest.raises(ValueError, match="'dose_variance' parameter of dose_response must be True or False"):
        il.dose_response(_panel(_frame()), dose="hours", dose_variance="yes")


def test_coverage_with_hires_and_leavers_20() -> None:
    """20 simulated organisations with hires and leavers (seeds 0..19; study docstring): the 95 % intervals of
    ATT^o and ACRT^o hold the population truth in at least 16 (P(< 16) under 95 % coverage is below 0.3 %);
    with the doses taken as fixed, ACRT^o's standard error is less than half the spread of its estimates."""
    d = pd.DataFrame([study.one(s) for s in range(20)])
    assert d["att_held"].sum() >= 16 and d["acrt_held"].sum() >= 16
    assert d["fixed_acrt_se"].mean() < 0.5 * d["fixed_acrt"].std()
    assert d["used"].mean() > d["used_balanced"].mean() * 1.4


@pytest.mark.slow
def test_coverage_with_hires_and_leavers_200() -> None:
    d = pd.DataFrame([study.one(s, draws=499) for s in range(200)])
    for col in ("att_held", "acrt_held", "band_ATT", "band_ACRT", "bal_att_held", "bal_acrt_held"):
        assert 0.90 <= d[col].mean() <= 0.99, col
    assert d["fixed_acrt_held"].mean() < 0.80
