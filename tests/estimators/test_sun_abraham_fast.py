"""Sun–Abraham on a balanced panel: the closed-form (separable) regression against the general route."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il

sa = importlib.import_module("impactlab.estimators.sun_abraham")
TOL = 1e-10


def _panel(n=240, T=8, seed=4, cluster=False):
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 5, 6], size=n, p=[0.3, 0.3, 0.2, 0.2])
    t = np.arange(1, T + 1)
    e = t[None, :] - g[:, None]
    eff = np.where((g[:, None] > 0) & (e >= 0), 1.0 + 0.3 * e + 0.2 * (g[:, None] == 5), 0.0)
    y = rng.normal(size=n)[:, None] + 0.5 * t + eff + rng.normal(size=(n, T)) * (1 + (g[:, None] == 3))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": 100 + y.ravel(), "team": np.repeat(np.arange(n) % 31, T)})
    return il.Panel.from_frame(df.sample(frac=1, random_state=0), unit="id", time="t", outcome="y",
                               cohort="g", cluster="team" if cluster else None)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _both(panel, monkeypatch, **kw):
    calls = []
    real = sa._balanced_fit

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(out is not None)
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr(sa, "_balanced_fit", spy)
        fast = il.sun_abraham(panel, **kw)
        monkeypatch.setattr(sa, "_balanced_fit", lambda *a, **k: None)
        slow = il.sun_abraham(panel, **kw)
    monkeypatch.undo()
    assert calls == [True]
    return fast, slow


@pytest.mark.parametrize("vcov", ["cluster", "robust", "iid"])
@pytest.mark.parametrize("share_variance", [True, False])
@pytest.mark.parametrize("cluster", [False, True])
def test_closed_form_matches_the_general_route(vcov, share_variance, cluster, monkeypatch):
    fast, slow = _both(_panel(cluster=cluster), monkeypatch, vcov=vcov, share_variance=share_variance)
    assert fast.elements["event_time"].tolist() == slow.elements["event_time"].tolist()
    for attr in ("estimate", "std_error"):
        assert _rel(fast.elements[attr], slow.elements[attr]) < TOL
        assert _rel(fast.cells[attr], slow.cells[attr]) < TOL
    assert _rel(fast.cell_vcov, slow.cell_vcov) < TOL
    assert _rel(fast.element_vcov, slow.element_vcov) < TOL
    assert _rel(fast.shares["std_error"], slow.shares["std_error"]) < TOL
    assert fast.shares[["event_time", "cohort"]].equals(slow.shares[["event_time", "cohort"]])
    assert fast.cells["n_obs"].tolist() == slow.cells["n_obs"].tolist()
    assert (fast.df, fast.n_obs) == (slow.df, slow.n_obs)
    assert _rel(np.array([fast.estimate, fast.std_error]), np.array([slow.estimate, slow.std_error])) < TOL
    assert fast.pretrend.statistic == pytest.approx(slow.pretrend.statistic, rel=TOL)


@pytest.mark.parametrize("kw", [{"window": (-3, 3), "bin_endpoints": True}, {"window": (-2, 2)},
                                {"control": "last_treated"}, {"ref": -2}])
def test_windows_bins_and_last_treated_control(kw, monkeypatch):
    fast, slow = _both(_panel(), monkeypatch, **kw)
    assert _rel(fast.elements["estimate"], slow.elements["estimate"]) < TOL
    assert _rel(fast.element_vcov, slow.element_vcov) < TOL
    assert fast.excluded.equals(slow.excluded)


def test_hand_computed_cells_of_a_two_cohort_panel():
    # no noise: unit and period effects plus cohort-specific effects; the CATTs are recovered exactly
    n, T = 30, 6
    unit, time = np.repeat(np.arange(n), T), np.tile(np.arange(1, T + 1), n)
    g = np.repeat(np.select([np.arange(n) < 10, np.arange(n) < 20], [3, 5], 0), T)
    y = 0.1 * unit + 0.5 * time + np.where((g > 0) & (time >= g), np.where(g == 3, 2.0, 4.0) + (time - g),
                                           0.0)
    panel = il.Panel.from_frame(pd.DataFrame({"id": unit, "t": time, "y": y, "g": g}), unit="id", time="t",
                                outcome="y", cohort="g")
    res = il.sun_abraham(panel)
    cells = res.cells.set_index(["cohort", "event_time"])["estimate"]
    assert cells[(3, 0)] == pytest.approx(2.0) and cells[(3, 3)] == pytest.approx(5.0)
    assert cells[(5, 1)] == pytest.approx(5.0) and abs(cells[(5, -3)]) < 1e-10
    # event time 1: cohorts 3 and 5 equally large -> (3 + 5) / 2
    assert res.elements.set_index("event_time").loc[1, "estimate"] == pytest.approx(4.0)
