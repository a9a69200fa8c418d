"""The ROI follows the effect's own interval: with few clusters ``evaluate`` takes the headline's interval
from the wild cluster bootstrap, and the ROI's interval and P(ROI > 0) must rest on that interval, not on
estimate ± t × SE (two numbers side by side on one slide from two methods)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import impactlab as il

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
from evaluate_study import org_panel  # noqa: E402


@pytest.fixture(scope="module")
def few_clusters():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel, _ = org_panel(9400, "teams6", n_employees=600)
        ev = il.evaluate(panel)
        r = il.roi(ev.effect, value_per_unit=0.25, participants=300, horizon=12, costs=250_000, seed=0)
    return ev, r


def test_roi_interval_is_the_image_of_the_effects_interval(few_clusters) -> None:
    ev, r = few_clusters
    lo, hi = ev.conf_int(0.95)
    c = float(np.diff(ev.effect.conf_int(0.95))[0])
    assert c > 0
    k = r.benefit_per_unit_effect
    expect = sorted(((k * lo - r.cost) / r.cost * 100, (k * hi - r.cost) / r.cost * 100))
    assert r.conf_int(0.95) == pytest.approx(tuple(expect), rel=1e-9)
    assert r.effect_interval_scale is not None and any("wild cluster bootstrap" in n for n in r.notes)
    # the t interval of the SE would have given other bounds: the test can fail
    t_lo = ev.estimate - 1.96 * ev.std_error
    assert abs(t_lo - lo) > 1e-6 * abs(lo)


def test_probability_and_draws_follow_the_interval(few_clusters) -> None:
    ev, r = few_clusters
    lo, hi = ev.conf_int(0.95)
    draws = r.distribution("benefit") / r.benefit_per_unit_effect
    share = np.mean((draws >= lo) & (draws <= hi))
    assert share == pytest.approx(0.95, abs=0.01)   # 10,000 draws by default: MC error about 0.002


def test_an_effect_whose_interval_is_its_se_keeps_it() -> None:
    res = il.datasets.example_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = il.twfe(res)
    r = il.roi(fit, value_per_unit=10.0, participants=20, horizon=12, costs=1_000)
    assert r.effect_interval_scale is None
