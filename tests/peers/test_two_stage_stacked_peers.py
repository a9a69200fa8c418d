"""Gardner's two-stage DiD and stacked DiD against diff-diff's ``TwoStageDiD`` and ``StackedDiD``.

R ``did``'s mpdta (500 counties, 2003-2007, cohorts 2004/2006/2007 and never treated), then a simulated
organisation (hires and leavers, team clusters). diff-diff 3.13 follows R ``did2s`` (Gardner's GMM variance)
and the R code of Wing, Freedman & Hollingsworth (the aggregate corrective weights). With ``anticipation > 0``
diff-diff's overall effects also average the anticipation window, impactlab's headlines do not (so only
event times are compared there).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactlab as il

dd = pytest.importorskip("diff_diff")

#: Both sides solve the same least squares exactly (diff-diff's sparse LU and exact re-solve of stage 1,
#: the Cholesky of the period block here; stacked cell means either way): they agree to rounding, relative
#: to the outcome's scale, far inside 1e-8.
TOL = 1e-8

MPDTA = Path(__file__).resolve().parents[1] / "oracle" / "data" / "mpdta.csv"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(MPDTA)


@pytest.fixture(scope="module")
def org_frame() -> tuple[il.Panel, pd.DataFrame]:
    org = il.datasets.simulate_org(n_employees=600, n_periods=18, seed=5)
    panel = org.panel(cluster="team")
    long = panel.long()
    frame = pd.DataFrame({"u": long["unit"].to_numpy(), "t": long["period"].to_numpy(),
                          "y": long["outcome"].to_numpy(), "g": long["cohort_period"].to_numpy(),
                          "team": long["cluster"].to_numpy()})
    return panel, frame


def _quiet(make, df: pd.DataFrame, **cols: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make().fit(df, **cols)


def _event_times(ref: object, mine: pd.DataFrame) -> pd.DataFrame:
    es = ref.aggregate("event_study").to_dataframe()  # type: ignore[attr-defined]
    return es[~es["is_reference"]].merge(mine, on="event_time", suffixes=("_dd", ""))


# ------------------------------------------------------------------------------------------ two-stage
@pytest.mark.parametrize("anticipation", [0, 1])
def test_two_stage_mpdta_equals_diff_diff(mpdta, anticipation) -> None:
    panel = il.Panel.from_frame(mpdta, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    res = il.two_stage(panel, anticipation=anticipation)
    ref = _quiet(lambda: dd.TwoStageDiD(anticipation=anticipation), mpdta, outcome="lemp", unit="countyreal",
                 time="year", first_treat="first.treat")
    if anticipation == 0:
        assert res.estimate == pytest.approx(ref.overall_att, abs=TOL)  # type: ignore[attr-defined]
        assert res.std_error == pytest.approx(ref.overall_se, abs=TOL)  # type: ignore[attr-defined]
        assert res.estimate == pytest.approx(-0.04770992, abs=5e-9)  # did2s's printed ATT, as didimputation's
        groups = ref.aggregate("group").to_dataframe()  # type: ignore[attr-defined]
        mine = res.by_cohort.elements
        assert mine["cohort"].tolist() == groups["label"].astype(int).tolist()
        np.testing.assert_allclose(mine["estimate"], groups["att"], atol=TOL)
        np.testing.assert_allclose(mine["std_error"], groups["se"], atol=TOL)
    else:  # cohort 2004's counties have no untreated year left: on the ledger (NaN in diff-diff)
        first_2004 = set(mpdta.loc[mpdta["first.treat"] == 2004, "countyreal"])
        assert set(res.excluded["id"]) == first_2004 and set(res.excluded["what"]) == {"unit"}
    es = _event_times(ref, res.elements)
    assert len(es) == len(res.elements) and len(es) >= 3
    np.testing.assert_allclose(es["estimate"], es["att"], atol=TOL)
    np.testing.assert_allclose(es["std_error"], es["se"], atol=TOL)
    # same point estimates as the imputation estimator, a different (not conservative) variance
    imp = il.imputation(panel, anticipation=anticipation)
    assert res.estimate == pytest.approx(imp.estimate, abs=1e-12)
    assert res.std_error != pytest.approx(imp.std_error, rel=1e-3)


def test_two_stage_simulated_org_team_clusters_equals_diff_diff(org_frame) -> None:
    panel, frame = org_frame
    assert panel.n_units > frame.groupby("u").size().eq(panel.n_periods).sum()  # hires and leavers
    res = il.two_stage(panel)
    ref = _quiet(lambda: dd.TwoStageDiD(cluster="team"), frame, outcome="y", unit="u", time="t",
                 first_treat="g")
    scale = frame["y"].abs().mean()
    assert res.estimate == pytest.approx(ref.overall_att, abs=TOL * scale)  # type: ignore[attr-defined]
    assert res.std_error == pytest.approx(ref.overall_se, rel=TOL)  # type: ignore[attr-defined]
    es = _event_times(ref, res.elements)
    assert len(es) == len(res.elements) and len(es) >= 10
    np.testing.assert_allclose(es["estimate"], es["att"], atol=TOL * scale)
    np.testing.assert_allclose(es["std_error"], es["se"], rtol=TOL)


def test_two_stage_with_a_covariate_equals_diff_diff() -> None:
    rng = np.random.default_rng(11)
    n, T = 240, 8
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    g = rng.choice([0, 3, 4, 6], n)[unit]
    x = rng.normal(size=n * T)
    effect = np.where((g > 0) & (t >= g), 1.0 + 0.3 * (t - g), 0.0)
    y = rng.normal(size=n)[unit] + 0.2 * t + 0.5 * x + effect + rng.normal(size=n * T)
    team = np.repeat(rng.integers(0, 40, n), T)
    df = pd.DataFrame({"id": unit, "t": t, "y": y, "g": g, "x": x, "team": team})
    df = df[rng.random(len(df)) > 0.15].reset_index(drop=True)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"],
                                cluster="team")
    res = il.two_stage(panel, covariates=["x"])
    ref = _quiet(lambda: dd.TwoStageDiD(cluster="team"), df, outcome="y", unit="id", time="t",
                 first_treat="g", covariates=["x"])
    assert res.estimate == pytest.approx(ref.overall_att, abs=TOL)  # type: ignore[attr-defined]
    assert res.std_error == pytest.approx(ref.overall_se, abs=TOL)  # type: ignore[attr-defined]
    es = _event_times(ref, res.elements)
    np.testing.assert_allclose(es["estimate"], es["att"], atol=TOL)
    np.testing.assert_allclose(es["std_error"], es["se"], atol=TOL)


# ------------------------------------------------------------------------------------------ stacked
def _stacked_ref(df: pd.DataFrame, lo: int, hi: int, control: str, anticipation: int = 0,
                 **cols: str) -> object:
    return _quiet(lambda: dd.StackedDiD(kappa_pre=-lo, kappa_post=hi, control_group=control,
                                        anticipation=anticipation), df, **cols)


def _same_event_times(res: il.StackedResult, ref: object, atol: float, rtol: float = 0.0) -> None:
    effects = ref.event_study_effects  # type: ignore[attr-defined]
    assert sorted(h for h in effects if h != res.spec["ref"]) == res.elements["event_time"].tolist()
    cols = ["event_time", "estimate", "std_error", "n_obs"]
    for h, est, se, n in res.elements[cols].itertuples(index=False):
        assert est == pytest.approx(effects[h]["effect"], abs=atol)
        assert se == pytest.approx(effects[h]["se"], abs=atol, rel=rtol)
        assert n == effects[h]["n_obs"]


@pytest.mark.parametrize(("window", "control", "anticipation"),
                         [((-1, 1), "not_yet_treated", 0), ((-2, 1), "never_treated", 0),
                          ((-1, 0), "not_yet_treated", 0), ((-1, 1), "never_treated", 1)])
def test_stacked_mpdta_equals_diff_diff(mpdta, window, control, anticipation) -> None:
    panel = il.Panel.from_frame(mpdta, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    res = il.stacked(panel, window=window, control=control, anticipation=anticipation)
    ref = _stacked_ref(mpdta, *window, control, anticipation, outcome="lemp", unit="countyreal", time="year",
                       first_treat="first.treat")
    if anticipation == 0:
        assert res.estimate == pytest.approx(ref.overall_att, abs=TOL)  # type: ignore[attr-defined]
        assert res.std_error == pytest.approx(ref.overall_se, abs=TOL)  # type: ignore[attr-defined]
    _same_event_times(res, ref, TOL)
    kept = res.sub_experiments["cohort"].tolist()
    assert kept == [int(g) for g in ref.groups]  # type: ignore[attr-defined]
    assert sorted(res.excluded["id"]) == sorted(int(g) for g in ref.trimmed_groups)  # type: ignore[attr-defined]


def test_stacked_mpdta_hand_computed(mpdta) -> None:
    """Window (-1, 0) with never-treated controls: each cohort's 2x2 DiD, averaged with its share of the
    treated counties (the corrective weights make the stacked coefficient exactly that)."""
    panel = il.Panel.from_frame(mpdta, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    res = il.stacked(panel, window=(-1, 0), control="never_treated")
    wide = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first.treat"].first()
    did, size = [], []
    for c in (2004, 2006, 2007):
        change = wide[c] - wide[c - 1]
        did.append(change[g == c].mean() - change[g == 0].mean())
        size.append(int((g == c).sum()))
    assert res.estimate == pytest.approx(np.average(did, weights=size), abs=1e-12)


def test_stacked_simulated_org_equals_diff_diff(org_frame) -> None:
    panel, frame = org_frame
    unit_panel = il.Panel.from_frame(frame, unit="u", time="t", outcome="y", cohort="g")
    scale = frame["y"].abs().mean()
    for control in ("not_yet_treated", "never_treated"):
        res = il.stacked(unit_panel, window=(-3, 2), control=control)
        ref = _stacked_ref(frame, -3, 2, control, outcome="y", unit="u", time="t", first_treat="g")
        assert res.estimate == pytest.approx(ref.overall_att, abs=TOL * scale)  # type: ignore[attr-defined]
        assert res.std_error == pytest.approx(ref.overall_se, rel=TOL)  # type: ignore[attr-defined]
        _same_event_times(res, ref, TOL * scale, TOL)


def test_stacked_team_clusters_equal_weighted_least_squares(org_frame) -> None:
    """With the panel's team clusters: the weighted regression on diff-diff's stack (its corrective weights),
    clustered by team with statsmodels' CR1 (G/(G-1) (n-1)/(n-k))."""
    sm = pytest.importorskip("statsmodels.api")
    panel, frame = org_frame
    res = il.stacked(panel, window=(-3, 2))
    ref = _stacked_ref(frame, -3, 2, "not_yet_treated", outcome="y", unit="u", time="t",
                               first_treat="g")
    stack = ref.stacked_data  # type: ignore[attr-defined]
    ets = [h for h in range(-3, 3) if h != -1]
    X = np.column_stack([np.ones(len(stack)), stack["_D_sa"]]
                        + [(stack["_event_time"] == h).to_numpy(float) for h in ets]
                        + [((stack["_event_time"] == h) & (stack["_D_sa"] == 1)).to_numpy(float)
                           for h in ets])
    fit = sm.WLS(stack["y"].to_numpy(), X, weights=stack["_Q_weight"].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(stack["team"])[0]})
    k = 2 + len(ets)
    np.testing.assert_allclose(res.elements["estimate"], fit.params[k:], rtol=1e-9)
    np.testing.assert_allclose(res.elements["std_error"], fit.bse[k:], rtol=1e-9)
