"""The imputation estimator (Borusyak, Jaravel & Spiess 2024): exact cases, invariances, the ledger, and a
small simulator check (the 40-organisation study is marked slow)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError


def _frame(seed: int = 0, noise: float = 1.0, n: int = 60, T: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    g = rng.choice([0, 3, 5], n)[unit]
    effect = np.where((g > 0) & (t >= g), 2.0 + (t - g), 0.0)
    y = rng.normal(size=n)[unit] + 0.5 * t + effect + noise * rng.normal(size=n * T)
    return pd.DataFrame({"id": unit, "t": t, "y": y, "g": g})


def _panel(df: pd.DataFrame, **kw) -> il.Panel:
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", **kw)


def test_exact_effects_without_noise() -> None:
    df = _frame(noise=0.0)
    res = il.imputation(_panel(df))
    # every effect is 2 + event time; the headline averages them over trained observations
    assert res.elements["estimate"].to_numpy() == pytest.approx(2.0 + res.elements["event_time"], abs=1e-10)
    trained = df[(df["g"] > 0) & (df["t"] >= df["g"])]
    assert res.estimate == pytest.approx((2.0 + trained["t"] - trained["g"]).mean(), abs=1e-10)
    assert res.std_error == pytest.approx(0.0, abs=1e-10)
    assert res.by_cohort is not None and set(res.by_cohort.elements["cohort"]) == {3, 5}


def test_equals_a_dense_least_squares_fit() -> None:
    df = _frame(seed=2)
    df = df[np.random.default_rng(3).random(len(df)) > 0.2]
    res = il.imputation(_panel(df))
    untreated = df[(df["g"] == 0) | (df["t"] < df["g"])]
    A = pd.get_dummies(untreated[["id", "t"]].astype(str), drop_first=False).to_numpy(float)
    coef = np.linalg.lstsq(A, untreated["y"].to_numpy(), rcond=None)[0]
    trained = df[(df["g"] > 0) & (df["t"] >= df["g"])]
    cols = pd.get_dummies(untreated[["id", "t"]].astype(str)).columns
    B = pd.get_dummies(trained[["id", "t"]].astype(str)).reindex(columns=cols, fill_value=0).to_numpy(float)
    assert res.estimate == pytest.approx(float((trained["y"].to_numpy() - B @ coef).mean()), abs=1e-10)


def test_invariances() -> None:
    df = _frame(seed=4)
    base = il.imputation(_panel(df))
    shifted = il.imputation(_panel(df.assign(y=df["y"] + 100.0)))
    scaled = il.imputation(_panel(df.assign(y=df["y"] * 3.0)))
    shuffled = il.imputation(_panel(df.sample(frac=1.0, random_state=1).assign(id=df["id"] + 1000)))
    assert shifted.estimate == pytest.approx(base.estimate, abs=1e-9)
    assert shifted.std_error == pytest.approx(base.std_error, rel=1e-9)
    assert scaled.estimate == pytest.approx(3 * base.estimate, rel=1e-10)
    assert scaled.std_error == pytest.approx(3 * base.std_error, rel=1e-10)
    assert shuffled.estimate == pytest.approx(base.estimate, abs=1e-10)
    assert shuffled.std_error == pytest.approx(base.std_error, rel=1e-10)


def test_ledger_of_units_trained_from_their_first_period() -> None:
    df = _frame(seed=5)
    early = df["id"].isin([0, 1])
    df.loc[early, "g"] = 1  # trained from the first observed period: no untreated observation
    res = il.imputation(_panel(df))
    assert set(res.excluded["id"]) == {0, 1}
    assert res.excluded["reason"].str.contains("no untreated observation").all()
    assert res.excluded["reason"].str.contains("7 trained observations are left out").all()
    assert res.n_units == df["id"].nunique() - 2
    assert any("14 trained observations" in n for n in res.notes)
    dropped = il.imputation(_panel(df[~early]))
    assert res.estimate == pytest.approx(dropped.estimate, abs=1e-12)


def test_anticipation_leaves_the_window_out_of_the_fit() -> None:
    df = _frame(seed=6, noise=0.0)
    dip = (df["g"] > 0) & (df["t"] >= df["g"] - 2) & (df["t"] < df["g"])
    df.loc[dip, "y"] -= 5.0  # an Ashenfelter dip of two periods
    res = il.imputation(_panel(df), anticipation=2)
    el = res.elements.set_index("event_time")["estimate"]
    assert el.loc[[-2, -1]].to_numpy() == pytest.approx([-5.0, -5.0], abs=1e-9)
    assert el.loc[el.index >= 0].to_numpy() == pytest.approx(2.0 + el.index[el.index >= 0], abs=1e-9)
    naive = il.imputation(_panel(df))
    assert naive.estimate > res.estimate + 1.0  # the dip inflates the effect without the window
    assert "no effect earlier than 2 period(s) before training" in str(res.explain())


def test_pretrend_detects_diverging_trends() -> None:
    df = _frame(seed=7, n=200)
    df.loc[df["g"] > 0, "y"] += 0.8 * df.loc[df["g"] > 0, "t"]
    res = il.imputation(_panel(df))
    assert res.pretrend is not None and res.pretrend.p_value < 1e-6
    assert "Pre-training check fails" in str(res.explain())


def test_bad_arguments() -> None:
    panel = _panel(_frame())
    with pytest.raises(ValueError, match="'anticipation' parameter of imputation must be a non-negative"):
        il.imputation(panel, anticipation=-1)
    with pytest.raises(il.errors.PanelError, match="not in the panel"):
        il.imputation(panel, covariates=["age"])
    df = _frame()
    with pytest.raises(EstimationError, match="no employee is trained"):
        il.imputation(_panel(df.assign(g=0)))


# --------------------------------------------------------------------------------- on the simulator
def _org(seed: int, n_employees: int = 2000) -> tuple[il.Panel, float, float]:
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel()
    cells = org.truth.att_gt
    by_obs = float((cells["att"] * cells["n_units"]).sum() / cells["n_units"].sum())
    return panel, float(org.truth.overall), by_obs


def _study(seeds: range) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        panel, overall, by_obs = _org(seed)
        res = il.imputation(panel, anticipation=2)
        lo, hi = res.conf_int()
        rows.append({"seed": seed, "truth": by_obs, "overall": overall, "estimate": res.estimate,
                     "std_error": res.std_error, "covered": lo <= by_obs <= hi,
                     "all_used": res.n_units == panel.n_units and not len(res.excluded)})
    return pd.DataFrame(rows)


def test_simulator_small() -> None:
    """Five organisations (simulate_org defaults: dip of 2 months, turnover): every employee used, and
    each interval holds the truth (or the estimate is within 3 standard errors of it)."""
    d = _study(range(9100, 9105))
    assert d["all_used"].all()
    assert ((d["covered"]) | ((d["estimate"] - d["truth"]).abs() < 3 * d["std_error"])).all()


@pytest.mark.slow
def test_simulator_forty_organisations() -> None:
    d = _study(range(9200, 9240))
    assert d["all_used"].all()
    assert d["covered"].sum() >= 37
