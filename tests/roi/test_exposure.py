"""exposure(): total effect over the observed trained employee-periods, SE from influence functions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.roi import ExposureEffect, exposure, roi


@pytest.fixture
def fit(staggered_frame: pd.DataFrame):
    panel = il.Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated")
    return panel, il.callaway_santanna(panel)


def test_total_is_exposure_weighted_sum_of_att_gt(fit) -> None:
    panel, cs = fit
    ex = exposure(cs)
    at = cs.att_gt
    post = at[at["post"]]
    # cohort 3: periods 3..6 (4 periods x 20 units); cohort 5: periods 5..6 (2 x 20)
    assert ex.employee_periods == 20 * 4 + 20 * 2
    assert ex.participants == 40
    assert ex.total == pytest.approx(float((post["n_treated"] * post["estimate"]).sum()))
    assert ex.estimate == pytest.approx(ex.total / 120)
    # SE: sqrt(w' V w), V from the influence functions (units, no clusters)
    keep = at["post"].to_numpy()
    w = post["n_treated"].to_numpy(dtype=float)
    psi = np.asarray(cs.influence)[:, keep]
    vcov = psi.T @ psi / psi.shape[0] ** 2
    assert ex.total_std_error == pytest.approx(float(np.sqrt(w @ vcov @ w)), rel=1e-10)
    assert ex.by_event_time["employee_periods"].tolist() == [40.0, 40.0, 20.0, 20.0]
    assert ex.by_event_time["total"].sum() == pytest.approx(ex.total)
    assert isinstance(ex, ExposureEffect) and "employee-periods" in ex.summary()


def test_average_per_period_is_the_simple_att_on_a_balanced_panel(fit) -> None:
    # the simple aggregation weights post cells by cohort size: on a balanced panel that is the exposure
    _, cs = fit
    ex = exposure(cs)
    assert ex.estimate == pytest.approx(cs.aggregate("simple").estimate, rel=1e-12)
    lo, hi = ex.total_conf_int()
    assert lo < ex.total < hi


def test_horizon_counts_only_early_event_times(fit) -> None:
    _, cs = fit
    ex = exposure(cs, horizon=1)
    at = cs.att_gt
    first = at[at["post"] & (at["event_time"] == 0)]
    assert ex.employee_periods == 40
    assert ex.total == pytest.approx(float((first["n_treated"] * first["estimate"]).sum()))
    with pytest.raises(ValueError, match="'horizon' parameter"):
        exposure(cs, horizon=0)


def test_panel_exposure_equals_cells_on_a_balanced_panel(fit) -> None:
    panel, cs = fit
    a, b = exposure(cs), exposure(cs, panel=panel)
    assert a.total == pytest.approx(b.total) and a.total_std_error == pytest.approx(b.total_std_error)


def test_panel_exposure_counts_leavers_only_while_employed(staggered_frame: pd.DataFrame) -> None:
    # two treated units of cohort 3 leave after period 4: 2 x 2 trained periods fewer
    df = staggered_frame[~(staggered_frame["id"].isin([0, 1]) & (staggered_frame["year"] > 4))]
    panel = il.Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(panel)
    ex = exposure(cs, panel=panel)
    assert ex.employee_periods == 120 - 4
    assert ex.participants == 40


def test_roi_from_exposure_is_total_times_value(fit) -> None:
    _, cs = fit
    ex = exposure(cs)
    r = roi(ex, value_per_unit=100, costs=10_000)
    assert r.benefit == pytest.approx(ex.total * 100)
    assert r.participants == 40 and r.horizon == pytest.approx(3.0)
    k = 100 * 120
    assert r.benefit_interval() == pytest.approx((k * ex.conf_int()[0], k * ex.conf_int()[1]))
    with pytest.raises(ValueError, match="'participants' and 'horizon' parameter"):
        roi(cs.aggregate("simple"), value_per_unit=100, costs=10_000)


def test_rejects_results_without_cells() -> None:
    with pytest.raises(TypeError, match="needs a callaway_santanna"):
        exposure(il.EffectResult(estimate=1.0, std_error=0.1))


def test_clustered_fit_clusters_the_total(staggered_frame: pd.DataFrame) -> None:
    panel = il.Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated",
                                cluster="team")
    with pytest.warns(il.StatisticalWarning, match="only 12 clusters"):
        cs = il.callaway_santanna(panel)
    ex = exposure(cs)
    at = cs.att_gt
    keep = at["post"].to_numpy()
    w = at.loc[keep, "n_treated"].to_numpy(dtype=float)
    team = panel.long().drop_duplicates("unit").set_index("unit")["cluster"].reindex(cs.unit_ids).to_numpy()
    psi = np.asarray(cs.influence)[:, keep] @ w
    sums = pd.Series(psi).groupby(team).sum().to_numpy()
    assert ex.total_std_error == pytest.approx(float(np.sqrt(np.sum(sums**2)) / len(psi)), rel=1e-10)
    unclustered = exposure(il.callaway_santanna(il.Panel.from_frame(
        staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated")))
    assert ex.total == pytest.approx(unclustered.total)
    assert ex.total_std_error != pytest.approx(unclustered.total_std_error)
