"""result.explain(): the claims follow the numbers, the method's assumption and the pre-trend test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from impactlab.results.base import EffectResult
from impactlab.results.compare import CompareResult
from impactlab.results.explain import Explanation, pretrend_test


def _cs(estimate=2.0, std_error=0.5, **kw) -> EffectResult:
    return EffectResult(estimate=estimate, std_error=std_error, method="callaway_santanna",
                        label="Callaway–Sant'Anna overall ATT", outcome="revenue",
                        spec={"control": "not_yet_treated", "anticipation": 0,
                              "data_window": "2024-01 to 2025-06"}, **kw)


def _dynamic(pre=(0.3, -0.2), cov=0.01) -> EffectResult:
    el = pd.DataFrame({"event_time": [-2, -1, 0, 1], "estimate": [*pre, 2.0, 3.0],
                       "std_error": [0.1, 0.2, 0.5, 0.5]})
    V = np.diag(el["std_error"].to_numpy() ** 2)
    V[0, 1] = V[1, 0] = cov
    return _cs(estimate=2.5, std_error=0.4, elements=el, element_vcov=V)


def test_significant_causal_effect_states_interval_assumption_and_comparison() -> None:
    ex = _cs().explain()
    assert isinstance(ex, Explanation)
    text = str(ex)
    # 2 +- 1.959964 x 0.5 = 1.02 .. 2.98
    assert "2.00 on revenue" in ex.headline and "95% CI 1.02 to 2.98" in ex.headline
    assert "raised revenue by between 1.02 and 2.98" in text
    assert "over 2024-01 to 2025-06" in text
    assert "Parallel trends" in ex.assumption and "no anticipation" in ex.assumption
    assert "not yet trained" in ex.comparison
    assert "no pre-training test" in text  # a simple aggregate cannot check pre-trends
    assert ex.pretrend is None


def test_interval_including_zero_is_not_reported_as_an_effect() -> None:
    ex = _cs(estimate=0.4, std_error=0.5).explain(level=0.9)
    text = str(ex)
    assert "consistent with no effect" in text and "90% interval" in text
    assert "raised" not in text
    assert "not ruled out" in text  # 0.4 + 1.645 x 0.5 = 1.22
    assert "1.22" in text


def test_naive_methods_are_never_claimed_as_causal() -> None:
    for method in ("naive_difference", "pre_post", "twfe", "regression"):
        res = EffectResult(estimate=5.0, std_error=0.2, method=method, outcome="revenue")
        text = str(res.explain())
        assert "cannot be read as the effect of the training" in text, method
        assert "raised" not in text, method
    assert "Ashenfelter" in EffectResult(estimate=1.0, std_error=1.0, method="pre_post").explain().assumption
    assert "Goodman-Bacon" in EffectResult(estimate=1.0, std_error=1.0, method="twfe").explain().assumption


def test_pretrend_wald_statistic_by_hand() -> None:
    # b = (0.3, -0.2), V = [[0.01, 0.01], [0.01, 0.04]]: b'V^-1 b = 0.0052 / 0.0003 = 17.333
    t = pretrend_test(_dynamic())
    assert t is not None and t.df == 2 and t.covariance == "joint"
    assert t.statistic == pytest.approx(0.0052 / 0.0003)
    assert t.p_value == pytest.approx(math.exp(-t.statistic / 2))  # chi2(2) tail
    text = str(_dynamic().explain())
    assert "Pre-training check fails" in text and "chi2(2) = 17.33" in text


def test_pretrend_passing_is_reported_with_its_limits() -> None:
    res = _dynamic(pre=(0.05, -0.02), cov=0.0)
    t = pretrend_test(res)
    assert t.statistic == pytest.approx(0.05**2 / 0.01 + 0.02**2 / 0.04)
    text = str(res.explain())
    assert "jointly indistinguishable from zero" in text and "Roth 2022" in text


def test_pretrend_falls_back_to_standard_errors_without_covariance() -> None:
    el = pd.DataFrame({"event_time": [-1, 0], "estimate": [0.2, 1.0], "std_error": [0.1, 0.2]})
    t = pretrend_test(EffectResult(estimate=1.0, std_error=0.2, elements=el))
    assert t.covariance == "diagonal" and t.statistic == pytest.approx(4.0) and t.df == 1
    assert pretrend_test(_cs()) is None


def test_compare_explains_the_gap_and_the_truth() -> None:
    naive = EffectResult(estimate=5.0, std_error=0.3, method="naive_difference", outcome="revenue")
    cmp = CompareResult(results={"naive_difference": naive, "callaway_santanna": _cs()}, truth=2.2,
                        outcome="revenue", spec={"data_window": "2024-01 to 2025-06"})
    ex = cmp.explain(event_study=_dynamic())
    text = str(ex)
    assert "says 5.00; it overstates the causal estimate by 3.00 (150% of the causal estimate)" in text
    assert "true effect is 2.20, inside" in text
    assert ex.pretrend is not None and ex.pretrend.df == 2
    assert "no pre-training test" not in text
    html = ex._repr_html_()
    assert html.startswith("<div") and "overstates" in html and "<li>" in html


def test_pretrend_leaves_out_the_anticipation_window() -> None:
    el = pd.DataFrame({"event_time": [-3, -2, -1, 0], "estimate": [0.1, -0.2, -3.0, 2.0],
                       "std_error": [0.1, 0.1, 0.1, 0.5]})
    res = EffectResult(estimate=2.0, std_error=0.5, method="callaway_santanna", elements=el,
                       spec={"anticipation": 1})
    t = pretrend_test(res)
    # the dip at -1 is inside the window; -3 and -2 are tested: 0.1^2/0.01 + 0.2^2/0.01 = 5
    assert t.df == 2 and t.statistic == pytest.approx(5.0)


def test_an_event_study_is_explained_with_its_own_pretrend_test():
    import impactlab as il
    from impactlab.datasets import simulate_org

    org = simulate_org(400, 16, seed=3)
    panel = org.panel(cluster="team")
    es = il.event_study(panel, method="twfe", window=(-4, 3))
    own = es.pretrend
    assert own is not None and own.distribution == "F"
    t = pretrend_test(es)
    assert (t.statistic, t.df, t.p_value, t.df_denom) == (own.statistic, own.df, own.p_value, own.df_denom)
    assert str(t).startswith(f"F({own.df}, ")
    assert str(t) in str(es.explain())
