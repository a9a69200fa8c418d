"""One contract for every estimator: a new frozen result, the tidy columns, the panel left unchanged."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import impactlab as il
from impactlab.results.base import TIDY_COLUMNS

ESTIMATORS = {
    "naive_difference": lambda p: il.naive_difference(p),
    "pre_post": lambda p: il.pre_post(p),
    "regression": lambda p: il.regression(p, ["x1"]),
    "twfe": lambda p: il.twfe(p),
    "callaway_santanna": lambda p: il.callaway_santanna(p),
    "cs_simple": lambda p: il.callaway_santanna(p).aggregate("simple"),
    "cs_group": lambda p: il.callaway_santanna(p).aggregate("group"),
    "cs_dynamic": lambda p: il.callaway_santanna(p, control="not_yet_treated").aggregate("dynamic"),
    "cs_calendar": lambda p: il.callaway_santanna(p, method="reg").aggregate("calendar"),
    "compare": lambda p: il.compare(p),
    "event_study_twfe": lambda p: il.event_study(p, window=(-2, 2)),
    "event_study_sa": lambda p: il.event_study(p, window=(-2, 2), method="sun_abraham"),
    "event_study_cs": lambda p: il.event_study(p, window=(-2, 2), method="callaway_santanna"),
    "sun_abraham": lambda p: il.sun_abraham(p),
    "bacon_decomposition": lambda p: il.bacon_decomposition(p),
}


@pytest.fixture
def panel(staggered_frame):
    return il.Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated",
                               covariates=["x1"])


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_result_contract(name, panel):
    before = panel.long()
    res = ESTIMATORS[name](panel)
    pd.testing.assert_frame_equal(panel.long(), before)
    assert dataclasses.is_dataclass(res)
    field = dataclasses.fields(res)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(res, field, None)
    tidy = res.tidy()
    assert list(tidy.columns[: len(TIDY_COLUMNS)]) == list(TIDY_COLUMNS)
    assert len(tidy) >= 1 and tidy["estimate"].notna().all()
    lo, hi = res.conf_int(0.9)
    assert lo < res.estimate < hi
    assert isinstance(res.summary(), str) and len(res.summary()) > 20
    html = res._repr_html_()
    assert html.startswith("<") and "table" in html


@pytest.mark.parametrize("name", ["naive_difference", "twfe", "cs_simple"])
def test_row_order_does_not_matter(name, staggered_frame):
    kw = {"unit": "id", "time": "year", "outcome": "y", "cohort": "first_treated", "covariates": ["x1"]}
    a = ESTIMATORS[name](il.Panel.from_frame(staggered_frame, **kw))
    b = ESTIMATORS[name](il.Panel.from_frame(staggered_frame.sample(frac=1, random_state=3), **kw))
    assert a.estimate == pytest.approx(b.estimate, rel=1e-10)
    assert a.std_error == pytest.approx(b.std_error, rel=1e-8)
