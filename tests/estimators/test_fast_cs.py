"""The sufficient-statistics Callaway–Sant'Anna (no covariates) against the cell-by-cell estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError
from impactlab.estimators import _cs_suffstats as fast

#: Both compute the same sums in a different order; 1e-10 relative leaves room for rounding only.
TOL = 1e-10


def _panel(n=600, T=7, cohorts=(0, 3, 5, 6), seed=3, level=0.0, never=True):
    rng = np.random.default_rng(seed)
    g = rng.choice([c for c in cohorts if never or c], size=n)
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (level + rng.normal(size=n)[:, None] + 0.3 * t + post * (1 + 0.2 * (t - g[:, None]))
         + rng.normal(size=(n, T)) * (1 + (g[:, None] == 3)))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel()})
    shuffled = df.sample(frac=1, random_state=1)
    return il.Panel.from_frame(shuffled, unit="id", time="t", outcome="y", cohort="g")


def _fast(panel, **kw):
    units, y, gp = fast.balanced_arrays(panel, kw.get("anticipation", 0))
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp), **kw)
    return units, y, gp, cells


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_cells_standard_errors_and_simple_match_callaway_santanna(control, base_period, anticipation):
    panel = _panel(level=1e4)  # a large level: the centred moments must not lose precision
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = il.callaway_santanna(panel, control=control, base_period=base_period, anticipation=anticipation)
    units, y, gp, cells = _fast(panel, control=control, base_period=base_period, anticipation=anticipation)
    at = ref.att_gt
    assert len(at) == len(cells.att)
    np.testing.assert_array_equal(at["cohort"], cells.group)
    np.testing.assert_array_equal(at["time"], cells.time)
    np.testing.assert_array_equal(at["n_control"], cells.n_control)
    assert _rel(cells.att, at["estimate"]) < TOL
    assert _rel(cells.std_error, at["std_error"]) < TOL
    est, se = fast.simple_from_moments(cells)
    assert abs(est - ref.estimate) / abs(ref.estimate) < TOL
    assert abs(se - ref.std_error) / ref.std_error < TOL
    np.testing.assert_array_equal(units, ref.unit_ids)
    psi = fast.influence_matrix(cells, y, gp)
    assert _rel(psi, ref.influence) < TOL


def test_no_never_treated_units_drop_the_last_cohort_as_r_did():
    panel = _panel(cohorts=(3, 5, 6), never=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = il.callaway_santanna(panel, control="not_yet_treated")
    _, _, _, cells = _fast(panel, control="not_yet_treated")
    assert set(cells.group) == {3, 5}
    assert cells.time.max() == 5  # periods from the last cohort's treatment on are not used
    assert _rel(cells.att, ref.att_gt["estimate"]) < TOL
    with pytest.raises(EstimationError, match="no never-treated"):
        _fast(panel, control="never_treated")


def test_hand_computed_two_by_two():
    # cohort 2 vs never: changes 3 and 5 (mean 4) against 1 and 1 (mean 1): ATT = 3
    y = np.array([[0.0, 3.0], [1.0, 6.0], [2.0, 3.0], [0.0, 1.0]])
    gp = np.array([2, 2, 0, 0])
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp))
    assert cells.att.tolist() == [3.0]
    # ψ = 4 · [(Δ − 4)/2 for treated, −(Δ − 1)/2 for controls] = [-2, 2, 0, 0]
    psi = fast.influence_matrix(cells, y, gp)[:, 0]
    np.testing.assert_allclose(psi, [-2.0, 2.0, 0.0, 0.0], atol=1e-12)
    assert cells.std_error[0] == pytest.approx(np.sqrt(8.0) / 4)


def test_unbalanced_panel_and_missing_outcomes_are_refused():
    df = pd.DataFrame({"id": [1, 1, 2], "t": [1, 2, 1], "g": [2, 2, 0], "y": [1.0, 2.0, 3.0]})
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with pytest.raises(EstimationError, match="balanced"):
        fast.balanced_arrays(panel)
    with pytest.raises(EstimationError, match="missing or infinite"):
        fast.cohort_moments(np.array([[1.0, np.nan]]), np.array([0]))
