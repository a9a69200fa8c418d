"""R ``did`` 2.1.2 on a published panel with one-unit cohorts: the castle-doctrine data of Cheng & Hoekstra
(2013) as R's bacondecomp ships it (``tests/published/data/castle.csv``), where Florida (2005) and one state
adopting in 2009 are cohorts of one. R keeps them (with a warning about small groups); so does impactlab, and
the headline simple ATT, every ATT(g,t) and every aggregation equal R's. References made by
``data/make_castle.R``; R's printed summaries are in ``data/castle_printed.txt`` (provenance:
``data/PROVENANCE.md``).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_did_extra_oracle import group_overall_se

from impactlab.errors import StatisticalWarning
from impactlab.estimators.callaway_santanna import CallawaySantAnnaResult, callaway_santanna
from impactlab.panel.panel import Panel

CASTLE = Path(__file__).resolve().parents[1] / "published" / "data" / "castle.csv"
RTOL = 1e-6
SCENARIOS = {"castle_nev_dr": "never_treated", "castle_nyt_dr": "not_yet_treated"}


def castle_panel() -> Panel:
    """The panel as make_castle.R builds it: a state's cohort is its first year with the law (0 = never)."""
    df = pd.read_csv(CASTLE)
    first = df[df["post"] == 1].groupby("state")["year"].min()
    df["effyear"] = df["state"].map(first).fillna(0).astype(int)
    return Panel.from_frame(df, unit="state", time="year", outcome="l_homicide", cohort="effyear")


def fit(control: str) -> CallawaySantAnnaResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return callaway_santanna(castle_panel(), control=control, method="dr")


def _rel(a: object, b: object) -> float:
    a_, b_ = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a_ - b_) / np.abs(b_)))


def test_the_panel_has_one_unit_cohorts() -> None:
    df = pd.read_csv(CASTLE)
    sizes = df[df["post"] == 1].groupby("state")["year"].min().value_counts()
    assert sizes[2005] == 1 and sizes[2009] == 1


def test_one_unit_cohorts_are_kept_and_flagged() -> None:
    with pytest.warns(StatisticalWarning, match="2005"):
        res = callaway_santanna(castle_panel(), control="never_treated", method="dr")
    assert {2005, 2009} <= set(res.att_gt["cohort"])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_att_gt_equals_r_did(did_oracle_dir: Path, scenario: str) -> None:
    ref = pd.read_csv(did_oracle_dir / "ref_castle_attgt.csv")
    ref = ref[ref["scenario"] == scenario]
    got = fit(SCENARIOS[scenario]).att_gt
    m = ref.merge(got, left_on=["group", "t"], right_on=["cohort", "time"], how="left", validate="1:1")
    assert len(m) == len(got) == 50
    assert _rel(m["estimate"], m["att"]) < RTOL
    assert _rel(m["std_error"], m["se"]) < RTOL


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kind", ["simple", "group", "dynamic", "calendar"])
def test_aggregations_equal_r_did(did_oracle_dir: Path, scenario: str, kind: str) -> None:
    ref = pd.read_csv(did_oracle_dir / "ref_castle_aggte.csv")
    ref = ref[(ref["scenario"] == scenario) & (ref["type"] == kind)]
    res = fit(SCENARIOS[scenario])
    agg = res if kind == "simple" else res.aggregate(kind)
    assert abs(agg.estimate - ref["overall_att"].iloc[0]) / abs(ref["overall_att"].iloc[0]) < RTOL
    if kind == "group":
        # did 2.1.2's share influence used the first cells' cohorts (fixed in R did since; see
        # test_did_extra_oracle.group_overall_se): 2.1.2's rule applied to our influence gives R's number
        G = np.asarray(res._unit_group)
        glist = np.unique(G[G > 0])
        el = agg.tidy().iloc[1:]
        cells = glist[np.searchsorted(el["cohort"].to_numpy(dtype=float), res.att_gt["cohort"].to_numpy())]
        ours, r_212 = group_overall_se(G, np.asarray(agg.element_influence), el["estimate"].to_numpy(), cells)
        assert agg.std_error == pytest.approx(ours, rel=1e-10)
        assert abs(r_212 - ref["overall_se"].iloc[0]) / ref["overall_se"].iloc[0] < RTOL
    else:
        assert abs(agg.std_error - ref["overall_se"].iloc[0]) / ref["overall_se"].iloc[0] < RTOL
    if kind != "simple":
        tidy = agg.tidy().iloc[1:]
        assert _rel(tidy["estimate"], ref["att_egt"]) < RTOL
        assert _rel(tidy["std_error"], ref["se_egt"]) < RTOL


def test_headline_equals_r_printed_digits(did_oracle_dir: Path) -> None:
    """The simple ATT and its SE as R's ``summary(aggte(..., type = "simple"))`` prints them."""
    printed = (did_oracle_dir / "castle_printed.txt").read_text()
    for scenario, control in SCENARIOS.items():
        block = printed.split(f"#### {scenario} simple")[1]
        att, se = (float(x) for x in re.search(r"\n\s*(-?\d\.\d{4})\s+(\d\.\d{4})\s", block).groups())
        res = fit(control)
        assert (round(res.estimate, 4), round(res.std_error, 4)) == (att, se)
    assert (att, se) == (0.1094, 0.0392)   # not-yet-treated, as printed
