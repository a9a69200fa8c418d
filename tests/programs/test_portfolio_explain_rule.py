"""portfolio's explain() reads programmes by the rule of its chart and slide (the simultaneous interval), and
its headline, the largest of the estimates, carries the interval that keeps its level after that choice."""

from __future__ import annotations

import warnings

import pytest

import impactlab as il
from impactlab.results.evaluation import number


@pytest.fixture(scope="module")
def res() -> il.PortfolioResult:
    org = il.datasets.simulate_org(n_employees=800, seed=9,
                                   programs={"Negotiation Skills": 0.5, "Time Management": 0.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                            il.read_completions(org.completions), programs=list(org.truths),
                            outcome=org.outcome, roster=il.read_roster(org.roster))


def test_headline_gives_the_simultaneous_interval(res) -> None:
    top = res.tidy().iloc[0]
    text = res.explain().headline
    assert (f"{number(top['estimate'])} per employee per month (95% interval holding all programmes at once "
            f"{number(top['conf_low_simultaneous'])} to {number(top['conf_high_simultaneous'])})") in text


def test_each_programme_read_by_its_simultaneous_interval(res) -> None:
    claims = res.explain().claims
    clear = []
    for _, r in res.tidy().iterrows():
        line = next(c for c in claims if c.startswith(f"{r['program']}:"))
        sig = r["conf_low_simultaneous"] > 0 or r["conf_high_simultaneous"] < 0
        yes = "distinguishable from no effect with all 3 programmes compared at once."
        no = "not distinguishable from no effect once 3 programmes are compared at once."
        assert line.endswith(yes if sig else no)
        clear.append(sig)
    assert clear == [True, True, False]  # this organisation: +901, +299, +6 a month
