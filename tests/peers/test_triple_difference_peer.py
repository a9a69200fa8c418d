"""triple_difference against diff-diff's ``TripleDifference`` (2×2×2 mode, which follows R
``triplediff::ddd(panel = FALSE)``) on the same employee-periods.

diff-diff is given the employee-periods with ``group`` = 1 in the reached regions, ``partition`` the
eligibility, ``post`` = 1 from the launch on and ``cluster`` the employee (the panel's cluster). Estimates
agree to 1e-8 and standard errors to 1e-6 for every method without covariates and for the outcome
regression and IPW methods with covariates (the data keep every propensity score inside diff-diff's clip
of [0.01, 0.99]; the logits' convergence rules differ by about 1e-10).

The doubly robust standard error with covariates differs: diff-diff adds the estimation effect of the
comparison group's pre-period outcome regression with the opposite sign to the post-period one's
(``inf_treat_or_post + inf_treat_or_pre``), where the derivative of the estimator gives a difference.
``test_dr_influence_is_the_derivative_of_the_estimator`` shows that impactlab's influence function is the
derivative of the DR estimate with respect to each observation's weight, and diff-diff's is not; the
estimates still agree to 1e-8 and the standard errors within a few per cent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.estimators.ddd_data import ddd_frame

import impactlab as il

dd = pytest.importorskip("diff_diff")

EST_TOL, SE_TOL = 1e-8, 1e-6


def _fit(method: str, covariates: list[str] | None, **kw):
    frame = ddd_frame(covariate_effect=1.0, take_up=0.8, **kw)
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["eligible", "region", "tenure", "x2"])
    ours = il.triple_difference(panel, eligible="eligible", group="region", method=method,
                                covariates=covariates)
    data = frame.assign(G=(frame["region"] < 3).astype(int), P=frame["eligible"],
                        post=(frame["month"] >= 5).astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = dd.TripleDifference(estimation_method=method, cluster="id").fit(
            data, outcome="sales", group="G", partition="P", post="post", covariates=covariates)
    return ours, peer


@pytest.mark.parametrize("covariates", [None, ["tenure"], ["tenure", "x2"]])
@pytest.mark.parametrize("method", ["reg", "ipw", "dr"])
def test_equal_to_triple_difference(method, covariates) -> None:
    ours, peer = _fit(method, covariates)
    assert ours.estimate == pytest.approx(peer.att, abs=EST_TOL)
    assert ours.n_obs == peer.n_obs
    if method == "dr" and covariates:
        assert ours.std_error == pytest.approx(peer.se, rel=0.05)  # see the module docstring
    else:
        assert ours.std_error == pytest.approx(peer.se, abs=SE_TOL)


def test_unbalanced_panel_with_leavers() -> None:
    """Leavers' rows after they leave are missing: both sides use the rows there are."""
    frame = ddd_frame(seed=3)
    frame = frame.loc[~((frame["id"] % 7 == 0) & (frame["month"] > 6))]
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["eligible", "region", "tenure"])
    ours = il.triple_difference(panel, eligible="eligible", group="region", method="reg",
                                covariates=["tenure"])
    data = frame.assign(G=(frame["region"] < 3).astype(int), P=frame["eligible"],
                        post=(frame["month"] >= 5).astype(int))
    peer = dd.TripleDifference(estimation_method="reg", cluster="id").fit(
        data, outcome="sales", group="G", partition="P", post="post", covariates=["tenure"])
    assert ours.estimate == pytest.approx(peer.att, abs=EST_TOL)
    assert ours.std_error == pytest.approx(peer.se, abs=SE_TOL)


def test_dr_influence_is_the_derivative_of_the_estimator() -> None:
    """The influence function of each doubly robust DiD is n times the derivative of the estimate with
    respect to an observation's weight (the empirical influence function); impactlab's matches it to
    1e-6, diff-diff's pairwise DiD (the pre-period regression term's sign) does not."""
    if not hasattr(dd.TripleDifference, "_compute_did_rc_dr"):
        pytest.skip("this diff-diff has no pairwise DR DiD to compare with")
    from diff_diff.linalg import solve_logit

    from impactlab.estimators._drdid_rcs import dr_did_rcs

    rng = np.random.default_rng(1)
    n = 300
    x1 = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-0.8 * x1))).astype(float)
    post = (rng.random(n) < 0.5).astype(float)
    y = 1 + x1 + d + post * (0.5 + 0.7 * x1) + d * post * (1 + x1**2) + rng.normal(size=n)
    x = np.column_stack([np.ones(n), x1])
    base = dr_did_rcs(y, post, d, x)
    eps = 1e-6
    numeric = np.empty(12)
    for i in range(12):
        w = np.ones(n)
        w[i] += eps
        numeric[i] = (dr_did_rcs(y, post, d, x, w).att - base.att) / eps * n
    np.testing.assert_allclose(base.influence[:12], numeric, atol=1e-5)

    _, ps = solve_logit(x[:, 1:], d)
    hessian = np.linalg.inv(x.T @ ((ps * (1 - ps))[:, None] * x)) * n

    def fitted(mask: np.ndarray) -> np.ndarray:
        return x @ np.linalg.lstsq(x[mask], y[mask], rcond=None)[0]

    att, inf = dd.TripleDifference(estimation_method="dr")._compute_did_rc_dr(
        y, post, d, 1 - d, ps, x, fitted((d == 0) & (post == 0)), fitted((d == 0) & (post == 1)),
        fitted((d == 1) & (post == 0)), fitted((d == 1) & (post == 1)), hessian, n)
    assert att == pytest.approx(base.att, abs=EST_TOL)
    assert np.max(np.abs(inf[:12] - numeric)) > 0.1
