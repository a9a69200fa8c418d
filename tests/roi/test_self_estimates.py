"""self_estimates(): Phillips credited change beside the causal effect, with the bias."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.results.base import EffectResult
from impactlab.roi import roi, self_estimates

EST = pd.DataFrame({"improvement": [10.0, 20.0, 30.0, 40.0], "attributed": [0.5, 0.5, 1.0, 0.25],
                    "confidence": [80, 100, 50, 100]})


def test_credited_change_bias_and_ratio_by_hand() -> None:
    causal = EffectResult(estimate=5.0, std_error=1.0)
    s = self_estimates(EST, effect=causal)
    credited = np.array([10 * 0.5 * 0.8, 20 * 0.5 * 1.0, 30 * 1.0 * 0.5, 40 * 0.25 * 1.0])  # 4, 10, 15, 10
    assert s.credited.estimate == pytest.approx(credited.mean())
    assert s.credited.std_error == pytest.approx(credited.std(ddof=1) / 2)
    assert s.raw.estimate == pytest.approx(25.0)
    assert s.bias == pytest.approx(credited.mean() - 5.0)
    assert s.bias_std_error == pytest.approx(math.hypot(credited.std(ddof=1) / 2, 1.0))
    assert s.ratio == pytest.approx(credited.mean() / 5.0)
    assert "bias of the self-estimates" in s.summary()
    assert list(s.tidy()["term"]) == ["self_estimate_credited", "self_estimate_raw", "causal", "bias"]


def test_non_respondents_count_as_no_improvement() -> None:
    s = self_estimates(EST, effect=EffectResult(estimate=5.0, std_error=1.0), participants=8)
    assert s.credited.estimate == pytest.approx(39 / 8)
    assert (s.n_respondents, s.n_participants) == (4, 8)


def test_estimate_based_roi_beside_causal_roi() -> None:
    causal = EffectResult(estimate=5.0, std_error=1.0)
    s = self_estimates(EST, effect=causal)
    kw = {"value_per_unit": 10, "participants": 50, "horizon": 12, "costs": 20_000}
    assert roi(s.credited, **kw).roi_pct - roi(causal, **kw).roi_pct == pytest.approx(
        s.bias * 10 * 50 * 12 / 20_000 * 100)


def test_bad_shares_are_listed() -> None:
    bad = EST.assign(attributed=[0.5, 1.5, -0.1, 0.2])
    with pytest.raises(DataError) as info:
        self_estimates(bad, effect=EffectResult(estimate=5.0, std_error=1.0))
    # 1.5 makes the column percentages: -0.1 is outside [0, 100], and 0.5 and 0.2 (a share or a percent?)
    # are refused rather than read as half a percent
    assert sorted(str(f.value) for f in info.value.failures) == ["-0.1", "0.2", "0.5"]
    with pytest.raises(DataError, match="lack the column"):
        self_estimates(EST.drop(columns="confidence"), effect=EffectResult(estimate=5.0, std_error=1.0))


def test_roi_on_self_estimates_adjusts_for_error_and_says_so() -> None:
    # credited = improvement x attributed x confidence: 4, 10, 15, 10 (mean 9.75); the raw claims average 25
    s = self_estimates(EST, effect=EffectResult(estimate=5.0, std_error=1.0))
    r = roi(s, value_per_unit=10, participants=50, horizon=12, costs=20_000)
    assert r.effect == pytest.approx(9.75) and r.effect_df == 3
    assert r.benefit == pytest.approx(9.75 * 10 * 50 * 12)
    assert r.conf_int() == pytest.approx(roi(s.credited, value_per_unit=10, participants=50, horizon=12,
                                             costs=20_000).conf_int())
    assert "adjusted for error" in r.source
    assert any("weak evidence" in n and "not causal" in n for n in r.notes)
    assert "weak evidence" in str(r.explain())


def test_self_estimates_without_a_causal_effect() -> None:
    s = self_estimates(EST, participants=8)  # no comparison group: the estimates are the isolation
    assert s.causal is None and math.isnan(s.bias) and math.isnan(s.ratio)
    assert s.estimate == pytest.approx(39 / 8)
    assert list(s.tidy()["term"]) == ["self_estimate_credited", "self_estimate_raw"]
    assert "no causal estimate" in s.summary() and "no causal estimate" in str(s.explain())
    r = roi(s, value_per_unit=10, participants=8, horizon=12, costs=2_000)
    assert r.benefit == pytest.approx(39 / 8 * 10 * 8 * 12)
