"""The propensity logit (:mod:`impactlab.estimators._logit`): R's ``glm.fit`` iterations, step halving,
internal scaling and separation read from the fitted values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError
from impactlab.estimators._logit import fit_logit, separating


def _design(seed: int = 1, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    earn = rng.gamma(1.0, 8000.0, n) * (rng.random(n) < 0.7)  # dollars, many zeros
    dummy = (rng.random(n) < 0.4).astype(float)
    d = (rng.random(n) < 1 / (1 + np.exp(2.5 + 1e-4 * earn - 1.5 * dummy))).astype(float)
    return np.column_stack([np.ones(n), earn, dummy]), d


def test_scale_of_the_covariates_does_not_change_the_fit() -> None:
    x, d = _design()
    fit = fit_logit(x, d)
    assert fit.converged and fit.separated == 0
    for factor in (1e-6, 1e6):
        other = fit_logit(x * np.array([1.0, factor, 1.0]), d)
        np.testing.assert_allclose(other.fitted, fit.fitted, rtol=1e-10)
        assert other.iterations == fit.iterations
        np.testing.assert_allclose(other.coef[1] * factor, fit.coef[1], rtol=1e-8)


def test_zero_weights_leave_rows_out() -> None:
    x, d = _design(2)
    w = np.ones(d.size)
    w[:500] = 0.0
    full = fit_logit(x, d, w)
    part = fit_logit(x[500:], d[500:])
    np.testing.assert_allclose(full.fitted[500:], part.fitted, rtol=1e-10)


def test_complete_separation_is_read_from_the_fitted_values() -> None:
    rng = np.random.default_rng(3)
    n = 300
    d = (np.arange(n) < 80).astype(float)
    sep = np.where(d == 1, rng.normal(8, 1, n), rng.normal(0, 1, n))
    x = np.column_stack([np.ones(n), sep, rng.normal(size=n)])
    fit = fit_logit(x, d)
    assert fit.separated > 0
    assert separating(x[:, 1:], d, ["sep", "noise"]) == ["sep"]


def test_quasi_separation_on_comparison_units_still_fits() -> None:
    # a dummy that only comparison units have: their scores go to 0 (zero weight), as in R, a number
    x, d = _design(4)
    only_c = ((d == 0) & (np.arange(d.size) % 7 == 0)).astype(float)
    fit = fit_logit(np.column_stack([x, only_c]), d)
    assert fit.separated == 0 and fit.converged
    assert separating(np.column_stack([x, only_c])[:, 1:], d, ["earn", "dummy", "only_c"]) == ["only_c"]


def test_drdid_names_the_separating_covariate() -> None:
    rng = np.random.default_rng(5)
    n = 200
    d = (np.arange(n) < 60).astype(int)
    x = np.where(d == 1, rng.normal(9, 1, n), rng.normal(0, 1, n))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "post": np.tile([0, 1], n), "d": np.repeat(d, 2),
                       "x": np.repeat(x, 2), "z": np.repeat(rng.normal(size=n), 2),
                       "y": rng.normal(size=2 * n)})
    with pytest.raises(EstimationError, match=r"separate treated from comparison.*\['x'\]"):
        il.drdid_frame(df, outcome="y", treated="d", post="post", unit="id", covariates=["x", "z"])


def test_collinear_design_is_an_error() -> None:
    x, d = _design(6)
    with pytest.raises(EstimationError, match="singular"):
        fit_logit(np.column_stack([x, 2 * x[:, 1]]), d)


def test_r_did_doubly_robust_cells_with_a_covariate_to_r_iterates() -> None:
    """R ``did``'s DR cells with ``xformla = ~X`` (tests/oracle/data/ref_sim.csv, see its PROVENANCE.md):
    the logit stops where R's ``glm.fit`` stops, so the cells agree to rounding, not to R's tolerance."""
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "oracle" / "data"
    ref = pd.read_csv(data / "ref_sim.csv")
    worst = 0.0
    for name in ("tp4_const", "tp8_dyn"):
        df = pd.read_csv(data / f"{name}.csv")
        panel = il.Panel.from_frame(df, unit="id", time="period", outcome="Y", cohort="G", covariates=["X"])
        for control, key in (("never_treated", "nevertreated"), ("not_yet_treated", "notyettreated")):
            got = il.callaway_santanna(panel, control=control, method="dr", covariates=["X"]).att_gt
            r = ref[(ref["dataset"] == name) & (ref["control"] == key) & (ref["est"] == "dr")]
            m = r.merge(got, left_on=["group", "t"], right_on=["cohort", "time"], validate="1:1")
            assert len(m) == len(r) > 0
            for ours, theirs in (("estimate", "att"), ("std_error", "se")):
                worst = max(worst, float(np.max(np.abs(m[ours] - m[theirs]) / np.abs(m[theirs]))))
    assert worst < 1e-11


def test_callaway_santanna_names_the_covariate_behind_failed_overlap() -> None:
    rng = np.random.default_rng(7)
    n, periods = 240, 4
    cohort = np.where(np.arange(n) < 60, 3, np.where(np.arange(n) < 120, 4, 0))
    sep = np.where(cohort == 3, 10 + rng.random(n), rng.normal(size=n))  # cohort 3 beyond everyone else
    df = pd.DataFrame({"id": np.repeat(np.arange(n), periods), "t": np.tile(np.arange(1, periods + 1), n),
                       "g": np.repeat(cohort, periods), "sep": np.repeat(sep, periods),
                       "z": np.repeat(rng.normal(size=n), periods)})
    df["y"] = rng.normal(size=len(df))
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["sep", "z"])
    with pytest.warns(il.StatisticalWarning):
        res = il.callaway_santanna(panel, covariates=["sep", "z"])
    cells = res.excluded[res.excluded["what"] == "cell"]
    assert len(cells) and cells["reason"].str.contains(r"overlap.*\['sep'\]").all()
    assert set(res.att_gt["cohort"]) == {4}
