"""synthetic_did / synthetic_control: what the weights and effects must be on cases known by hand, the
invariances, the team aggregation, the ledger and the refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError, PanelError
from impactlab.estimators import _synthetic_weights as sw


def _frame(n: int = 12, T: int = 10, start: int = 7, n_treated: int = 2, effect: float = 3.0,
           noise: float = 0.2, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(u, t, 10 + u % 5 + 0.3 * t + (effect if u < n_treated and t >= start else 0.0)
             + rng.normal(0, noise), start if u < n_treated else 0)
            for u in range(n) for t in range(1, T + 1)]
    return pd.DataFrame(rows, columns=["team", "month", "sales", "pilot"])


def _panel(frame: pd.DataFrame, **kw: str) -> il.Panel:
    return il.Panel.from_frame(frame, unit="team", time="month", outcome="sales", cohort="pilot", **kw)


def test_parallel_units_give_the_effect_exactly():
    # every unit = its level + a common path; the trained unit sits above all others and gains 4 from month
    # 6: any weights give parallel pre-training paths, so synthetic DiD is exactly 4; synthetic control
    # (no intercept) cannot match the level and is off by the gap
    rng = np.random.default_rng(3)
    common = np.cumsum(rng.normal(0, 1, 8))
    rows = [(u, t, 5.0 * u + common[t - 1] + (4.0 if u == 7 and t >= 6 else 0.0), 6 if u == 7 else 0)
            for u in range(8) for t in range(1, 9)]
    panel = _panel(pd.DataFrame(rows, columns=["team", "month", "sales", "pilot"]))
    res = il.synthetic_did(panel, n_draws=10)
    assert res.estimate == pytest.approx(4.0, abs=1e-9)
    sc = il.synthetic_control(panel, n_draws=10)
    assert sc.estimate == pytest.approx(4.0 + 5.0, abs=1e-3)   # best level match: unit 6, 5 below
    assert sc.unit_weights.iloc[0]["unit"] == 6 and sc.time_weights["weight"].eq(0).all()


def test_weights_sum_to_one_and_reproduce_the_estimate():
    panel = _panel(_frame())
    res = il.synthetic_did(panel, n_draws=10)
    assert res.unit_weights["weight"].sum() == pytest.approx(1.0)
    assert res.time_weights["weight"].sum() == pytest.approx(1.0)
    assert (res.unit_weights["weight"] >= 0).all() and (res.time_weights["weight"] >= 0).all()
    tr = res.trajectory
    gap = tr["treated"] - tr["synthetic"]
    # the synthetic path is shifted by the λ-weighted pre gap, so the post gap averages to the estimate
    assert gap[tr["period"] == "post"].mean() == pytest.approx(res.estimate, abs=1e-10)
    assert res.estimate == pytest.approx(3.0, abs=0.3)


def test_shift_and_scale_invariance():
    frame = _frame(seed=4)
    base = il.synthetic_did(_panel(frame), n_draws=20, seed=1)
    shifted = frame.assign(sales=frame["sales"] + 1000.0)
    scaled = frame.assign(sales=frame["sales"] * 3.0)
    s = il.synthetic_did(_panel(shifted), n_draws=20, seed=1)
    k = il.synthetic_did(_panel(scaled), n_draws=20, seed=1)
    assert s.estimate == pytest.approx(base.estimate, abs=1e-8)
    assert k.estimate == pytest.approx(3 * base.estimate, rel=1e-8)
    assert k.std_error == pytest.approx(3 * base.std_error, rel=1e-6)


def test_jackknife_is_the_fixed_weight_leave_one_out_by_hand():
    panel = _panel(_frame(n_treated=3, seed=2))
    res = il.synthetic_did(panel, variance="jackknife")
    wide = panel.data.pivot(index="team", columns="month", values="sales")
    controls, treated = list(range(3, 12)), [0, 1, 2]
    omega = res.unit_weights.set_index("unit")["weight"].reindex(controls).to_numpy()
    lam = res.time_weights["weight"].to_numpy()
    values = []
    for drop in controls + treated:
        c = [u for u in controls if u != drop]
        t = [u for u in treated if u != drop]
        w = omega[[controls.index(u) for u in c]]
        w = w / w.sum()
        gap = wide.loc[t].mean().to_numpy() - w @ wide.loc[c].to_numpy()
        values.append(gap[6:].mean() - gap[:6] @ lam)
    v = np.array(values)
    n = len(v)
    assert res.std_error == pytest.approx(np.sqrt((n - 1) / n * ((v - v.mean()) ** 2).sum()), rel=1e-10)


def test_teams_from_a_per_employee_panel():
    # 6 employees per team; team 0 and 1 piloted from month 7, +3 per employee
    rng = np.random.default_rng(1)
    rows = []
    for team in range(10):
        for e in range(6):
            for t in range(1, 11):
                pilot = 7 if team < 2 else 0
                y = 50 + team + 0.5 * t + (3.0 if pilot and t >= 7 else 0.0) + rng.normal(0, 0.5)
                rows.append((f"e{team}-{e}", f"t{team}", t, y, pilot))
    frame = pd.DataFrame(rows, columns=["employee", "team", "month", "sales", "cohort"])
    panel = il.Panel.from_frame(frame, unit="employee", time="month", outcome="sales", cohort="cohort",
                                cluster="team")
    res = il.synthetic_did(panel, unit="team", n_draws=20)
    assert res.spec["n_treated"] == 2 and res.spec["n_control"] == 8
    assert set(res.unit_weights["unit"]) == {f"t{k}" for k in range(2, 10)}
    assert res.estimate == pytest.approx(3.0, abs=0.3)
    text = str(res.explain())
    assert "the trained teams (t0, t1; trained from 7) against a weighted average of" in text
    assert "the team average of sales" in res.explain().headline
    with pytest.raises(PanelError, match="cluster column"):
        il.synthetic_did(panel, unit="region")


def test_staggered_adoption_is_refused_naming_the_start_periods():
    frame = _frame()
    frame.loc[frame["team"] == 1, "pilot"] = 8
    with pytest.raises(EstimationError, match=r"2 start periods: 7 \(1 units\), 8 \(1 units\)"):
        il.synthetic_did(_panel(frame))


def test_units_left_out_are_in_the_ledger():
    frame = _frame()
    frame = frame[~((frame["team"] == 11) & (frame["month"] == 4))]      # a control missing a month
    frame.loc[frame["team"] == 10, "pilot"] = 1                          # trained from the first month
    res = il.synthetic_did(_panel(frame), n_draws=10)
    ex = res.excluded.set_index("id")["reason"]
    assert set(ex.index) == {10, 11}
    assert "9 of 10 periods" in ex[11] and "first period" in ex[10]
    assert res.spec["n_control"] == 8 and res.n_units == 10


def test_variances_not_defined_for_the_design_are_refused():
    one = _panel(_frame(n_treated=1))
    with pytest.raises(EstimationError, match="jackknife variance is not defined with one trained"):
        il.synthetic_did(one, variance="jackknife")
    with pytest.raises(EstimationError, match="bootstrap variance is not defined"):
        il.synthetic_did(one, variance="bootstrap")
    few = _panel(_frame(n=6, n_treated=3))
    with pytest.raises(EstimationError, match="placebo variance needs more untrained"):
        il.synthetic_did(few)
    with pytest.raises(ValueError, match="'variance' parameter must be one of"):
        il.synthetic_did(one, variance="wild")


def test_bootstrap_is_seeded_and_near_the_placebo_on_exchangeable_units():
    panel = _panel(_frame(n=30, n_treated=8, noise=1.0, seed=6))
    a = il.synthetic_did(panel, variance="bootstrap", n_draws=40, seed=5)
    b = il.synthetic_did(panel, variance="bootstrap", n_draws=40, seed=5)
    assert a.std_error == b.std_error and len(a.draws) == 40
    p = il.synthetic_did(panel, n_draws=40, seed=5)
    assert 0.4 < a.std_error / p.std_error < 2.5


def test_frank_wolfe_reaches_the_penalised_optimum():
    # the same problem solved by scipy's SLSQP on the simplex: same optimum value, same weights
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    A = rng.normal(size=(30, 6))
    b = A @ np.array([0.3, 0.5, 0.2, 0.0, 0.0, 0.0]) + rng.normal(0, 0.3, 30)
    zeta = 0.4

    def objective(x: np.ndarray) -> float:
        r = A @ x - b
        return float(zeta**2 * x @ x + r @ r / 30)

    x = sw.simplex_weights(np.column_stack([A, b]), zeta=zeta, intercept=False, init=None,
                           min_decrease=1e-9, max_iter=100_000)
    ref = minimize(objective, np.full(6, 1 / 6), method="SLSQP", bounds=[(0, 1)] * 6,
                   constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}], options={"ftol": 1e-14})
    assert objective(x) == pytest.approx(ref.fun, abs=1e-8)
    np.testing.assert_allclose(x, ref.x, atol=1e-3)


def test_many_weights_take_the_path_without_the_gram_matrix(monkeypatch):
    panel = _panel(_frame(n=20, n_treated=2, seed=8))
    gram = il.synthetic_did(panel, n_draws=5)
    monkeypatch.setattr(sw, "GRAM_LIMIT", 3)
    direct = il.synthetic_did(panel, n_draws=5)
    assert direct.estimate == pytest.approx(gram.estimate, abs=1e-9)
    np.testing.assert_allclose(direct.unit_weights["weight"], gram.unit_weights["weight"], atol=1e-9)
    np.testing.assert_allclose(direct.draws, gram.draws, atol=1e-9)


def test_the_fits_level_is_the_default_of_summary():
    res = il.synthetic_did(_panel(_frame()), level=0.9, n_draws=10)
    lo, hi = res.conf_int(0.9)
    assert f"90% CI {lo:.4f} to {hi:.4f}" in res.summary()
    # the protocol's methods keep their own default, 0.95
    assert res.conf_int() != (lo, hi) and "(95% CI" in res.explain().headline


@pytest.mark.parametrize("method", ["synthetic_did", "synthetic_control"])
def test_placebo_draws_side_by_side_equal_one_fit_at_a_time(method, monkeypatch):
    # the placebo refits take their Frank-Wolfe steps together (one array entry per draw); each draw must be
    # bit for bit what fit() gives it alone, also when the draws are split into several batches
    panel = _panel(_frame(n=20, n_treated=2, seed=11))
    res = getattr(il, method)(panel, n_draws=6, seed=4)
    from impactlab.estimators.synthetic import _setup

    st = _setup(panel, None, method)
    n0, t0 = st.n0, st.t0
    sigma = sw.noise_level(st.Y, n0, t0)
    n1, t1 = st.Y.shape[0] - n0, st.Y.shape[1] - t0
    if method == "synthetic_did":
        tuning = sw.Tuning((n1 * t1) ** 0.25 * sigma, 1e-6 * sigma, 1e-5 * sigma, True, True)
    else:
        tuning = sw.Tuning(1e-6 * sigma, 1e-6 * sigma, 1e-5 * sigma, False, False)
    base = sw.fit(st.Y, n0, t0, tuning)
    rng = np.random.default_rng(4)
    m = n0 - n1
    one_by_one = []
    for _ in range(6):
        perm = rng.permutation(n0)
        one_by_one.append(sw.fit(st.Y[perm], m, t0, tuning, sw.sum_normalize(base.omega[perm[:m]]),
                                 base.lam).estimate)
    assert np.array_equal(res.draws, np.array(one_by_one))
    monkeypatch.setattr(sw, "BATCH_BYTES", 8 * 16 * 16 * 2)  # 16 weights: two draws per batch
    monkeypatch.setattr(sw, "MIN_BATCH", 2)
    again = getattr(il, method)(panel, n_draws=6, seed=4)
    assert np.array_equal(again.draws, res.draws)
    assert len(set(np.round(res.draws, 12))) == 6  # six different draws, not one repeated
