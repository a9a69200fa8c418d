"""Property tests of roi(): monotonicity, scaling, identities."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impactlab.results.base import EffectResult
from impactlab.roi import roi

pos = st.floats(min_value=0.01, max_value=1e4, allow_nan=False, allow_infinity=False)
effects = st.floats(min_value=0.01, max_value=100, allow_nan=False)
ses = st.floats(min_value=0.0, max_value=50, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(effect=effects, se=ses, v1=pos, v2=pos, n=pos, h=st.floats(1, 60), cost=pos)
def test_roi_monotone_in_value_per_unit(effect, se, v1, v2, n, h, cost) -> None:
    lo_v, hi_v = sorted((v1, v2))
    eff = EffectResult(estimate=effect, std_error=se)
    a = roi(eff, value_per_unit=lo_v, participants=n, horizon=h, costs=cost)
    b = roi(eff, value_per_unit=hi_v, participants=n, horizon=h, costs=cost)
    assert b.roi_pct >= a.roi_pct
    assert b.benefit >= a.benefit
    assert b.prob_positive >= a.prob_positive - 1e-12


@settings(max_examples=60, deadline=None)
@given(effect=effects, se=ses, v=pos, n=pos, h=st.floats(1, 60), cost=pos, scale=st.floats(0.01, 100))
def test_scaling_money_leaves_roi_unchanged(effect, se, v, n, h, cost, scale) -> None:
    eff = EffectResult(estimate=effect, std_error=se)
    a = roi(eff, value_per_unit=v, participants=n, horizon=h, costs=cost)
    b = roi(eff, value_per_unit=v * scale, participants=n, horizon=h, costs=cost * scale)
    assert b.benefit == pytest.approx(a.benefit * scale, rel=1e-9)
    assert b.roi_pct == pytest.approx(a.roi_pct, rel=1e-9, abs=1e-9)
    assert b.conf_int() == pytest.approx(a.conf_int(), rel=1e-9, abs=1e-9)
    assert b.payback_periods == pytest.approx(a.payback_periods, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(effect=effects, v=pos, n=pos, h=st.floats(1, 60), cost=pos, scale=st.floats(0.01, 100))
def test_benefit_linear_in_effect_and_identities(effect, v, n, h, cost, scale) -> None:
    a = roi(effect, value_per_unit=v, participants=n, horizon=h, costs=cost)
    b = roi(effect * scale, value_per_unit=v, participants=n, horizon=h, costs=cost)
    assert b.benefit == pytest.approx(a.benefit * scale, rel=1e-9)
    assert a.roi_pct == pytest.approx((a.bcr - 1) * 100, rel=1e-9, abs=1e-9)
    at_break_even = roi(a.break_even_effect, value_per_unit=v, participants=n, horizon=h, costs=cost)
    assert at_break_even.net_benefit == pytest.approx(0, abs=1e-6 * cost)


@settings(max_examples=60, deadline=None)
@given(effect=effects, se=st.floats(0.01, 50), v=pos, n=pos, h=st.floats(1, 60), cost=pos)
def test_interval_holds_point_and_prob_matches_sign(effect, se, v, n, h, cost) -> None:
    eff = EffectResult(estimate=effect, std_error=se)
    r = roi(eff, value_per_unit=v, participants=n, horizon=h, costs=cost)
    lo, hi = r.conf_int()
    assert lo <= r.roi_pct <= hi
    assert (r.prob_positive > 0.5) == (r.roi_pct > 0) or r.roi_pct == pytest.approx(0, abs=1e-9)
