"""Two-stage and stacked DiD on simulated organisations: bias against the known truth, the ledger, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import impactlab as il
from impactlab.errors import EstimationError


def _panel(seed: int, n_employees: int = 800, n_periods: int = 20) -> tuple[il.Panel, object]:
    org = il.datasets.simulate_org(n_employees=n_employees, n_periods=n_periods, seed=seed)
    return org.panel(), org


def test_two_stage_recovers_the_truth_on_five_organisations() -> None:
    """simulate_org has a two-month dip before training (anticipation=2): each estimate within 3 standard
    errors of the true ATT (the cohort-size-weighted ATT(g,t) of post-training cells)."""
    z = []
    for seed in range(5):
        panel, org = _panel(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = il.two_stage(panel, anticipation=2)
        z.append((res.estimate - org.truth.overall) / res.std_error)
    assert np.all(np.abs(z) < 3), z


def test_stacked_event_times_recover_the_truth_on_five_organisations() -> None:
    z = []
    for seed in range(5):
        panel, org = _panel(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = il.stacked(panel, window=(-2, 2), anticipation=2)
        truth = org.truth.by_event_time
        el = res.elements[res.elements["event_time"] >= 0]
        z += [(e - truth.loc[h]) / s for h, e, s in el[["event_time", "estimate", "std_error"]].itertuples(
            index=False)]
    assert np.all(np.abs(z) < 3.5), z  # 15 event-time effects: one past 3 SE would happen 4 % of the time


def test_stacked_ledger_and_errors() -> None:
    panel = il.datasets.example_panel()
    res = il.stacked(panel, window=(-3, 1))  # cohort 3 has two periods before it, not three
    assert res.excluded["id"].tolist() == [3] and res.excluded["what"].tolist() == ["cohort"]
    assert "IC1" in res.excluded["reason"].iloc[0]
    assert res.sub_experiments["share"].sum() == pytest.approx(1.0)
    with pytest.raises(EstimationError, match="no cohort can be kept"):
        il.stacked(panel, window=(-5, 5))
    with pytest.raises(ValueError, match="'control' parameter"):
        il.stacked(panel, control="last_treated")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hi >= 0"):
        il.stacked(panel, window=(-3, -1))


def test_two_stage_is_invariant_to_a_constant_and_scales() -> None:
    panel, _ = _panel(1, n_employees=300, n_periods=14)
    long = panel.long()
    base = il.two_stage(panel)
    for a, b in ((5.0, 1.0), (0.0, 2.0)):
        shifted = il.Panel.from_frame(long.assign(outcome=a + b * long["outcome"]), unit="unit", time="time",
                                      outcome="outcome", cohort="cohort")
        r = il.two_stage(shifted)
        assert r.estimate == pytest.approx(b * base.estimate, rel=1e-9)
        assert r.std_error == pytest.approx(b * base.std_error, rel=1e-9)
