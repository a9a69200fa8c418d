"""Waves whose effects grow at different speeds: TWFE misleads, Bacon shows why, CS and SA recover the truth.

Goodman-Bacon (2021): the static TWFE coefficient averages 2×2 comparisons, and the later-vs-earlier ones
use already-trained units as controls, so growing effects enter with a minus sign. Callaway & Sant'Anna
(2021) and Sun & Abraham (2021) compare only with untrained units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il


def waves(seed=0, n=400, T=10, cohorts=(3, 5, 7), p_never=0.1):
    """Effect 0.5 + slope·e with slope 1.0, 0.6, 0.3 for waves 3, 5, 7; 10 % never trained."""
    rng = np.random.default_rng(seed)
    gu = np.where(rng.random(n) < p_never, 0, rng.choice(cohorts, n))
    unit, time, g = np.repeat(np.arange(n), T), np.tile(np.arange(1, T + 1), n), np.repeat(gu, T)
    e = time - g
    slope = np.select([g == 3, g == 5], [1.0, 0.6], 0.3)
    eff = np.where((g > 0) & (e >= 0), 0.5 + slope * e, 0.0)
    y = np.repeat(rng.normal(size=n), T) + 0.2 * time + eff + rng.normal(size=n * T)
    return pd.DataFrame({"id": unit, "t": time, "y": y, "g": g, "eff": eff})


@pytest.fixture(scope="module")
def data():
    df = waves()
    p = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    treated = df[(df["g"] > 0) & (df["t"] >= df["g"])]
    by_e = df[df["g"] > 0].assign(e=lambda d: d["t"] - d["g"]).groupby("e")["eff"].mean()
    return p, float(treated["eff"].mean()), by_e


def test_twfe_is_visibly_biased(data):
    p, truth, _ = data
    tw = il.twfe(p)
    assert truth == pytest.approx(2.65, abs=0.01)
    assert abs(tw.estimate - truth) > 10 * tw.std_error
    assert tw.estimate < 0.25 * truth  # almost all of the effect is lost


def test_bacon_shows_the_forbidden_comparisons_pull_it_down(data):
    p, truth, _ = data
    b = il.bacon_decomposition(p).by_type().set_index("type")
    assert b.loc["later_vs_earlier", "weight"] > 0.4
    assert b.loc["later_vs_earlier", "estimate"] < -1.5  # the wrong sign
    assert b.loc["treated_vs_never", "estimate"] > 1.5
    assert b["contribution"].sum() == pytest.approx(il.twfe(p).estimate, abs=1e-10)


def test_callaway_santanna_and_sun_abraham_recover_the_truth(data):
    p, truth, by_e = data
    cs = il.callaway_santanna(p)
    assert abs(cs.estimate - truth) < 3 * cs.std_error
    sa = il.sun_abraham(p)
    el = sa.elements.set_index("event_time")
    z = (el["estimate"] - by_e.reindex(el.index)) / el["std_error"]
    assert (z.abs() < 3.5).all(), z.to_dict()
    assert sa.pretrend.p_value > 0.01
    # saturated SA with never-treated controls and no covariates makes the same comparisons as CS with a
    # universal base period
    es_cs = il.event_study(p, window=(-3, 3), method="callaway_santanna").elements.set_index("event_time")
    np.testing.assert_allclose(el.loc[es_cs.index, "estimate"], es_cs["estimate"], rtol=1e-8)
