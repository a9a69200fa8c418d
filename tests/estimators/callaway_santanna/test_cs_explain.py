"""What a Callaway–Sant'Anna result says about itself: its event study's pre-training check, integer keys."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import impactlab as il


@pytest.fixture(scope="module")
def dipped_panel() -> il.Panel:
    """simulate_org with its 2-month pre-training dip (Ashenfelter): anticipation=0 compares with the dip."""
    org = il.datasets.simulate_org(n_employees=600, n_periods=16, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kpis = il.read_kpis(org.kpis, metrics=[org.outcome])
        comp = il.read_completions(org.completions)
        return il.build_panel(kpis, comp, program=org.program, outcome=org.outcome)


def _fit(panel: il.Panel, anticipation: int) -> il.estimators.CallawaySantAnnaResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", il.StatisticalWarning)
        return il.callaway_santanna(panel, control="not_yet_treated", anticipation=anticipation)


def test_explain_quotes_the_failing_pretrend_check_when_the_dip_is_ignored(dipped_panel):
    ex = _fit(dipped_panel, 0).explain()
    assert ex.pretrend is not None and ex.pretrend.p_value < 0.001
    assert any(c.startswith("Pre-training check fails") for c in ex.cautions)
    assert not any("carries no pre-training test" in c for c in ex.cautions)


def test_explain_leaves_the_anticipation_window_out_of_the_check(dipped_panel):
    res = _fit(dipped_panel, 2)
    ex = res.explain()
    dyn = res.aggregate("dynamic")
    n_pre = int((dyn.elements["event_time"] < -2).sum())
    assert ex.pretrend is not None and ex.pretrend.df == n_pre  # event times -2, -1 are not placebos
    assert ex.pretrend.p_value > 0.05
    assert any(c.startswith("Pre-training check: ") for c in ex.claims)


def test_no_warning_or_explanation_points_at_allow_unbalanced(dipped_panel):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = il.callaway_santanna(dipped_panel, control="not_yet_treated", anticipation=2)
    texts = [str(w.message) for w in caught] + list(res.notes) + [str(res.explain())]
    assert any("not observed in every period" in t for t in texts)
    assert not any("allow_unbalanced" in t for t in texts)


def test_integer_keys_stay_integers_beside_the_headline_row(staggered_frame):
    panel = il.Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated")
    res = _fit(panel, 0)
    tidy = res.tidy()
    assert str(tidy["event_time"].dtype) == "Int64" and pd.isna(tidy["event_time"].iloc[0])
    assert str(tidy["cohort"].dtype) == "Int64"
    assert tidy["cohort"].iloc[1:].tolist() == res.att_gt["cohort"].tolist()
    assert "ATT(3, 2)" in tidy["term"].tolist()
    dyn = res.aggregate("dynamic")
    assert str(dyn.tidy()["event_time"].dtype) == "Int64"
    assert dyn.tidy()["event_time"].iloc[1:].tolist() == dyn.elements["event_time"].tolist()
