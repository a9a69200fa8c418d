"""impact_summary records the chain of evidence and the ROI under doubt as the results hold them."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.report import impact_summary, write_summary


@pytest.fixture(scope="module")
def pieces():
    rng = np.random.default_rng(21)
    n, t = 300, 8
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < 100, np.arange(n) < 200], [5, 6], 0), t)
    y = 0.1 * time + 1.0 * ((cohort > 0) & (time >= cohort)) + rng.normal(0, 1, n * t)
    panel = il.Panel.from_frame(pd.DataFrame({"id": unit, "t": time, "y": y, "g": cohort}), unit="id",
                                time="t", outcome="y", cohort="g")
    cmp = il.compare(panel)
    fit = il.callaway_santanna(panel)
    r = il.roi(cmp.causal, value_per_unit=100, participants=200, horizon=12, costs=100_000)
    return cmp, r, il.kirkpatrick.chain(results=cmp.causal, roi=r), il.roi_sensitivity(r, fit)


def test_chain_and_doubt_are_recorded(pieces, tmp_path) -> None:
    cmp, r, ch, doubt = pieces
    s = impact_summary(cmp, r, chain=ch, roi_doubt=doubt)
    assert [lv["name"] for lv in s["chain"]["levels"]] == ["Results", "ROI"]
    assert s["chain"]["levels"][0]["estimate"] == pytest.approx(cmp.causal.estimate)
    assert s["chain"]["levels"][1]["conf_low"] == pytest.approx(r.conf_int()[0])
    assert s["chain"]["links"][0]["link"] == "4 -> 5" and s["chain"]["links"][0]["conf_low"] is None
    assert s["roi_doubt"]["breakdown"] == pytest.approx(doubt.breakdown) and math.isfinite(doubt.breakdown)
    assert s["roi_doubt"]["sentence"] == doubt.sentence()
    back = json.loads(write_summary(s, tmp_path / "s.json").read_text(), parse_constant=pytest.fail)  # no NaN
    assert back["roi_doubt"]["target"] == doubt.target
    never = dataclasses.replace(doubt, breakdown=float("inf"))
    assert impact_summary(cmp, r, roi_doubt=never)["roi_doubt"]["breakdown"] == "inf"
    assert "chain" not in impact_summary(cmp, r) and "roi_doubt" not in impact_summary(cmp, r)
