"""bacon_decomposition: the 2×2s, their weights, the identity with TWFE, and refused designs."""

from __future__ import annotations

import numpy as np
import pytest
from tests.estimators.eventdata import frame, panel

import impactlab as il
from impactlab.errors import EstimationError, PanelError, StatisticalWarning


def test_weights_sum_to_one_and_reproduce_twfe():
    df = frame(n=100, T=10, cohorts=(3, 5, 8), noise=1.0, seed=4, effect=lambda g, e: 1.0 + 0.5 * e)
    p = panel(df)
    res = il.bacon_decomposition(p)
    c = res.comparisons
    assert c["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (c["weight"] > 0).all()
    assert float((c["weight"] * c["estimate"]).sum()) == pytest.approx(il.twfe(p).estimate, abs=1e-10)
    assert res.estimate == il.twfe(p).estimate and res.std_error == il.twfe(p).std_error
    # 3 waves: 3 treated-vs-never, 3 earlier-vs-later, 3 later-vs-earlier
    assert res.by_type()["n_comparisons"].tolist() == [3, 3, 3]
    assert res.by_type()["contribution"].sum() == pytest.approx(res.estimate, abs=1e-10)


def test_two_by_two_estimates_and_weights_by_hand():
    # 2 waves (periods 3 and 6 of 8) and never-treated, 20 units each; outcome = unit + time + effect
    df = frame(n=60, T=8, cohorts=(3, 6), noise=1.0, seed=5)
    res = il.bacon_decomposition(panel(df))
    m = df.groupby(["g", "t"])["y"].mean().unstack()
    c = res.comparisons.set_index(["treated", "control"])

    def dd(tr, ct, post, pre):
        treated = m.loc[tr, post].mean() - m.loc[tr, pre].mean()
        return treated - (m.loc[ct, post].mean() - m.loc[ct, pre].mean())

    assert c.loc[(3, "never"), "estimate"] == pytest.approx(dd(3, 0, range(3, 9), range(1, 3)), rel=1e-12)
    assert c.loc[(3, 6), "estimate"] == pytest.approx(dd(3, 6, range(3, 6), range(1, 3)), rel=1e-12)
    assert c.loc[(6, 3), "estimate"] == pytest.approx(dd(6, 3, range(6, 9), range(3, 6)), rel=1e-12)
    assert c.loc[(6, 3), "type"] == "later_vs_earlier"
    # weights (Goodman-Bacon 2021, eq. 10e-g) with n_k = n_l = n_U = 1/3, D_3 = 6/8, D_6 = 3/8
    D = np.zeros((3, 8))
    D[0, 2:], D[1, 5:] = 1, 1
    Dt = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    vd = (Dt**2).mean()
    n, d3, d6 = 1 / 3, 6 / 8, 3 / 8
    s3u = (2 * n) ** 2 * 0.25 * d3 * (1 - d3) / vd
    s36 = ((2 * n) * (1 - d6)) ** 2 * 0.25 * (d3 - d6) / (1 - d6) * (1 - d3) / (1 - d6) / vd
    s63 = ((2 * n) * d3) ** 2 * 0.25 * (d6 / d3) * (d3 - d6) / d3 / vd
    assert c.loc[(3, "never"), "weight"] == pytest.approx(s3u, rel=1e-12)
    assert c.loc[(3, 6), "weight"] == pytest.approx(s36, rel=1e-12)
    assert c.loc[(6, 3), "weight"] == pytest.approx(s63, rel=1e-12)


def test_without_never_treated_only_timing_comparisons():
    res = il.bacon_decomposition(panel(frame(n=40, cohorts=(3, 6), never=False, noise=1.0)))
    assert set(res.comparisons["type"]) == {"earlier_vs_later", "later_vs_earlier"}
    assert res.forbidden_weight > 0
    assert "later vs earlier treated (forbidden" in res.summary()


def test_unbalanced_panel_refused():
    df = frame(noise=1.0).drop(index=[5, 17])
    with pytest.raises(PanelError, match="balanced panel.*2 of 60 units"):
        il.bacon_decomposition(panel(df))


def test_first_period_cohort_acts_as_control_with_a_warning():
    df = frame(n=60, noise=1.0, seed=6)
    df.loc[df["id"].isin([2, 5]), "g"] = 1
    p = panel(df)
    with pytest.warns(StatisticalWarning, match="treated from the first observed period"):
        res = il.bacon_decomposition(p)
    assert float((res.comparisons["weight"] * res.comparisons["estimate"]).sum()) == pytest.approx(
        il.twfe(p).estimate, abs=1e-10)
    assert any("first period" in n for n in res.notes)


def test_no_comparison_refused():
    with pytest.raises(EstimationError, match="same period and none stays"):
        il.bacon_decomposition(panel(frame(cohorts=(4,), never=False)))
    df = frame()
    df["g"] = 0
    with pytest.raises(EstimationError, match="no unit changes treatment"):
        il.bacon_decomposition(panel(df))
