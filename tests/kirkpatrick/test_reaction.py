"""reaction(): NPS, top-box, item means, reverse coding, response rate, bad scales."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from impactlab.errors import DataError
from impactlab.kirkpatrick import reaction
from impactlab.kirkpatrick._stats import wilson

Z = stats.norm.ppf(0.975)
TEN = [10, 9, 9, 8, 7, 6, 5, 10, 3, 9]  # 5 promoters (9-10), 2 passives (7-8), 3 detractors (0-6)


def _survey(item: str, values: list[float], lo: float, hi: float, **extra: list) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"employee_id": [f"E{i}" for i in range(n)], "program": "P", "item": item,
                         "response": values, "scale_min": lo, "scale_max": hi, **extra})


def test_nps_of_ten_responses_by_hand() -> None:
    r = reaction(_survey("recommend", TEN, 0, 10))
    row = r.nps.iloc[0]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (10, 5, 2, 3)
    assert row["nps"] == pytest.approx(20.0)
    # Rocks' (2016) adjusted Wald: 5.75 promoters and 3.75 detractors of 13; centre 2/13,
    # variance ((5.75 + 3.75) / 13 - (2/13)^2) / 13
    se = math.sqrt((9.5 / 13 - (2 / 13) ** 2) / 13) * 100
    centre = 100 * 2 / 13
    assert row["std_error"] == pytest.approx(se)
    assert (row["conf_low"], row["conf_high"]) == pytest.approx((centre - Z * se, centre + Z * se))
    assert r.headline()["metric"] == "NPS" and r.headline()["estimate"] == pytest.approx(20.0)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (7, 12), (50, 50), (123, 400)])
def test_wilson_equals_statsmodels(k: int, n: int) -> None:
    for level in (0.95, 0.90):
        ref = proportion_confint(k, n, alpha=1 - level, method="wilson")
        assert wilson(k, n, level) == pytest.approx(ref, abs=1e-12)


def test_top_two_box_and_mean_by_hand() -> None:
    vals = [5, 4, 4, 3, 2, 5, 1, 4]  # top-2-box (4-5): 5 of 8
    r = reaction(_survey("relevance", vals, 1, 5), nps_item=None)
    row = r.items.iloc[0]
    assert row["top_box"] == pytest.approx(5 / 8)
    assert (row["top_box_low"], row["top_box_high"]) == pytest.approx(
        proportion_confint(5, 8, method="wilson"))
    m, s = np.mean(vals), np.std(vals, ddof=1) / math.sqrt(8)
    t = stats.t.ppf(0.975, 7)
    assert (row["mean"], row["conf_low"], row["conf_high"]) == pytest.approx((m, m - t * s, m + t * s))
    assert r.nps.empty


def test_reverse_coded_item_and_declared_scale() -> None:
    df = _survey("too_long", [1, 2, 5, 4], np.nan, np.nan).drop(columns=["scale_min", "scale_max"])
    with pytest.raises(DataError, match="has no scale"):
        reaction(df.assign(scale_min=np.nan, scale_max=np.nan), nps_item=None)
    r = reaction(df.assign(scale_min=np.nan, scale_max=np.nan), nps_item=None, scale=(1, 5),
                 reverse=["too_long"])
    row = r.items.iloc[0]
    assert row["mean"] == pytest.approx(6 - 3.0) and bool(row["reversed"])
    assert row["top_box"] == pytest.approx(2 / 4)  # reversed answers 5, 4, 1, 2


def test_value_outside_scale_is_a_clear_error() -> None:
    bad = _survey("relevance", [3, 6, 4, 0], 1, 5)
    with pytest.raises(DataError) as info:
        reaction(bad, nps_item=None)
    assert "response" in str(info.value)
    with pytest.raises(DataError, match=r"outside the scale 1 to 5"):
        reaction(_survey("relevance", [3, 5, 4, 7], 1, 7), nps_item=None, scale={"relevance": (1, 5)})


def test_groups_and_response_rate() -> None:
    df = pd.concat([_survey("q", [5, 4, 3], 1, 5, facilitator=["A", "A", "B"])])
    r = reaction(df, nps_item=None, by="facilitator", roster=[f"E{i}" for i in range(6)])
    assert list(r.items["facilitator"]) == ["A", "B"]
    assert list(r.items["mean"]) == pytest.approx([4.5, 3.0])
    resp = r.response.iloc[0]
    assert (resp["invited"], resp["respondents"], resp["rate"]) == (6, 3, 0.5)
    assert (resp["conf_low"], resp["conf_high"]) == pytest.approx(proportion_confint(3, 6, method="wilson"))
    assert "response rate" in r.summary()
    with pytest.raises(DataError, match="no column 'cohort'"):
        reaction(df, by="cohort")


def test_on_simulated_surveys_every_number_has_an_interval() -> None:
    import impactlab as il

    org = il.datasets.simulate_org(n_employees=400, n_periods=14, seed=5)
    r = il.kirkpatrick.reaction(il.read_surveys(org.surveys))
    assert set(r.items["item"]) == {"recommend", "relevance", "satisfaction"}
    assert r.items[["conf_low", "conf_high", "top_box_low", "top_box_high"]].notna().all().all()
    assert (r.items["conf_low"] < r.items["mean"]).all() and (r.items["mean"] < r.items["conf_high"]).all()
    assert len(r.respondents) > 0 and r.respondents["reaction"].between(0, 1).all()


def test_nps_item_found_whatever_its_case_and_a_named_item_that_is_absent_is_refused() -> None:
    # "Recommend" as a survey tool writes it is the NPS question: NPS 20 as in the hand-computed case
    r = reaction(_survey("Recommend ", TEN, 0, 10))
    assert r.headline()["metric"] == "NPS" and r.headline()["estimate"] == pytest.approx(20.0)
    assert r.summary().startswith("Level 1 reaction: NPS 20 (95% CI ")
    with pytest.raises(DataError, match="'Would recommend' is not among the survey's items"):
        reaction(_survey("recommend", TEN, 0, 10), nps_item="Would recommend")
    # the default not found: the item that reads like it is named in a note, never dropped silently
    r = reaction(_survey("How likely to recommend us", TEN, 0, 10))
    assert r.headline()["metric"] == "mean How likely to recommend us"
    assert any("nps_item='How likely to recommend us'" in n for n in r.notes)
    assert "mean How likely to recommend us 7.60 (95% CI " in r.summary()  # 76 / 10
    # and the option the note names gives the NPS
    r = reaction(_survey("How likely to recommend us", TEN, 0, 10), nps_item="How likely to recommend us")
    assert r.headline()["metric"] == "NPS" and r.headline()["estimate"] == pytest.approx(20.0)
