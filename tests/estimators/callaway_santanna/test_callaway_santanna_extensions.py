"""Callaway–Sant'Anna beyond the balanced default: unbalanced panels, repeated cross-sections, weights,
segments (by=), the cumulative effect, the pre-test and the ledger of what was left out.

Values are checked by hand (differences of means, sums of event-study effects, a two-segment Wald
statistic), by invariances (weights equal to duplicated units, a balanced panel read either way) and by
known truths of a simulation.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import EstimationError, PanelError, StatisticalWarning
from impactlab.estimators.callaway_santanna import callaway_santanna
from impactlab.panel.panel import Panel


def _sim(n: int = 600, t: int = 6, seed: int = 0, effect: float = 1.0) -> pd.DataFrame:
    """Balanced panel: cohorts 3, 4, 5 and never treated; effect ``effect * (1 + e / 2)`` at event time e."""
    rng = np.random.default_rng(seed)
    g = rng.choice([3, 4, 5, 0], size=n, p=[0.2, 0.2, 0.2, 0.4])
    x = rng.normal(size=n)
    alpha = rng.normal(size=n) + 0.5 * x
    rows = []
    for i in range(n):
        for p in range(1, t + 1):
            e = p - g[i]
            te = effect * (1 + e / 2) if g[i] > 0 and e >= 0 else 0.0
            rows.append((i, p, g[i], alpha[i] + 0.3 * p + 0.2 * x[i] * p + te + rng.normal(), x[i]))
    df = pd.DataFrame(rows, columns=["id", "t", "g", "y", "x"])
    df["region"] = np.where(df["id"] % 2 == 0, 1.0, 2.0)
    df["team"] = df["id"] // 10
    df["w"] = 1.0 + (df["id"] % 3 == 0)
    return df


def _panel(df: pd.DataFrame, **kw) -> Panel:
    return Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g",
                            covariates=kw.pop("covariates", ["x", "region", "w"]), **kw)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    return _sim()


def test_cumulative_is_sum_of_dynamic_with_joint_se(sim: pd.DataFrame) -> None:
    res = callaway_santanna(_panel(sim))
    dyn = res.aggregate("dynamic")
    el = dyn.elements.set_index("event_time")
    pos = [0, 1, 2]
    cum = res.cumulative(2)
    assert cum.estimate == pytest.approx(el.loc[pos, "estimate"].sum(), abs=1e-12)
    ones = np.isin(dyn.elements["event_time"].to_numpy(), pos).astype(float)
    assert cum.std_error == pytest.approx(np.sqrt(ones @ dyn.element_vcov @ ones), rel=1e-10)
    assert cum.elements["event_time"].tolist() == pos
    assert cum.elements["estimate"].iloc[1] == pytest.approx(el.loc[[0, 1], "estimate"].sum(), abs=1e-12)
    agg = res.aggregate("cumulative", max_e=2)
    assert agg.estimate == cum.estimate and agg.term == "cumulative ATT"
    # the truth: 1 + 1.5 + 2 = 4.5; 600 units give an SE near 0.2
    assert abs(cum.estimate - 4.5) < 3 * cum.std_error
    with pytest.raises(ValueError, match="'k' parameter"):
        res.cumulative(-1)


def test_pretest_without_violation_is_not_rejected_and_catches_anticipation(sim: pd.DataFrame) -> None:
    res = callaway_santanna(_panel(sim))
    assert res.pretest is not None and res.pretest.df == int((~res.att_gt["post"]).sum())
    assert res.pretest.p_value > 0.01
    assert "pre-test" in res.summary()
    # an effect that starts two periods early is caught
    moved = sim.assign(g=np.where(sim["g"] > 0, sim["g"] + 2, 0))
    moved = moved[moved["g"] <= 6]
    late = callaway_santanna(_panel(moved))
    assert late.pretest.p_value < 1e-6


def test_weights_equal_duplicated_units(sim: pd.DataFrame) -> None:
    res = callaway_santanna(_panel(sim), weights="w", covariates=["x"], method="dr")
    dup = sim[sim["w"] == 2].assign(id=lambda d: d["id"] + 10_000)
    both = callaway_santanna(_panel(pd.concat([sim, dup])), covariates=["x"], method="dr")
    assert np.allclose(res.att_gt["estimate"], both.att_gt["estimate"], atol=1e-9)
    for kind in ("simple", "group", "dynamic", "calendar"):
        assert res.aggregate(kind).estimate == pytest.approx(both.aggregate(kind).estimate, abs=1e-9)
    assert res.spec["weights"] == "w"
    with pytest.raises(PanelError, match="'nope' is not in the panel"):
        callaway_santanna(_panel(sim), weights="nope")
    neg = sim.assign(w=-sim["w"])
    with pytest.raises(PanelError, match="non-negative"):
        callaway_santanna(_panel(neg), weights="w")


def test_unbalanced_panel_kept_when_asked(sim: pd.DataFrame) -> None:
    rng = np.random.default_rng(4)
    holes = sim.drop(index=rng.choice(sim.index, size=300, replace=False))
    with pytest.warns(StatisticalWarning, match="not observed in every period"):
        default = callaway_santanna(_panel(holes))
    dropped = default.excluded[default.excluded["what"] == "unit"]
    assert len(dropped) == holes["id"].nunique() - default.n_units > 0
    assert "unbalanced" in dropped["reason"].iloc[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        kept = callaway_santanna(_panel(holes), allow_unbalanced=True)
    assert kept.n_units == holes["id"].nunique() and kept.excluded.empty
    assert kept.spec["data"] == "unbalanced panel"
    # no covariates: each ATT(g,t) is the difference of the four period means of the units observed then
    row = kept.att_gt.query("cohort == 3 and time == 4").iloc[0]
    h = holes.set_index("t")
    tr, co = h[h["g"] == 3], h[h["g"] == 0]
    hand = (tr.loc[4, "y"].mean() - tr.loc[2, "y"].mean()) - (co.loc[4, "y"].mean() - co.loc[2, "y"].mean())
    assert row["estimate"] == pytest.approx(hand, abs=1e-12)
    assert abs(kept.estimate - default.estimate) < 2 * default.std_error
    # a balanced panel gives the same numbers either way
    bal = callaway_santanna(_panel(sim), allow_unbalanced=True)
    ref = callaway_santanna(_panel(sim))
    assert np.allclose(bal.att_gt["std_error"].fillna(0), ref.att_gt["std_error"].fillna(0), rtol=1e-12)
    assert any("balanced" in n for n in bal.notes)


def test_repeated_cross_sections(sim: pd.DataFrame) -> None:
    ref = callaway_santanna(_panel(sim))
    rcs = callaway_santanna(_panel(sim), repeated_cross_sections=True)
    # balanced and no covariates: same point estimates, rows as independent draws give other SEs
    assert np.allclose(rcs.att_gt["estimate"], ref.att_gt["estimate"], atol=1e-10)
    assert rcs.n_units == len(sim) and rcs.spec["data"] == "repeated cross-sections"
    assert not np.allclose(rcs.att_gt["std_error"].fillna(0), ref.att_gt["std_error"].fillna(0))
    cov = callaway_santanna(_panel(sim), repeated_cross_sections=True, covariates=["x"], method="dr")
    # the outcome trend depends on x; covariates at each row's own period keep the estimate near the truth
    assert abs(cov.aggregate("group").estimate - ref.aggregate("group").estimate) < 3 * cov.std_error


def test_segments_joint_covariance_and_equality_test(sim: pd.DataFrame) -> None:
    res = callaway_santanna(_panel(sim), by="region")
    seg = res.by_segment()
    el = seg.elements.set_index("segment")
    for key in (1.0, 2.0):
        alone = callaway_santanna(_panel(sim[sim["region"] == key]))
        assert el.loc[key, "estimate"] == pytest.approx(alone.estimate, abs=1e-12)
        assert el.loc[key, "std_error"] == pytest.approx(alone.std_error, rel=1e-10)
    assert seg.element_vcov.shape == (2, 2) and seg.element_vcov[0, 1] == pytest.approx(0.0, abs=1e-15)
    diff = el["estimate"].iloc[0] - el["estimate"].iloc[1]
    w_hand = diff**2 / (el["std_error"] ** 2).sum()
    test = res.segment_test()
    assert test.statistic == pytest.approx(w_hand, rel=1e-10) and test.df == 1
    assert seg.spec["segment_test"].statistic == test.statistic
    assert "segments by 'region'" in res.summary()
    # clusters spanning both segments make the covariance non-zero
    clus = callaway_santanna(_panel(sim, cluster="team"), by="region")
    assert clus.by_segment().element_vcov[0, 1] != 0.0
    # a different effect in region 2 is detected
    big = sim.assign(y=sim["y"] + np.where((sim["region"] == 2) & (sim["g"] > 0) & (sim["t"] >= sim["g"]),
                                           2.0, 0.0))
    assert callaway_santanna(_panel(big), by="region").segment_test().p_value < 1e-6
    with pytest.raises(ValueError, match="no segments"):
        callaway_santanna(_panel(sim)).by_segment()


def test_ledger_singleton_cohort_and_collinear_covariates(sim: pd.DataFrame) -> None:
    one = sim[(sim["g"] != 5) | (sim["id"] == sim.loc[sim["g"] == 5, "id"].min())]
    with pytest.warns(StatisticalWarning, match=r"cohorts \[5\] have a single unit: kept, as R did"):
        res = callaway_santanna(_panel(one))
    assert res.excluded.empty and 5 in res.att_gt["cohort"].tolist()  # kept, as R did keeps it
    assert "cohorts [5] have a single unit" in res.summary()
    assert "cohorts [5] have a single unit" in str(res.aggregate("simple").explain())
    coll = sim.assign(x2=3 * sim["x"] - 1)
    p = Panel.from_frame(coll, unit="id", time="t", outcome="y", cohort="g", covariates=["x", "x2"])
    with pytest.raises(EstimationError, match=r"Covariates \['x2'\].*collinear"):
        callaway_santanna(p, covariates=["x", "x2"])


def test_single_cluster_is_refused(sim: pd.DataFrame) -> None:
    one = sim.assign(team=0)
    with pytest.raises(EstimationError, match="single cluster"):
        callaway_santanna(_panel(one, cluster="team"))


def test_cell_with_collinear_covariate_is_ledgered(sim: pd.DataFrame) -> None:
    """x2 varies only within cohort 5: comparisons whose comparison units exclude cohort 5 are singular."""
    df = sim.assign(x2=np.where(sim["g"] == 5, sim["x"] ** 2, 0.0))
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x", "x2"])
    msg = r"No ATT\(g,t\) could be estimated.*collinear covariates \['x2'\]"
    with pytest.raises(EstimationError, match=msg):
        callaway_santanna(p, covariates=["x", "x2"], method="reg")
    with pytest.warns(StatisticalWarning, match="could not be estimated"):
        res = callaway_santanna(p, covariates=["x", "x2"], method="reg", control="not_yet_treated")
    cells = res.excluded[res.excluded["what"] == "cell"]
    # cohorts 3 and 4 in periods 5 and 6, when cohort 5 is no longer a comparison unit, and every cell of
    # cohort 5 (its comparison units all have x2 = 0)
    expected = [(3, 5), (3, 6), (4, 5), (4, 6)] + [(5, t) for t in range(2, 7)]
    assert sorted((int(g), int(t)) for g, t in cells["id"]) == sorted(expected)
    assert cells["reason"].str.startswith("collinear covariates ['x2']").all()
    assert len(res.att_gt) > 0


def test_bootstrap_clustered_with_unbalanced_panel(sim: pd.DataFrame) -> None:
    rng = np.random.default_rng(9)
    holes = sim.drop(index=rng.choice(sim.index, size=200, replace=False))
    p = _panel(holes, cluster="team")
    a = callaway_santanna(p, allow_unbalanced=True, n_draws=499, seed=3)
    b = callaway_santanna(p, allow_unbalanced=True, n_draws=499, seed=3)
    assert a.crit is not None and a.crit > 1.96 and a.crit == b.crit
    analytic = callaway_santanna(p, allow_unbalanced=True)
    ratio = a.att_gt["std_error"] / analytic.att_gt["std_error"]
    assert ratio.dropna().between(0.8, 1.25).all()
    # bootstrap draws perturb teams, not units: with 60 teams the cumulative SE agrees with the analytic one
    assert a.cumulative(1).std_error == pytest.approx(analytic.cumulative(1).std_error, rel=0.2)
