"""portfolio() holds each programme's truth on simulated three-programme organisations; the naive
per-programme Callaway–Sant'Anna, which ignores the other programmes, does not
(tests/validation/portfolio_study.py).

The default run draws four organisations (seeds the slow run does not use; the naive CS on the programme
without effect only); the slow run is the 100 organisations of docs/validation.md ("Several programmes side
by side").
"""

from __future__ import annotations

import numpy as np
import pytest
from portfolio_study import FIRST_SEED, report, study


def test_four_organisations() -> None:
    d = study(range(9600, 9604), naive=("Time Management",))
    # 12 programme-organisations; at 95 % about 11.4 intervals hold the truth (10 or more: P = 0.98)
    assert int(d["covered"].sum()) >= 10
    rep = report(d)
    # the programme without any effect: portfolio within sampling error of 0 (3 SE of a mean of 4), the
    # naive CS far above it (it credits the programme with the others' effects: +284 over 100 organisations)
    tm = rep.loc["Time Management"]
    assert abs(tm["bias"]) < 3 * tm["mean_se"] / np.sqrt(4)
    assert tm["naive_bias"] > 150
    # most trained employees took another programme too
    assert (rep["share_also_other"] > 0.5).all()


@pytest.mark.slow
def test_one_hundred_organisations() -> None:
    d = study(range(FIRST_SEED, FIRST_SEED + 100))
    rep = report(d)
    assert (rep["covered"] >= 0.90).all(), rep
    # the naive per-programme CS is biased upwards for the programmes taken after others, far beyond
    # its own sampling error of the mean over 100 organisations
    naive = d.assign(err=d["naive_estimate"] - d["naive_truth"]).groupby("program")["err"]
    t = naive.mean() / (naive.std() / np.sqrt(naive.count()))
    assert (t[["Negotiation Skills", "Time Management"]] > 5).all(), t
    assert (rep["naive_covered"].loc[["Negotiation Skills", "Time Management"]] < 0.5).all(), rep
