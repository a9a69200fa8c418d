"""chain(): from the raw simulate_org tables to the ROI in one call sequence, an interval at every level."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il


@pytest.fixture(scope="module")
def flow():
    """The notebook cell: raw tables -> levels 1-3 -> panel -> causal effect -> exposure -> ROI -> chain."""
    org = il.datasets.simulate_org(n_employees=700, n_periods=16, seed=11)
    completions = il.read_completions(org.completions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel()
        cs = il.callaway_santanna(panel, control="not_yet_treated")
        effect = cs.aggregate("simple")
        level1 = il.kirkpatrick.reaction(il.read_surveys(org.surveys), roster=completions)
        level2 = il.kirkpatrick.learning(il.read_assessments(org.assessments), pass_mark=0.7)
        level3 = il.kirkpatrick.behavior(il.read_observations(org.observations), trained_at=completions)
        r = il.roi(il.exposure(cs, panel=panel), margin=0.3,
                   costs=il.Costs.from_table(il.read_costs(org.costs)), intangibles=["engagement"])
        ch = il.kirkpatrick.chain(reaction=level1, learning=level2, behavior=level3, results=effect, roi=r,
                                  panel=panel)
    return org, cs, effect, r, ch


def test_every_level_has_an_interval(flow) -> None:
    _, _, effect, r, ch = flow
    assert list(ch.levels["level"]) == [1, 2, 3, 4, 5]
    lv = ch.levels.set_index("level")
    assert np.isfinite(lv[["estimate", "conf_low", "conf_high"]].to_numpy(dtype=float)).all()
    assert (lv["conf_low"] <= lv["estimate"]).all() and (lv["estimate"] <= lv["conf_high"]).all()
    assert lv.loc[4, "estimate"] == pytest.approx(effect.estimate)
    assert lv.loc[5, "estimate"] == pytest.approx(r.roi_pct)
    assert lv.loc[1, "metric"] == "NPS"


def test_links_are_checked_and_stated_as_evidence(flow) -> None:
    _, _, _, _, ch = flow
    links = ch.links.set_index("link")
    assert list(links.index) == ["1 -> 2", "2 -> 3", "2 -> 4", "4 -> 5"]
    # the simulator ties learning, behaviour and the KPI effect to one individual gain: positive links
    for link in ("1 -> 2", "2 -> 3"):
        assert links.loc[link, "conf_low"] > 0
    assert links.loc["2 -> 4", "estimate"] > 0
    assert "not proof" in ch.summary()
    t = ch.by_tercile
    assert list(t["tercile"]) == [1, 2, 3] and t["n_trained"].sum() == links.loc["2 -> 4", "n"]
    assert (t["gain_low"].diff().dropna() > 0).all()
    d = links.loc["2 -> 4"]
    assert d["estimate"] == pytest.approx(t["estimate"].iloc[-1] - t["estimate"].iloc[0])


def test_roi_uses_the_observed_exposure(flow) -> None:
    org, cs, _, r, _ = flow
    ex = il.exposure(cs)
    assert r.participants > 0 and math.isfinite(r.roi_pct)
    assert r.benefit == pytest.approx(r.effect * 0.3 * r.participants * r.horizon)
    assert r.cost == pytest.approx(float(org.costs["amount"].sum()))
    assert ex.employee_periods > 0 and r.intangibles == ("engagement",)


def test_chain_without_panel_and_bad_calls() -> None:
    res = il.EffectResult(estimate=2.0, std_error=0.5, outcome="sales")
    ch = il.kirkpatrick.chain(results=res, roi=il.roi(res, value_per_unit=50, participants=100, horizon=12,
                                                        costs=80_000))
    assert list(ch.levels["level"]) == [4, 5] and ch.by_tercile.empty
    assert list(ch.links["link"]) == ["4 -> 5"]
    with pytest.raises(ValueError, match="needs at least one level"):
        il.kirkpatrick.chain()
    assert isinstance(ch.levels, pd.DataFrame)
