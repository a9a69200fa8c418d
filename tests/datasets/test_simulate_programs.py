"""simulate_org(programs=...): further programmes with overlapping roll-outs, additive effects and known
truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il

FURTHER = {"Negotiation Skills": 0.5, "Time Management": 0.0}


@pytest.fixture(scope="module")
def pair() -> tuple[il.datasets.Org, il.datasets.Org]:
    base = il.datasets.simulate_org(n_employees=500, n_periods=20, seed=4)
    multi = il.datasets.simulate_org(n_employees=500, n_periods=20, seed=4, programs=FURTHER)
    return base, multi


def test_one_programme_by_default(pair) -> None:
    base, _ = pair
    assert list(base.truths) == [base.program] and base.truths[base.program] is base.truth
    assert "programs" not in base.spec


def test_the_main_programme_is_drawn_as_without_the_others(pair) -> None:
    base, multi = pair
    main = multi.completions[multi.completions["Training Title"].isin(
        base.completions["Training Title"].unique())].reset_index(drop=True)
    pd.testing.assert_frame_equal(main, base.completions)
    for name in ("roster", "assessments", "surveys", "observations"):
        pd.testing.assert_frame_equal(getattr(multi, name), getattr(base, name))
    assert multi.truth.overall == base.truth.overall
    pd.testing.assert_frame_equal(multi.costs[multi.costs["program"] == base.program], base.costs)
    assert set(multi.costs["program"]) == {base.program, *FURTHER}
    assert multi.spec["programs"] == FURTHER


def test_effects_add_up_and_each_truth_is_its_own(pair) -> None:
    base, multi = pair
    assert list(multi.truths) == [multi.program, *FURTHER]
    assert multi.truths["Time Management"].overall == 0.0
    assert multi.truths["Negotiation Skills"].overall > 0
    # the same employees employed in the same months (the few stray postings outside employment are drawn
    # after the deals, whose Poisson draws follow the revenue); revenue differs by the further programmes'
    # effects and dips, and not at all where no further programme has reached
    both = base.kpis.merge(multi.kpis, on=["employee_id", "month"], suffixes=("", "_multi"))
    assert len(both) >= 0.99 * len(base.kpis)
    diff = (both["revenue_multi"] - both["revenue"]).to_numpy()
    assert (diff > 0).any() and (diff < 0).any()    # gains after completion, dips before it
    assert (np.abs(diff) < 0.005).mean() > 0.3


def test_many_employees_take_several_programmes(pair) -> None:
    _, multi = pair
    c = multi.completions
    done = c[(c["Transcript Status"] == "Completed") & c["Training Title"].isin(list(multi.truths))]
    per = done.groupby("User ID")["Training Title"].nunique()
    assert (per >= 2).sum() > 0.4 * len(per)
    # roll-outs overlap: every further programme completes in months the main one does too
    month = done["Transcript Completed Date"].str[:7]
    main = set(month[done["Training Title"] == multi.program])
    for title in FURTHER:
        assert set(month[done["Training Title"] == title]) & main


def test_overall_observations_weights_employee_months(pair) -> None:
    _, multi = pair
    for truth in multi.truths.values():
        cells = truth.att_gt
        expected = float((cells["att"] * cells["n_units"]).sum() / cells["n_units"].sum())
        assert truth.overall_observations == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(multi.truth.overall_observations)


@pytest.mark.parametrize(("programs", "error", "match"), [
    ({"Consultative Selling": 1.0}, ValueError, "already 'Consultative Selling'"),
    ({"Negotiation Masterclass": 1.0}, ValueError, "background course"),
    ({"A": 1.0, " a ": 2.0}, ValueError, "already 'A'"),
    ([("A", 1.0)], TypeError, "mapping of programme title"),
    ({"A": "big"}, TypeError, "finite number"),
])
def test_bad_programmes_are_refused(programs, error, match) -> None:
    with pytest.raises(error, match=match):
        il.datasets.simulate_org(n_employees=100, programs=programs)
