"""Org.panel(): the simulator's tables read with the readers' defaults and built into the panel with the
organisation's truth attached -- the same panel as the readers and build_panel written out."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import impactlab as il


@pytest.fixture(scope="module")
def org():
    return il.datasets.simulate_org(n_employees=250, n_periods=16, seed=4)


def _written_out(org, **kwargs):
    return il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                          il.read_completions(org.completions), program=org.program, outcome=org.outcome,
                          roster=il.read_roster(org.roster), **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"cluster": "team"}, {"dose": ["hours"]}], ids=str)
def test_the_same_panel_as_the_chain_written_out(org, kwargs) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel(**kwargs)
        ref = _written_out(org, truth=org.truth, **kwargs)
    pd.testing.assert_frame_equal(panel.long(), ref.long())
    pd.testing.assert_frame_equal(panel.dropped, ref.dropped)
    assert panel.truth is org.truth
    assert (panel.n_units, panel.n_obs, panel.cluster) == (ref.n_units, ref.n_obs, ref.cluster)
    assert panel.meta["trained_employees"] == ref.meta["trained_employees"] > 0
    # nothing lost: every KPI row is in the panel or dropped with a reason
    assert panel.n_obs + len(panel.dropped) == len(org.kpis)


def test_the_truth_reaches_the_evaluation(org) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = il.evaluate(org.panel())
    assert ev.naive.truth == pytest.approx(org.truth.overall)


def test_options_override_the_defaults(org) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bare = org.panel(roster=None, truth=None)
        other = org.panel(outcome="deals")
    assert bare.truth is None and bare.n_obs == len(org.kpis)  # without the roster no row is dropped
    assert other.outcome == "deals" and other.truth is None  # the truth is the effect on revenue
    with pytest.raises(il.errors.ImpactlabError, match="Negotiation"):
        org.panel(program="Negotiation")  # no completion of that programme: build_panel says so
