"""dose_response with anticipation: the months between the base period and training enter no average.

With ``anticipation=a`` each cohort's changes are taken from period ``g - 1 - a``; ATT^o, ACRT^o and the
curves average the periods from training on (``t >= g``), as R ``did``'s aggregations do. Until the fix
the periods ``g - a .. g - 1`` were averaged in too, so a pre-training dip (simulate_org's Ashenfelter dip)
pulled ATT^o down by about the dip times their share of the cells (docs/validation.md, "Dose response on
the simulator's organisations").
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactlab as il

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "validation"))
from dose_study import dose_org, effect_panel  # noqa: E402

DIP = -3.0


def _frame(n: int = 150, periods: int = 7, cohorts: tuple[int, ...] = (4, 5), seed: int = 0,
           noise: float = 0.0, dip: float = DIP) -> pd.DataFrame:
    """A third never trained, the rest split over ``cohorts``; hours uniform on 1..5; the outcome drops by
    ``dip`` in the two periods before training and gains 1 + 0.5 d^2 from training on."""
    rng = np.random.default_rng(seed)
    never = n // 3
    g = np.zeros(n, dtype=int)
    g[never:] = np.array(cohorts)[np.arange(n - never) % len(cohorts)]
    d = np.where(g > 0, rng.uniform(1, 5, n), 0.0)
    fe = rng.normal(0, 2, n)
    rows = []
    for i in range(n):
        for t in range(1, periods + 1):
            y = fe[i] + 0.7 * t + rng.normal(0, noise) if noise else fe[i] + 0.7 * t
            if g[i] and g[i] - 2 <= t < g[i]:
                y += dip
            if g[i] and t >= g[i]:
                y += 1 + 0.5 * d[i] ** 2
            rows.append((i, t, y, g[i], d[i]))
    return pd.DataFrame(rows, columns=["id", "t", "y", "g", "hours"])


def _panel(frame: pd.DataFrame) -> il.Panel:
    return il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g", covariates=["hours"])


def test_a_dip_before_training_stays_out_of_the_averages() -> None:
    """No noise, a dip of -3 in the two periods before training, anticipation=2: every cell starts at
    g - 3 and is a period from training on, so ATT^o is the cohort-weighted mean of 1 + 0.5 d^2 over the
    trained, ACRT^o the mean of d, and the curves are the truth. Averaging the two dip periods in (the old
    rule) gave an ATT^o lower by 3 x their share of each cohort's cells."""
    f = _frame()
    res = il.dose_response(_panel(f), dose="hours", anticipation=2, n_draws=None)
    cells = res.cells
    assert (cells["period"] >= cells["cohort"]).all()
    assert sorted(cells.groupby("cohort").size().tolist()) == [3, 4]    # periods 4..7 and 5..7
    units = f.drop_duplicates("id")
    trained = units[units["g"] > 0]
    by_g = trained.groupby("g")
    share = by_g.size() / len(trained)
    truth = float((share * by_g["hours"].apply(lambda d: (1 + 0.5 * d ** 2).mean())).sum())
    assert res.estimate == pytest.approx(truth, abs=1e-9)
    assert res.acrt == pytest.approx(float((share * by_g["hours"].mean()).sum()), abs=1e-9)
    att = res.curves[res.curves["curve"] == "ATT"]
    np.testing.assert_allclose(att["estimate"], 1 + 0.5 * att["dose"] ** 2, atol=1e-8)
    # anticipation=1 starts from g - 2, inside the dip: the dip of the base period (-3) shows as a gain of 3
    one = il.dose_response(_panel(f), dose="hours", anticipation=1, n_draws=None)
    assert one.estimate == pytest.approx(truth - DIP, abs=1e-9)


def test_att_o_is_callaway_santanna_by_cohort_with_anticipation() -> None:
    """With noise and anticipation=1, ATT^o equals Callaway-Sant'Anna's 'group' aggregation with the
    never-trained as comparison and the same anticipation (post-training cells only, R did's rule)."""
    panel = _panel(_frame(cohorts=(3, 5), seed=4, noise=1.0, dip=0.0))
    res = il.dose_response(panel, dose="hours", anticipation=1, n_draws=None)
    cs = il.callaway_santanna(panel, control="never_treated", anticipation=1).aggregate("group")
    assert res.estimate == pytest.approx(cs.estimate, abs=1e-10)
    assert list(res.cells.groupby("cohort")["period"].min()) == [3, 5]


def test_on_a_simulated_organisation_with_the_dip() -> None:
    """simulate_org's defaults (the two-month dip), hours 4 to 24 with the gain proportional to them
    (tests/validation/dose_study.py), seed 9600, 1,200 employees, anticipation=2: ATT^o within its
    interval of its own estimand (the estimator run on the true effects); the estimand averages months from
    training on only, where the true effect is positive."""
    panel, effects = dose_org(9600, 1200)
    res = il.dose_response(panel, dose="hours", anticipation=2, n_draws=None)
    truth = il.dose_response(effect_panel(panel, effects), dose="hours", anticipation=2, n_draws=None)
    lo, hi = res.conf_int()
    assert lo <= truth.estimate <= hi
    assert (truth.cells["att"] > 0).all()
    assert abs(res.estimate - truth.estimate) < 1.5 * res.std_error
