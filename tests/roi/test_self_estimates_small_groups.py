"""self_estimates(): the bias interval on Student's t for small groups; shares and percentages mixed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impactlab.errors import DataError
from impactlab.results.base import EffectResult
from impactlab.roi import self_estimates

EST = pd.DataFrame({"improvement": [10.0, 20.0, 30.0, 40.0], "attributed": [0.5, 0.5, 1.0, 0.25],
                    "confidence": [80, 100, 50, 100]})


def test_bias_interval_of_two_respondents_uses_t() -> None:
    # the n = 2: credited 4 and 10 against a causal 5 known to SE 0.01
    two = EST.iloc[:2]
    s = self_estimates(two, effect=EffectResult(estimate=5.0, std_error=0.01))
    a, b = (np.std([4.0, 10.0], ddof=1) / math.sqrt(2)) ** 2, 0.01**2
    df = (a + b) ** 2 / (a * a / 1)  # Welch-Satterthwaite; the causal effect is normal (infinite df)
    assert s.bias_df == pytest.approx(df)
    half = stats.t.ppf(0.975, df) * math.sqrt(a + b)
    assert s.bias_conf_int() == pytest.approx((2.0 - half, 2.0 + half))
    assert half > 10 * stats.norm.ppf(0.975) * math.sqrt(a + b) / 2  # wider than z by far with 1 df
    bias = s.tidy().set_index("term").loc["bias"]
    assert (bias["conf_low"], bias["conf_high"]) == pytest.approx(s.bias_conf_int())


def test_bias_df_combines_both_dfs() -> None:
    s = self_estimates(EST, effect=EffectResult(estimate=5.0, std_error=1.0, df=10.0))
    a = (np.std([4.0, 10.0, 15.0, 10.0], ddof=1) / 2) ** 2
    assert s.bias_df == pytest.approx((a + 1.0) ** 2 / (a * a / 3 + 1.0 / 10))


def test_a_column_mixing_shares_and_percentages_is_refused() -> None:
    mixed = EST.assign(confidence=[0.5, 80, 100, 50])
    with pytest.raises(DataError) as info:
        self_estimates(mixed, effect=EffectResult(estimate=5.0, std_error=1.0))
    (failure,) = info.value.failures
    assert failure.column == "confidence" and "a share or a percent?" in failure.reason
