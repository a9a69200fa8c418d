"""Every Callaway–Sant'Anna route against the cell-by-cell route, and the pieces they share.

The cell-by-cell route (one 2×2 estimator per cell, itself checked against R ``did`` in ``tests/oracle``)
is the reference: each scenario fits once with the registry's choice and once with ``engine="by_cell"`` and
requires the same cells, standard errors, every aggregation (with its element covariance and influence),
bootstrap draws for a seed, clustered standard errors, the pre-test, the ledger and the notes. TOL: both
compute the same formulas in another summation order, so 1e-10 relative leaves room for rounding only.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impactlab as il
from impactlab.errors import PanelError
from impactlab.estimators.callaway_santanna import covariates as cov_route
from impactlab.estimators.callaway_santanna import influence as infl
from impactlab.estimators.callaway_santanna import moments, routes, unbalanced_cov
from impactlab.estimators.callaway_santanna.api import _fit
from impactlab.estimators.callaway_santanna.cells import CellTable, Design
from impactlab.estimators.callaway_santanna.data import clearly_full_rank, collinear, prepare

TOL = 1e-10


def _frame(n=400, T=6, cohorts=(0, 3, 4, 6), probs=None, seed=3, level=20.0, varying=False, holes=0.0,
           sep=0.0, sort=False, single=None) -> pd.DataFrame:
    """A staggered panel: covariates x1 (time-varying if ``varying``) and x2, weights w, teams, segments;
    ``holes`` > 0 removes that share of unit-periods (late entrants, early leavers, gaps); ``single``: a
    cohort cut to its first unit (the others become never treated, or the first cohort's)."""
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, size=n, p=probs)
    if single is not None:
        g[np.flatnonzero(g == single)[1:]] = cohorts[0]
    g = np.sort(g) if sort else g  # unit ids in cohort order
    t = np.arange(1, T + 1)
    x1 = rng.normal(size=n)[:, None] + sep * (g == cohorts[1])[:, None] + (
        0.3 * rng.normal(size=(n, T)) if varying else np.zeros((1, T)))
    x2 = (rng.random(n) < 0.4).astype(float)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (level + rng.normal(size=n)[:, None] + 0.3 * t + 0.2 * x1 * t / T
         + post * (1 + 0.2 * (t - g[:, None])) + rng.normal(size=(n, T)) * (1 + (g[:, None] == cohorts[1])))
    keep = rng.random((n, T)) >= holes
    keep[:, 0] |= ~keep.any(axis=1)
    ids, ts = np.nonzero(keep)
    return pd.DataFrame({"id": ids + 1000, "t": ts + 1, "g": g[ids], "y": y[ids, ts], "x1": x1[ids, ts],
                         "x2": x2[ids], "w": 1.0 + ids % 5, "team": ids % 29, "seg": (ids % 2).astype(float)})


def _panel(df: pd.DataFrame, cluster: bool = False) -> il.Panel:
    return il.Panel.from_frame(df.sample(frac=1, random_state=2), unit="id", time="t", outcome="y",
                               cohort="g", covariates=["x1", "x2", "w", "seg"],
                               cluster="team" if cluster else None)


def _quiet(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fit(panel, **kw)


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


NUMBERS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
AGGREGATIONS = [("simple", {}), ("group", {}), ("group", {"max_e": 1}), ("dynamic", {}),
                ("dynamic", {"balance_e": 1}), ("dynamic", {"min_e": -2, "max_e": 2}), ("calendar", {}),
                ("cumulative", {"max_e": 1})]


def assert_same_fit(res, ref) -> None:
    """Two fits agree to rounding: cells, SEs, aggregations, pre-test, influence, ledger and notes."""
    a, b = res.att_gt, ref.att_gt
    pd.testing.assert_frame_equal(a.drop(columns=NUMBERS), b.drop(columns=NUMBERS))
    for col in NUMBERS:
        assert _rel(a[col], b[col]) < TOL, col
    assert (res.crit is None) == (ref.crit is None)
    if res.crit is not None:
        assert res.crit == pytest.approx(ref.crit, rel=TOL)
    np.testing.assert_array_equal(res.unit_ids, ref.unit_ids)
    for kind, kw in AGGREGATIONS:
        try:
            y = ref.aggregate(kind, **kw)
        except ValueError as exc:  # e.g. a cumulative effect without event time 0: the same refusal
            with pytest.raises(ValueError, match=str(exc)[:30]):
                res.aggregate(kind, **kw)
            continue
        x = res.aggregate(kind, **kw)
        assert x.estimate == pytest.approx(y.estimate, rel=TOL, nan_ok=True), kind
        assert x.std_error == pytest.approx(y.std_error, rel=TOL, nan_ok=True), kind
        assert _rel(x.influence, y.influence) < TOL
        if y.elements is not None:
            pd.testing.assert_index_equal(x.elements.columns, y.elements.columns)
            for col in x.elements.columns:
                assert _rel(x.elements[col], y.elements[col]) < TOL, (kind, col)
            assert _rel(x.element_vcov, y.element_vcov) < TOL
            assert _rel(x.element_influence, y.element_influence) < TOL
            assert not x.element_influence.flags.writeable and not x.element_vcov.flags.writeable
    assert (res.pretest is None) == (ref.pretest is None)
    if ref.pretest is not None:
        assert res.pretest.df == ref.pretest.df
        assert res.pretest.statistic == pytest.approx(ref.pretest.statistic, rel=1e-9)
    pd.testing.assert_frame_equal(res.excluded, ref.excluded)
    assert res.notes == ref.notes
    assert _rel(res.influence, ref.influence) < TOL  # last: the dense matrix, built on demand
    assert not res.influence.flags.writeable and res.influence is res.influence


B, N, NY = "balanced", "never_treated", "not_yet_treated"
# (id, frame options, panel clusters, fit options, route the registry takes)
SCENARIOS = [
    # balanced, no covariates: cohort moments
    ("moments-never-varying", {"level": 1e4}, False, {}, "moments"),
    ("moments-notyet-universal-antic", {}, False, {"control": NY, "base_period": "universal",
                                                   "anticipation": 1}, "moments"),
    ("moments-notyet-varying-antic", {}, False, {"control": NY, "anticipation": 1}, "moments"),
    ("moments-clusters", {}, True, {"control": NY}, "moments"),
    ("moments-bootstrap", {}, False, {"control": NY, "n_draws": 199, "seed": 11}, "moments"),
    ("moments-bootstrap-universal", {}, False, {"base_period": "universal", "anticipation": 1,
                                                "n_draws": 99, "seed": 4}, "moments"),
    ("moments-no-never-treated", {"cohorts": (3, 4, 6)}, False, {"control": NY}, "moments"),
    # balanced with sampling weights, no covariates: weighted cohort moments
    ("weights-never-varying", {}, False, {"weights": "w"}, "moments"),
    ("weights-notyet-universal-antic", {}, False, {"weights": "w", "control": NY, "base_period": "universal",
                                                   "anticipation": 1}, "moments"),
    ("weights-ipw-clusters", {"seed": 4}, True, {"weights": "w", "method": "ipw", "control": NY}, "moments"),
    ("weights-reg-clusters", {"seed": 4}, True, {"weights": "w", "method": "reg"}, "moments"),
    ("weights-bootstrap", {}, False, {"weights": "w", "control": NY, "n_draws": 199, "seed": 7}, "moments"),
    ("weights-no-never-treated", {"cohorts": (3, 4, 6)}, False, {"weights": "w", "control": NY}, "moments"),
    # balanced with covariates: one fit per design
    *[(f"covariates-{m}-{c[:5]}-{b}", {}, False, {"covariates": ["x1", "x2"], "method": m, "control": c,
                                                   "base_period": b}, "covariates")
      for m in ("dr", "ipw", "reg") for c in (N, NY) for b in ("varying", "universal")],
    ("covariates-time-varying", {"varying": True, "seed": 5}, False, {"covariates": ["x1", "x2"],
                                                                       "method": "ipw"}, "covariates"),
    ("covariates-time-varying-universal", {"varying": True, "seed": 5}, False,
     {"covariates": ["x1"], "base_period": "universal"}, "covariates"),
    ("covariates-antic", {"T": 8, "cohorts": (0, 4, 5, 7)}, False, {"covariates": ["x1"], "control": NY,
                                                                     "anticipation": 2}, "covariates"),
    ("covariates-unequal-no-never", {"cohorts": (3, 4, 6), "probs": (0.5, 0.3, 0.2), "seed": 9}, False,
     {"covariates": ["x1", "x2"], "control": NY}, "covariates"),
    ("covariates-weights-reg", {}, False, {"covariates": ["x1"], "weights": "w", "method": "reg"},
     "covariates"),
    ("covariates-weights-notyet", {}, False, {"covariates": ["x1", "x2"], "weights": "w", "control": NY},
     "covariates"),
    ("covariates-weights-clusters-bootstrap", {}, True, {"covariates": ["x1"], "weights": "w",
                                                        "base_period": "universal", "anticipation": 1,
                                                        "n_draws": 99, "seed": 3}, "covariates"),
    ("covariates-separation", {"sep": 60.0, "seed": 4}, False, {"covariates": ["x1", "x2"]}, "by_cell"),
    # unbalanced panels without covariates: cohort-by-period means
    ("unbalanced-never-dr", {"T": 7, "holes": 0.15}, False, {"allow_unbalanced": True}, "unbalanced"),
    ("unbalanced-notyet-dr", {"T": 7, "holes": 0.15}, False, {"allow_unbalanced": True, "control": NY},
     "unbalanced"),
    ("unbalanced-ipw-universal", {"T": 7, "holes": 0.15}, False,
     {"allow_unbalanced": True, "method": "ipw", "base_period": "universal"}, "unbalanced"),
    ("unbalanced-reg-antic", {"T": 7, "holes": 0.15}, False,
     {"allow_unbalanced": True, "control": NY, "method": "reg", "anticipation": 1}, "unbalanced"),
    ("unbalanced-no-never-treated", {"cohorts": (3, 5, 6), "holes": 0.1, "seed": 8}, False,
     {"allow_unbalanced": True, "control": NY}, "unbalanced"),
    ("unbalanced-units-in-cohort-order", {"holes": 0.15, "sort": True}, False,
     {"allow_unbalanced": True, "method": "ipw"}, "unbalanced"),
    ("unbalanced-clusters", {"holes": 0.15}, True, {"allow_unbalanced": True, "method": "reg"}, "unbalanced"),
    ("unbalanced-bootstrap", {"holes": 0.15}, False, {"allow_unbalanced": True, "control": NY,
                                                      "n_draws": 199, "seed": 4}, "unbalanced"),
    ("unbalanced-weights", {"holes": 0.15}, False, {"allow_unbalanced": True, "weights": "w"}, "by_cell"),
    # unbalanced panels and repeated cross-sections with covariates: gathered blocks
    *[(f"unbalanced-covariates-{m}-{c[:5]}", {"holes": 0.15, "varying": True}, False,
       {"allow_unbalanced": True, "covariates": ["x1", "x2"], "method": m, "control": c},
       "unbalanced_covariates")
      for m in ("dr", "ipw", "reg") for c in (N, NY)],
    ("unbalanced-covariates-universal-antic", {"holes": 0.15, "varying": True}, False,
     {"allow_unbalanced": True, "covariates": ["x1"], "base_period": "universal", "anticipation": 1},
     "unbalanced_covariates"),
    ("unbalanced-covariates-clusters-bootstrap", {"holes": 0.15}, True,
     {"allow_unbalanced": True, "covariates": ["x1"], "n_draws": 99, "seed": 4}, "unbalanced_covariates"),
    ("rcs-covariates", {"holes": 0.15, "varying": True}, False,
     {"repeated_cross_sections": True, "covariates": ["x1", "x2"], "method": "reg"}, "unbalanced_covariates"),
    ("rcs", {"holes": 0.15}, False, {"repeated_cross_sections": True}, "by_cell"),
    # a cohort of one unit, kept as R did keeps it
    ("singleton-never", {"single": 4}, False, {}, "moments"),
    ("singleton-notyet-bootstrap", {"single": 4}, False, {"control": NY, "n_draws": 99, "seed": 2},
     "moments"),
    ("singleton-weights-clusters", {"single": 4}, True, {"weights": "w", "control": NY}, "moments"),
    ("singleton-covariates", {"single": 4}, False, {"covariates": ["x1", "x2"]}, "covariates"),
    ("singleton-unbalanced", {"single": 4, "holes": 0.1}, False, {"allow_unbalanced": True}, "unbalanced"),
    # the outcome regressions of the treated observations are singular with one unit (in R's drdid_rc too):
    # the route declines and the cell-by-cell route leaves the cohort's cells out with that reason
    ("singleton-unbalanced-covariates", {"single": 4, "holes": 0.1}, False,
     {"allow_unbalanced": True, "covariates": ["x1"], "control": NY}, "by_cell"),
]


@pytest.mark.parametrize(("frame", "cluster", "kw", "route"), [s[1:] for s in SCENARIOS],
                         ids=[s[0] for s in SCENARIOS])
def test_route_equals_the_cell_by_cell_route(frame, cluster, kw, route):
    panel = _panel(_frame(**frame), cluster=cluster)
    res, ref = _quiet(panel, **kw), _quiet(panel, engine="by_cell", **kw)
    assert res._engine == route and ref._engine == "by_cell"
    kept = type(res._influence)
    res.aggregate("dynamic"), res.pretest  # noqa: B018 - aggregations and the pre-test use the compact form
    assert type(res._influence) is kept
    assert_same_fit(res, ref)


# ------------------------------------------------------------------------------- edge cases of the routes
def _fits(df, **kw):
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g",
                                covariates=[c for c in ("x1", "x2", "w") if c in df])
    return _quiet(panel, **kw), _quiet(panel, engine="by_cell", **kw)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cells_at_the_trimming_level_keep_the_two_by_two_rules(method, weighted):
    # 300 treated against 10 never-treated units (and a later cohort): unweighted, a treated share of
    # 300/310 is below 0.995, so 1 never-treated unit is used instead; weighted (10 against 1), the share
    # 3000/3010 trims. DR and IPW trim the comparison units or fail overlap (cells left out); REG estimates
    rng = np.random.default_rng(5)
    g = np.r_[np.full(300, 3), np.zeros(10 if weighted else 1, dtype=int), np.full(40, 4)]
    n, T = g.size, 4
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(g, T), "y": rng.normal(size=n * T),
                       "w": np.repeat(np.where(g == 3, 10.0, 1.0), T)})
    kw = {"method": method, "control": NY} | ({"weights": "w", "control": N} if weighted else {})
    res, ref = _fits(df, **kw)
    assert res._engine == "moments"
    assert_same_fit(res, ref)
    assert res.excluded["reason"].str.contains("not finite|trimmed|overlap").any() == (method != "reg")


@pytest.mark.parametrize("method", ["dr", "ipw"])
@pytest.mark.parametrize("holes", [0.0, 0.2])
def test_trimmed_comparison_units_with_covariates(method, holes):
    # with x2 = 1, 500 of 502 units are treated: a score of 0.996, above the trimming level (0.995) and
    # below the overlap limit (0.999); the two comparison units get zero weight in each of the 4 cells
    rng = np.random.default_rng(21)
    x2 = np.r_[np.ones(502), np.zeros(200)]
    g = np.r_[np.full(500, 3), 0, 0, np.full(100, 3), np.zeros(100)].astype(int)
    n, T = g.size, 5
    t = np.arange(1, T + 1)
    y = rng.normal(size=(n, T)) + 0.3 * t + ((g[:, None] > 0) & (t >= g[:, None])) * 2.0
    keep = (rng.random((n, T)) >= holes) | (x2[:, None] == 1)
    keep[:, 0] = True
    ids, ts = np.nonzero(keep)
    df = pd.DataFrame({"id": ids, "t": ts + 1, "g": g[ids], "y": y[ids, ts], "x2": x2[ids]})
    res, ref = _fits(df, covariates=["x2"], method=method, allow_unbalanced=holes > 0)
    assert res._engine == ("unbalanced_covariates" if holes else "covariates")
    assert_same_fit(res, ref)
    count = 4 if holes else 2  # observations: 2 units × 2 periods on the unbalanced route
    assert res.excluded["reason"].str.contains(f"trimmed: {count} comparison observations").sum() == 4


def test_singleton_cohorts_short_units_and_zero_weight_cohorts():
    df = _frame(n=300)
    df.loc[df["id"] == 1007, "g"] = 2  # a singleton cohort: kept, as R did keeps it
    df = df.loc[~((df["id"] == 1011) & (df["t"] == 4))]  # not observed throughout: dropped
    for kw in ({}, {"weights": "w"}):
        res, ref = _fits(df, **kw)
        assert res._engine == "moments"
        assert_same_fit(res, ref)
        assert (res.att_gt["cohort"] == 2).sum() == 5 and res.att_gt["std_error"].notna().all()
        assert [n for n in res.notes if n.startswith("cohorts [2] have a single unit")]
        assert list(res.excluded["id"]) == [1011]
        assert 1011 not in set(res.unit_ids)
    zero = _frame(n=200).assign(w=lambda d: np.where(d["g"] == 6, 0.0, d["w"]))
    res, ref = _fits(zero, weights="w")
    assert res._engine == "by_cell"  # the moments route declines: cohort 6 has no weighted mean
    cells = res.excluded.query("what == 'cell'")
    assert {key[0] for key in cells["id"]} == {6} and cells["reason"].str.contains("did not converge").all()


def test_cells_without_comparison_units_and_empty_cohort_periods():
    # cohort 6 never observed in period 5 (empty cells), two never-treated units next to a large cohort 3
    # (trimmed), and no comparison units at all for late cells with not-yet-treated units and no never-treated
    df = _frame(n=600, T=8, seed=11, cohorts=(3, 6), probs=(0.8, 0.2), holes=0.02)
    df.loc[df["id"].isin([1000, 1001]), "g"] = 0
    df = df[~((df["g"] == 6) & (df["t"] == 5))]
    for kw in ({"method": "dr"}, {"method": "ipw"}, {"method": "reg", "control": NY},
               {"method": "dr", "control": NY}):
        res, ref = _fits(df, allow_unbalanced=True, **kw)
        assert res._engine == "unbalanced"
        assert "none in treated" in " ".join(ref.excluded["reason"])
        assert_same_fit(res, ref)
    cov, cov_ref = _fits(df, allow_unbalanced=True, covariates=["x1"], method="reg")
    assert cov._engine == "by_cell"  # an empty block: the gathered-block route declines
    assert_same_fit(cov, cov_ref)
    table = CellTable(tuple(range(1, 9)))  # not yet treated by t + anticipation: nobody left to compare
    design = Design(NY, "dr", "varying", 2, table.periods)
    list(design.walk(table, np.array([3]), 8, np.array([3, 5]), np.array([10, 10])))
    assert ("cell", (3, 4), "no comparison units") in table.ledger and "cohort 3, time 4" in table.names


@pytest.mark.parametrize("engine", ["moments", "covariates", "unbalanced", "unbalanced_covariates"])
def test_segments_take_each_route(engine):
    df = _frame(n=600, holes=0.1 if engine.startswith("unbalanced") else 0.0)
    kw = {"by": "seg", "allow_unbalanced": engine.startswith("unbalanced"),
          "covariates": ["x1"] if engine.endswith("covariates") else None}
    res, ref = _quiet(_panel(df), **kw), _quiet(_panel(df), engine="by_cell", **kw)
    assert all(sub._engine == engine for sub in res._segments.values())
    for kind in ("simple", "dynamic"):
        x, y = res.by_segment(kind), ref.by_segment(kind)
        for col in ("estimate", "std_error"):
            assert _rel(x.elements[col], y.elements[col]) < TOL
    assert res.segment_test().statistic == pytest.approx(ref.segment_test().statistic, rel=TOL)


def test_forcing_a_route_that_does_not_support_the_fit_is_refused():
    panel = _panel(_frame(n=100))
    with pytest.raises(ValueError, match="'covariates' route does not support"):
        _quiet(panel, engine="covariates")
    with pytest.raises(ValueError, match="must be None or one of"):
        _quiet(panel, engine="fast")


def test_a_unit_seen_twice_in_a_period_is_left_to_the_cell_by_cell_route():
    panel = _panel(_frame(holes=0.15))
    data = prepare(panel, covs=("x1", "x2"), weights=None, anticipation=0, control=N, mode="unbalanced",
                   excluded=[], notes=[])
    design = Design(N, "dr", "varying", 0, tuple(panel.periods), ("x1", "x2"))
    assert unbalanced_cov.fit(data, design) is not None
    twice = data.obs_id.copy()
    first = np.flatnonzero(data.obs_t == 2)[:2]
    twice[first[1]] = twice[first[0]]
    assert unbalanced_cov.fit(replace(data, obs_id=twice), design) is None
    assert routes.estimate_cells(replace(data, obs_id=twice), design).route == "by_cell"


# ---------------------------------------------------------------------------------- hand-computed cells
def test_hand_computed_cells():
    # cohort 2 vs never: changes 3 and 5 (mean 4) against 1 and 1 (mean 1): ATT = 3, ψ = [-2, 2, 0, 0]
    y = np.array([[0.0, 3.0], [1.0, 6.0], [2.0, 3.0], [0.0, 1.0]])
    cells = moments.att_gt_from_moments(moments.cohort_moments(y, np.array([2, 2, 0, 0])))
    assert cells.att.tolist() == [3.0]
    assert cells.std_error[0] == pytest.approx(np.sqrt(8.0) / 4)
    # weighted: ATT(4, 5) is the difference of weighted mean changes; SE from ψ_i by hand
    df = _frame()
    res = _quiet(_panel(df), weights="w")
    wide = df.pivot(index="id", columns="t", values="y")
    unit = df.groupby("id")[["g", "w"]].first()
    change = wide[5] - wide[3]
    tr, co = unit["g"] == 4, unit["g"] == 0
    m_t, m_c = np.average(change[tr], weights=unit["w"][tr]), np.average(change[co], weights=unit["w"][co])
    cell = res.att_gt.query("cohort == 4 and time == 5").iloc[0]
    assert cell["estimate"] == pytest.approx(m_t - m_c, rel=1e-12)
    w = unit["w"] / unit["w"].mean()
    psi = len(unit) * w * (tr * (change - m_t) / w[tr].sum() - co * (change - m_c) / w[co].sum())
    assert cell["std_error"] == pytest.approx(np.sqrt((psi**2).sum()) / len(unit), rel=1e-10)
    assert abs(_quiet(_panel(df)).estimate - res.estimate) > 1e-3  # the weights are not ignored
    # unbalanced: the difference of the four period means of the observed units
    holes = _frame(n=200, seed=2, holes=0.15)
    h = holes.set_index("t")
    t3, c0 = h[h["g"] == 3], h[h["g"] == 0]
    hand = (t3.loc[4, "y"].mean() - t3.loc[2, "y"].mean()) - (c0.loc[4, "y"].mean() - c0.loc[2, "y"].mean())
    row = _quiet(_panel(holes), allow_unbalanced=True).att_gt.query("cohort == 3 and time == 4").iloc[0]
    assert row["estimate"] == pytest.approx(hand, abs=1e-12)


def test_moments_from_a_frame_match_callaway_santanna_and_refuse_gaps():
    panel = _panel(_frame(n=300))
    ref = _quiet(panel, control=NY)
    units, y, gp = moments.balanced_arrays(panel)
    cells = moments.att_gt_from_moments(moments.cohort_moments(y, gp), control=NY)
    assert _rel(cells.att, ref.att_gt["estimate"]) < TOL
    assert _rel(cells.std_error, ref.att_gt["std_error"]) < TOL
    est, se = moments.simple_from_moments(cells)
    assert est == pytest.approx(ref.estimate, rel=TOL) and se == pytest.approx(ref.std_error, rel=TOL)
    with pytest.raises(il.errors.EstimationError, match="missing or infinite"):
        moments.cohort_moments(np.array([[1.0, np.nan]]), np.array([0]))
    with pytest.raises(il.errors.EstimationError, match="no never-treated"):
        moments.att_gt_from_moments(moments.cohort_moments(y[gp > 0], gp[gp > 0]))


# ------------------------------------------------------------------------------ the influence protocol
@pytest.mark.parametrize(("engine", "kw", "holes"), [
    ("moments", {}, 0.0), ("moments", {"weights": "w"}, 0.0), ("covariates", {"covariates": ["x1"]}, 0.0),
    ("unbalanced", {"allow_unbalanced": True}, 0.15), ("by_cell", {}, 0.0)])
def test_every_influence_form_is_its_dense_matrix(engine, kw, holes):
    res = _quiet(_panel(_frame(n=250, holes=holes)), control=NY, engine=engine, **kw)
    assert res._engine == engine
    form = res._influence
    dense = np.array(form.dense())
    rng = np.random.default_rng(0)
    w = rng.normal(size=(dense.shape[1], 3))
    scale = float(np.max(np.abs(dense.T @ dense)))
    np.testing.assert_allclose(form.combine(w), dense @ w, rtol=1e-12, atol=1e-12 * scale)
    np.testing.assert_allclose(form.sum_squares(), (dense**2).sum(axis=0), rtol=1e-10, atol=1e-12 * scale)
    cols = np.array([0, 2, 5])
    np.testing.assert_allclose(form.cross_products(cols), dense[:, cols].T @ dense[:, cols], rtol=1e-10,
                               atol=1e-12 * scale)
    np.testing.assert_array_equal(form.nonzero_columns(), dense.any(axis=0))
    if form.cohorts is not None:  # a constant per cohort folds into the form
        shift = rng.normal(size=(form.cohorts.size, 3))
        moved = form.transform(w, shift)
        if moved is not None:
            per_unit = shift[np.searchsorted(form.cohorts, res._unit_group)]
            np.testing.assert_allclose(moved.dense(), dense @ w + per_unit, rtol=1e-12, atol=1e-12 * scale)
    draws = form.multiplier_draws(49, 3, res._unit_group)
    np.testing.assert_allclose(draws, infl.Dense(dense).multiplier_draws(49, 3, res._unit_group), rtol=1e-10,
                               atol=1e-12 * np.sqrt(scale))


def test_standard_errors_clusters_and_the_zero_floor():
    psi = np.array([[1.0, 0.0], [-1.0, 0.0], [2.0, 1e-12], [0.0, 0.0]])
    se = infl.standard_errors(infl.Dense(psi))
    assert se[0] == pytest.approx(np.sqrt(6.0) / 4) and np.isnan(se[1])
    clustered = infl.standard_errors(infl.Dense(psi), np.array([0, 0, 1, 1]))
    assert clustered[0] == pytest.approx(2.0 / 4)  # clusters {1, -1} and {2, 0}: sqrt(0 + 4) / 4
    np.testing.assert_allclose(infl.covariance(infl.Dense(psi), np.array([0]), None), [[6.0 / 16]])


# ------------------------------------------------------------------------------ multiplier bootstrap
def test_rademacher_products_are_the_seeded_signs(monkeypatch):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(53, 4))
    bounds = np.array([0, 11, 11, 40, 53])
    shared = infl.SignStream(7)  # the segments draw one after the other from one stream
    expected = np.stack([shared.signs((31, e - s)) @ z[s:e]
                         for s, e in zip(bounds[:-1], bounds[1:], strict=True)], axis=1)
    out = infl.rademacher_products(z, 31, 7, bounds)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    monkeypatch.setattr(infl, "_BLOCK", 45)  # one to four draws per block: the stream ignores the blocking
    np.testing.assert_allclose(infl.rademacher_products(z, 31, 7, bounds), out, rtol=0, atol=1e-12)
    stream = infl.SignStream(1)
    pieces = np.concatenate([stream.bits(k) for k in (3, 64, 100, 1, 200)])
    np.testing.assert_array_equal(pieces, infl.SignStream(1).bits(368))
    big = infl.SignStream(2).signs((200, 1000))
    assert set(np.unique(big)) == {-1.0, 1.0}
    assert big.mean() == pytest.approx(0, abs=4 / np.sqrt(big.size))  # mean 0, variance 1


def test_bootstrap_standard_errors_match_the_analytic_ones_within_monte_carlo_error():
    panel = _panel(_frame(n=600, T=7, seed=5))
    iters = 999
    res, an = _quiet(panel, n_draws=iters, seed=2), _quiet(panel)
    sd = 1.17 / np.sqrt(iters)  # relative sampling sd of the IQR-based standard error
    ratio = (res.att_gt["std_error"] / an.att_gt["std_error"]).dropna()
    assert len(ratio) >= 15 and (ratio - 1).abs().max() < 4.5 * sd
    dyn, dyn_an = res.aggregate("dynamic"), an.aggregate("dynamic")
    assert (dyn.elements["std_error"] / dyn_an.elements["std_error"] - 1).abs().max() < 4.5 * sd
    k = int(np.isfinite(an.att_gt["std_error"]).sum())  # uniform band: wider than pointwise, under Bonferroni
    assert stats.norm.ppf(0.975) < res.crit < stats.norm.ppf(1 - 0.025 / k) + 0.1
    again, other = _quiet(panel, n_draws=99, seed=4), _quiet(panel, n_draws=99, seed=4)
    pd.testing.assert_frame_equal(again.att_gt, other.att_gt)
    assert not np.allclose(again.att_gt["std_error"], _quiet(panel, n_draws=99, seed=5).att_gt["std_error"],
                           equal_nan=True)


@pytest.mark.slow
def test_uniform_event_study_band_covers_the_true_effects():
    """Simultaneous coverage of the sup-t band over simulated panels (effects 0 before treatment,
    1 + 0.2 e after): 95 % within 4 Monte Carlo sd."""
    reps, hits = 300, 0
    for seed in range(reps):
        res = _quiet(_panel(_frame(n=300, seed=1000 + seed)), n_draws=299, seed=seed)
        el = res.aggregate("dynamic").elements
        e = el["event_time"].to_numpy()
        half = el["crit"].to_numpy() * el["std_error"].to_numpy()
        hits += bool(np.all(np.abs(el["estimate"].to_numpy() - np.where(e >= 0, 1 + 0.2 * e, 0.0)) <= half))
    assert abs(hits / reps - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps)


# ------------------------------------------------------------------------------------ shared pieces
def test_one_logit_per_design_and_the_blocked_logit_is_logit_fit(monkeypatch):
    from impactlab.estimators.drdid import logit_fit

    calls = []
    original = cov_route._fit_design
    monkeypatch.setattr(cov_route, "_fit_design", lambda *a: calls.append(a[0]) or original(*a))
    res = _quiet(_panel(_frame()), covariates=["x1", "x2"])
    assert len(res.att_gt) == 3 * 5 and len(calls) == 3  # time-invariant covariates: one fit per cohort
    rng = np.random.default_rng(2)
    n_t, n_c = 3000, 5000  # several row blocks
    x = np.column_stack([np.ones(n_t + n_c), rng.normal(size=n_t + n_c), rng.random(n_t + n_c) < 0.5])
    x[:n_t, 1] += 0.4
    ps, converged = cov_route._logit(x, n_t)
    _, ref, ref_converged = logit_fit(x, np.r_[np.ones(n_t), np.zeros(n_c)])
    assert converged and ref_converged
    np.testing.assert_allclose(ps, ref, rtol=1e-12)


def test_the_cell_by_cell_route_fits_each_logit_once(monkeypatch):
    import importlib

    from impactlab.estimators.callaway_santanna import by_cell

    drdid = importlib.import_module("impactlab.estimators.drdid")

    calls, original = [], drdid.logit_fit
    monkeypatch.setattr(by_cell, "logit_fit", lambda *a, **k: calls.append(1) or original(*a, **k))
    monkeypatch.setattr(drdid, "logit_fit", by_cell.logit_fit)
    res = _quiet(_panel(_frame(n=300)), covariates=["x1"], engine="by_cell")
    assert len(calls) == len(res.att_gt)  # one per cell: the overlap check hands its fit to the estimator


def test_quick_rank_check_agrees_with_the_exact_one():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=2000), (rng.random(2000) < 0.3).astype(float)
    cases = {"independent": np.column_stack([a, b]), "copy": np.column_stack([a, 2 * a]),
             "constant": np.column_stack([a, np.full(2000, 3.0)]),
             "nearly": np.column_stack([a, a + 1e-9 * b]), "one column": a[:, None]}
    for name, x in cases.items():
        if clearly_full_rank(x):  # never claims full rank where the exact check finds collinearity
            assert collinear(x, tuple(f"c{j}" for j in range(x.shape[1]))) == [], name
    assert clearly_full_rank(cases["independent"]) and clearly_full_rank(cases["one column"])
    assert not clearly_full_rank(cases["copy"]) and not clearly_full_rank(cases["constant"])


@pytest.mark.parametrize("column", ["w", "team"])
def test_weights_or_cluster_changing_within_a_unit_is_refused(column: str) -> None:
    df = _frame(n=60, T=5).sort_values(["id", "t"]).reset_index(drop=True)
    df.loc[7, column] = df.loc[7, column] + 1  # unit 1001, period 3
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["w"],
                                cluster="team")
    kw = {"weights": "w"} if column == "w" else {}
    with pytest.raises(PanelError, match=r"changes over time within units \[(np\.int64\()?1001"):
        il.callaway_santanna(panel, **kw)
