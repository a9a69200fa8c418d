"""Roll-out design: analytic variance against theory and simulation, the MDE formula, the recommendation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impactlab as il
from impactlab.errors import EstimationError, PanelError
from impactlab.estimators.power import minimum_detectable_effect, power


def _history(n: int = 300, t: int = 10, rho: float = 0.0, seed: int = 5) -> il.Panel:
    rng = np.random.default_rng(seed)
    e = np.zeros((n, t))
    for j in range(t):
        e[:, j] = (rho * e[:, j - 1] if j else 0.0) + rng.normal(size=n)
    y = 2 * rng.normal(size=n)[:, None] + 0.3 * np.arange(t) + e
    df = pd.DataFrame({"id": np.repeat(np.arange(n), t), "m": np.tile(np.arange(1, t + 1), n), "y": y.ravel(),
                       "g": 0})
    return il.Panel.from_frame(df, unit="id", time="m", outcome="y", cohort="g")


def test_analytic_se_matches_theory_for_white_noise():
    # iid noise (sd 1): A = mean of k post periods - base period, Var(A) = 1/k + 1; one wave starting in
    # period 5 of 10: k = 6. SE^2 = Var(A) (1/n_w + 1/n_c). Unit effects cancel.
    p = _history(n=4000, rho=0.0)
    r = power(p, waves={5: 1000}, n_control=3000)
    theory = np.sqrt((1 / 6 + 1) * (1 / 1000 + 1 / 3000))
    assert r.std_error == pytest.approx(theory, rel=0.05)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert r.mde == pytest.approx(z * r.std_error, rel=1e-12)
    assert power(p, r.mde, waves={5: 1000}, n_control=3000).power == pytest.approx(0.8, abs=1e-3)


def test_serial_correlation_changes_the_variance():
    # persistent shocks (rho = 0.9, started at variance 1) accumulate: post-period outcomes drift away from
    # the base period, so the contrast is noisier than with white noise of the same innovation variance
    iid = power(_history(n=2000, rho=0.0), waves={5: 500}).std_error
    ar = power(_history(n=2000, rho=0.9), waves={5: 500}).std_error
    assert ar > 1.2 * iid


def test_simulated_spread_agrees_with_the_analytic_se():
    p = _history(n=200, rho=0.6)
    r = power(p, 0.0, waves={4: 40, 6: 40}, method="simulation", n_draws=40, seed=3)
    sd = r.simulation["estimate"].std(ddof=1)
    # 40 draws: the SD is within ~25 % of the truth with high probability
    assert sd == pytest.approx(r.std_error, rel=0.3)
    assert r.simulation.shape == (40, 3) and r.spec["seed"] == 3
    again = power(p, 0.0, waves={4: 40, 6: 40}, method="simulation", n_draws=40, seed=3)
    pd.testing.assert_frame_equal(r.simulation, again.simulation)


def test_recommendation_compares_plans_and_uses_every_unit():
    p = _history(n=300)
    r = power(p, effect=0.3)
    cand = r.candidates
    assert cand["mde"].is_monotonic_increasing and len(cand) > 10
    assert r.mde == cand["mde"].iloc[0]
    assert r.plan["units"].sum() == 300 and r.plan["wave"].iloc[-1] == "comparison"
    assert minimum_detectable_effect(p) == pytest.approx(r.mde)
    assert "Recommended" in r.summary() and r._repr_html_().startswith("<")
    # more people, smaller MDE
    assert minimum_detectable_effect(_history(n=1200)) < r.mde


def test_errors_say_what_to_do():
    p = _history(n=50)
    with pytest.raises(EstimationError, match="first period"):
        power(p, waves={1: 10})
    with pytest.raises(PanelError, match="not a period"):
        power(p, waves={99: 10})
    with pytest.raises(EstimationError, match="needs 60 units"):
        power(p, waves={3: 30}, n_control=30)
    with pytest.raises(EstimationError, match="comparison group"):
        power(p, waves={3: 49})
    with pytest.raises(ValueError, match="needs the effect"):
        power(p, waves={3: 20}, method="simulation")
    with pytest.raises(ValueError, match="'method'"):
        power(p, method="bayes")  # type: ignore[arg-type]
