"""reaction() on real survey scales: small-sample NPS intervals, 1-10 recommend items, sliders, clipping."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from impactlab.errors import DataError
from impactlab.kirkpatrick import reaction
from impactlab.kirkpatrick._stats import nps

Z = stats.norm.ppf(0.975)


def _survey(item: str, values: list[float], lo: float, hi: float) -> pd.DataFrame:
    return pd.DataFrame({"program": "P", "item": item, "response": values, "scale_min": lo, "scale_max": hi})


def test_five_promoters_of_five_get_an_interval_with_width() -> None:
    r = reaction(_survey("recommend", [9, 10, 10, 9, 10], 0, 10))
    row = r.nps.iloc[0]
    # adjusted Wald: 5.75 promoters and 0.75 detractors of 8
    pp, pd_ = 5.75 / 8, 0.75 / 8
    se = math.sqrt((pp + pd_ - (pp - pd_) ** 2) / 8)
    assert row["nps"] == 100.0 and row["std_error"] == pytest.approx(100 * se)
    assert row["conf_low"] == pytest.approx(100 * (pp - pd_ - Z * se)) and row["conf_high"] == 100.0
    assert row["conf_low"] < 50
    assert "CI 17.5 to 100, adjusted Wald), n = 5" in r.summary()  # NPS points to one decimal
    assert r.conf_int() == pytest.approx((row["conf_low"], 100.0))
    lo90, hi90 = r.conf_int(0.90)
    assert lo90 == pytest.approx(100 * (pp - pd_ - stats.norm.ppf(0.95) * se)) and hi90 == 100.0


def test_nps_interval_coverage_small_version() -> None:
    # 400 seeded surveys of 20 answers from (promoters, passives, detractors) = (0.6, 0.3, 0.1): true NPS +50
    rng = np.random.default_rng(18)
    held = 0
    for _ in range(400):
        x = rng.choice([10, 8, 3], size=20, p=[0.6, 0.3, 0.1])
        res = nps(x)
        held += res["conf_low"] <= 50 <= res["conf_high"]
    assert 0.92 <= held / 400 <= 0.99


def test_one_to_ten_recommend_item_uses_the_nps_cut_offs_and_says_so() -> None:
    r = reaction(_survey("recommend", [1, 6, 7, 8, 9, 10, 10, 10], 1, 10))
    row = r.nps.iloc[0]
    assert (row["promoters"], row["passives"], row["detractors"]) == (4, 2, 2)
    assert row["nps"] == pytest.approx(25.0)
    assert any("1-10" in n and "cut-offs" in n for n in r.notes)
    assert "note: the NPS item 'recommend' is on 1-10" in r.summary()
    with pytest.raises(DataError, match="on the scale 1-5; NPS is defined on the 0-10"):
        reaction(_survey("recommend", [1, 5, 4], 1, 5))


def test_top_box_on_a_slider_is_a_band_not_the_last_two_points() -> None:
    vals = [99, 100, 85, 80, 79, 60, 59, 20]
    r = reaction(_survey("satisfaction", vals, 0, 100), nps_item=None)
    row = r.items.iloc[0]
    assert row["top_box_from"] == 60.0 and row["top_box"] == pytest.approx(6 / 8)
    one = reaction(_survey("satisfaction", vals, 0, 100), nps_item=None, top_box=1).items.iloc[0]
    assert one["top_box_from"] == 80.0 and one["top_box"] == pytest.approx(4 / 8)
    five = reaction(_survey("q", [5, 4, 3], 1, 5), nps_item=None).items.iloc[0]
    assert five["top_box_from"] == 4.0


def test_mean_interval_is_clipped_to_the_scale() -> None:
    r = reaction(_survey("relevance", [5, 5, 5, 4], 1, 5), nps_item=None)
    row = r.items.iloc[0]
    t = stats.t.ppf(0.975, 3)
    raw_high = 4.75 + t * np.std([5, 5, 5, 4], ddof=1) / 2
    assert raw_high > 5 and row["conf_high"] == 5.0
    assert row["conf_low"] == pytest.approx(4.75 - t * np.std([5, 5, 5, 4], ddof=1) / 2)
    tidy = r.tidy(0.99).set_index("term")
    assert tidy.loc["mean", "conf_high"] == 5.0
