"""``simulate_org(attrition_on_outcome=...)``: employees leave more after a poor month, the overall rate of
leaving stays, the defaults are unchanged and the truth stays exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il


def _last_month_gap(org) -> tuple[float, int]:
    """Mean revenue of each leaver in their last KPI month minus that month's mean, and the number of
    leavers."""
    k = org.kpis.copy()
    k["gap"] = k["revenue"] - k.groupby("month")["revenue"].transform("mean")
    left = set(org.roster.loc[org.roster["Termination Date"].notna(), "Employee ID"])
    last = k[k["employee_id"].isin(left)].sort_values("month").groupby("employee_id").tail(1)
    return float(last["gap"].mean()), len(left)


def test_poor_performers_leave_more_and_the_rate_of_leaving_stays() -> None:
    plain = il.datasets.simulate_org(n_employees=3000, seed=21)
    poor = il.datasets.simulate_org(n_employees=3000, seed=21, attrition_on_outcome=1.5)
    gap0, left0 = _last_month_gap(plain)
    gap1, left1 = _last_month_gap(poor)
    # leavers' last month: about average without the option (leaving follows the level only weakly),
    # about a thousand below the others' with it (revenue's spread across employees is about 2,500)
    assert gap0 > -600 and gap1 < gap0 - 600
    assert left1 == pytest.approx(left0, rel=0.15)
    assert poor.spec["attrition_on_outcome"] == 1.5 and "attrition_on_outcome" not in plain.spec


def test_the_truth_is_exact_and_defaults_are_unchanged() -> None:
    org = il.datasets.simulate_org(n_employees=600, seed=4, attrition_on_outcome=1.0)
    po = org.potential_outcomes
    po = po[po["employed"]]
    po = po.assign(trained=po["cohort"].notna() & (po["month"] >= po["cohort"]),
                   month=po["month"].astype(str))
    po = po.merge(org.kpis, on=["employee_id", "month"], validate="one_to_one")
    assert len(po) >= 0.9 * len(org.kpis)          # the KPI rows of full months employed
    # the observed revenue is Y(0) plus the effect (the truth is built from the same effects)
    trained = po["trained"]
    effect = (po["revenue"] - po["y0"]).round(2)
    assert np.allclose(effect[~trained], 0.0)
    assert 600 < org.truth.overall < 900
    assert np.allclose(effect[trained], (po["y1"] - po["y0"])[trained].round(2))
    same = il.datasets.simulate_org(n_employees=600, seed=4, attrition_on_outcome=0.0)
    base = il.datasets.simulate_org(n_employees=600, seed=4)
    pd.testing.assert_frame_equal(same.kpis, base.kpis)
    with pytest.raises(ValueError, match="'attrition_on_outcome' parameter"):
        il.datasets.simulate_org(attrition_on_outcome=-1.0)
