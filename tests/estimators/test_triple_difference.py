"""triple_difference: the textbook 2×2×2 case by hand, a known truth where a plain DiD is biased, the ledger
of employees left out, and the refusals of ambiguous roll-outs. Peer equality with diff-diff is in
tests/peers/test_triple_difference_peer.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.estimators.ddd_data import ddd_frame

import impactlab as il
from impactlab.errors import EstimationError, PanelError

# employee, region, eligible, outcome before, outcome after, trained (period of first completion)
HAND = [("A", "North", 1, 10.0, 16.0, 2), ("B", "North", 1, 12.0, 20.0, 2),
        ("C", "North", 0, 8.0, 11.0, 0), ("D", "North", 0, 9.0, 12.0, 0), ("E", "North", 0, 10.0, 13.0, 0),
        ("F", "South", 1, 11.0, 13.0, 0),
        ("G", "South", 0, 7.0, 8.0, 0), ("H", "South", 0, 9.0, 10.0, 0)]


def _hand_panel() -> il.Panel:
    rows = [(e, t, r, el, y, g) for e, r, el, y0, y1, g in HAND for t, y in ((1, y0), (2, y1))]
    frame = pd.DataFrame(rows, columns=["employee", "month", "region", "eligible", "sales", "trained"])
    return il.Panel.from_frame(frame, unit="employee", time="month", outcome="sales", cohort="trained",
                               covariates=["eligible"], cluster="region")


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_textbook_cell_means(method) -> None:
    """Changes of the cell means: eligible North +7 (11 -> 18), ineligible North +3 (9 -> 12), eligible
    South +2, ineligible South +1; the triple difference is (7 - 3) - (2 - 1) = 3, made of DiD(4 vs 3) = 4,
    DiD(4 vs 2) = 5 (the plain DiD) and DiD(4 vs 1) = 6: 4 + 5 - 6 = 3."""
    res = il.triple_difference(_hand_panel(), eligible="eligible", group="region", method=method)
    assert res.estimate == pytest.approx(3.0, abs=1e-12)
    assert res.elements["estimate"].tolist() == pytest.approx([4.0, 5.0, 6.0], abs=1e-12)
    assert res.elements["sign"].tolist() == [1, 1, -1]
    cells = res.cells.set_index(["group", "eligible", "period"])
    assert cells.loc[("reached", True, "before"), "mean"] == 11.0
    assert cells.loc[("reached", False, "after"), "mean"] == 12.0
    assert cells["n_units"].tolist() == [2, 2, 3, 3, 1, 1, 2, 2]
    assert res.spec["reached"] == ("North",) and res.spec["launch"] == 2
    assert res.n_units == 8 and res.n_obs == 16 and res.excluded.empty
    # clustered by region, the two clusters: each cell lies in one region and its influence sums to zero
    # there, so the clustered variance is exactly zero (and the note says how few clusters there are)
    assert res.std_error == pytest.approx(0.0, abs=1e-12) and "Only 2 clusters" in res.notes[0]


def test_known_truth_where_plain_did_is_biased() -> None:
    """A shock of +3 to the reached regions at the launch: the plain DiD (eligible employees of the reached
    regions against eligible employees elsewhere) carries it, and the regions' own trends (the reached
    regions 0-2 grow 0.1 a month slower than regions 3-5: -0.4 between the means of months 1-4 and 5-8),
    2.6 in expectation; the triple difference removes both."""
    for seed in range(4):
        frame = ddd_frame(seed=seed)
        panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                    covariates=["eligible", "region"])
        res = il.triple_difference(panel, eligible="eligible", group="region")
        truth = frame.attrs["truth"]
        assert abs(res.estimate - truth) < 4 * res.std_error
        plain = res.elements.iloc[1]
        assert abs(plain["estimate"] - truth - 2.6) < 4 * plain["std_error"]


def test_partial_take_up_estimates_the_effect_of_the_offer() -> None:
    frame = ddd_frame(n=3000, take_up=0.5, seed=11)
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["eligible", "region"])
    res = il.triple_difference(panel, eligible="eligible", group="region")
    assert abs(res.estimate - frame.attrs["truth"]) < 3 * res.std_error
    assert res.spec["trained_share"] == pytest.approx(frame.attrs["truth"] / 2.0)
    assert "offering the programme" in res.explain().headline


@pytest.mark.slow
def test_coverage_over_100_seeds() -> None:
    """docs/validation.md, section "Triple difference": the 95 % interval's coverage of the truth and the
    bias of the plain DiD, over 100 seeded draws of ddd_frame (800 employees, 8 months)."""
    hits, bias_ddd, bias_plain, hits_cov = 0, [], [], 0
    for seed in range(100):
        frame = ddd_frame(seed=1000 + seed, take_up=0.7, covariate_effect=1.0)
        panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                    covariates=["eligible", "region", "tenure"])
        truth = frame.attrs["truth"]
        res = il.triple_difference(panel, eligible="eligible", group="region", method="reg")
        lo, hi = res.conf_int()
        hits += lo <= truth <= hi
        bias_ddd.append(res.estimate - truth)
        bias_plain.append(res.elements["estimate"].iloc[1] - truth)
        cov = il.triple_difference(panel, eligible="eligible", group="region", covariates=["tenure"])
        lo, hi = cov.conf_int()
        hits_cov += lo <= truth <= hi
    assert 0.90 <= hits / 100 <= 0.99 and 0.90 <= hits_cov / 100 <= 0.99
    assert abs(np.mean(bias_ddd)) < 0.05 and abs(np.mean(bias_plain) - 2.6) < 0.15


def _sim_panel(**kw) -> tuple[pd.DataFrame, il.Panel]:
    frame = ddd_frame(n=400, **kw)
    return frame, il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                      covariates=["eligible", "region", "tenure"])


def test_every_employee_used_or_excluded_with_a_reason() -> None:
    frame, _ = _sim_panel(seed=3)
    ids = frame["id"].unique()
    frame.loc[(frame["id"] == ids[0]) & (frame["month"] > 4), "eligible"] = 1 - frame.loc[
        frame["id"] == ids[0], "eligible"].iloc[0]                              # eligibility changes
    frame.loc[(frame["id"] == ids[1]) & (frame["month"] > 6), "region"] = 5      # moves region
    untrained_ineligible = frame.loc[(frame["trained"] == 0) & (frame["eligible"] == 0)
                                     & ~frame["id"].isin(ids[:2]), "id"].iloc[0]
    frame.loc[frame["id"] == untrained_ineligible, "trained"] = 6               # trained, not eligible
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["eligible", "region"])
    res = il.triple_difference(panel, eligible="eligible", group="region")
    ex = res.excluded.set_index("id")["reason"]
    assert "changes within the panel" in ex[ids[0]]
    assert "moves between regions" in ex[ids[1]]
    assert "trained although not eligible" in ex[untrained_ineligible]
    assert res.n_units + len(res.excluded) == panel.n_units == len(ids)
    assert any("left out" in n for n in res.notes)


def test_staggered_roll_out_is_refused_then_one_wave_evaluated() -> None:
    frame, _ = _sim_panel(seed=4)
    wave2 = frame["region"] == 2
    frame.loc[wave2 & (frame["trained"] > 0), "trained"] = 6
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["eligible", "region"])
    with pytest.raises(EstimationError, match=r"different periods by region: 0.* from 5.*2.* from 6"):
        il.triple_difference(panel, eligible="eligible", group="region")
    res = il.triple_difference(panel, eligible="eligible", group="region", reached=[0, 1], launch=5)
    assert res.spec["reached"] == (0, 1)
    left = res.excluded["reason"]
    assert len(left) == frame.loc[wave2, "id"].nunique() and left.str.contains("another wave").all()
    # a launch before the first training is the programme's opening, accepted
    assert il.triple_difference(panel, eligible="eligible", group="region", reached=[0, 1],
                                launch=4).spec["launch"] == 4
    with pytest.raises(EstimationError, match="trained before launch=6"):
        il.triple_difference(panel, eligible="eligible", group="region", reached=[0, 1], launch=6)


def test_refusals_name_the_fix() -> None:
    _, panel = _sim_panel(seed=5)
    with pytest.raises(PanelError, match="group='team' is not a panel column.*cluster='team'"):
        il.triple_difference(panel, eligible="eligible", group="team")
    with pytest.raises(PanelError, match="eligible='role' is not a panel column. Its 0/1 columns are "
                                         r"\['eligible'\]"):
        il.triple_difference(panel, eligible="role", group="region")
    with pytest.raises(ValueError, match="may not hold \\['region'\\]"):
        il.triple_difference(panel, eligible="eligible", group="region", covariates=["region"])
    with pytest.raises(PanelError, match=r"\[9\] are not regions of the panel"):
        il.triple_difference(panel, eligible="eligible", group="region", reached=[9])
    with pytest.raises(PanelError, match="'launch' parameter .* one of the panel's periods"):
        il.triple_difference(panel, eligible="eligible", group="region", launch=99)
    with pytest.raises(EstimationError, match="every region of the panel was reached"):
        il.triple_difference(panel, eligible="eligible", group="region", reached=list(range(6)), launch=5)
    with pytest.raises(ValueError, match="'method' parameter must be one of"):
        il.triple_difference(panel, eligible="eligible", group="region", method="ols")  # type: ignore[arg-type]


def test_reference_level_of_a_text_column_is_explained() -> None:
    """build_panel one-hot encodes role with its first level as reference: that level has no column."""
    frame, _ = _sim_panel(seed=6)
    frame["role"] = np.where(frame["eligible"] == 1, "Account Executive", "Support")
    frame["role[Support]"] = (frame["role"] == "Support").astype(float)
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["role[Support]", "region"])
    with pytest.raises(PanelError, match=r"first level as the reference.*roster\['eligible'\]"):
        il.triple_difference(panel, eligible="role[Account Executive]", group="region")


def test_groups_from_one_hot_columns_and_invariances() -> None:
    """A text region one-hot encoded as build_panel does gives the same estimate as the numeric region; a
    constant added to the outcome changes nothing, a scale scales the estimate and its error."""
    frame, panel = _sim_panel(seed=7)
    base = il.triple_difference(panel, eligible="eligible", group="region", covariates=["tenure"])
    onehot = frame.copy()
    for lev in range(1, 6):
        onehot[f"area[r{lev}]"] = (onehot["region"] == lev).astype(float)
    p2 = il.Panel.from_frame(onehot, unit="id", time="month", outcome="sales", cohort="trained",
                             covariates=["eligible", "tenure"] + [f"area[r{lev}]" for lev in range(1, 6)])
    res = il.triple_difference(p2, eligible="eligible", group="area", covariates=["tenure"])
    assert res.estimate == pytest.approx(base.estimate, abs=1e-10)
    assert res.std_error == pytest.approx(base.std_error, abs=1e-10)
    assert res.spec["reached"] == ("area (reference level)", "r1", "r2")
    shifted = frame.assign(sales=frame["sales"] * 3 + 100)
    p3 = il.Panel.from_frame(shifted, unit="id", time="month", outcome="sales", cohort="trained",
                             covariates=["eligible", "region", "tenure"])
    res3 = il.triple_difference(p3, eligible="eligible", group="region", covariates=["tenure"])
    assert res3.estimate == pytest.approx(3 * base.estimate, rel=1e-9)
    assert res3.std_error == pytest.approx(3 * base.std_error, rel=1e-9)


def test_explain_states_the_assumption() -> None:
    _, panel = _sim_panel(seed=8)
    text = str(il.triple_difference(panel, eligible="eligible", group="region").explain())
    assert "the difference between eligible and ineligible trends is the same in reached and unreached " \
           "groups" in text
    assert "A plain DiD of the same employees" in text
