"""Where the dose-response design holds on the simulator's organisations (docs/validation.md, "Dose response
on the simulator's organisations"): dose_design_study.py, the 50 organisations under ``-m slow``; one
simulated organisation runs by default in tests/estimators/test_dose_response_anticipation.py."""

from __future__ import annotations

import pytest
from dose_design_study import run, table


@pytest.mark.slow
def test_never_trained_comparison_holds_with_level_attrition() -> None:
    """simulate_org's defaults with hours (the dip, selection into early waves, weaker employees leaving
    more), seeds 9600-9649, the 48 where every design ran: dose_response's interval held its estimand in 44,
    Callaway-Sant'Anna with the never-trained on the balanced panel in 45; pooling everyone observed in each
    period (allow_unbalanced=True) in 18, biased by -197 (the leavers are the weaker). On the outcome
    without training dose_response's estimate averaged -0.10 of its standard error."""
    t = table(run(range(9600, 9650)))
    assert t.loc["dose_response", "organisations"] >= 45
    assert t.loc["dose_response", "covered"] >= 42
    assert abs(t.loc["dose_response", "y0_z"]) < 0.4
    assert t.loc["cs never balanced", "covered"] >= 42
    assert t.loc["cs never unbalanced", "covered"] <= 30
    assert t.loc["cs never unbalanced", "bias"] < -100
