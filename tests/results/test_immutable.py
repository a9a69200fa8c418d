"""Results cannot be changed after the fact: every table and array a result holds refuses in-place edits.

For each result type the library returns, an edit through a table (``.loc``/``.iloc``/``.at``/``.iat``
assignment, a new or replaced column, an ``inplace=True`` method) raises FrozenResultError, an edit through
an array raises numpy's read-only ValueError, and afterwards every number of the result is what it was;
aggregations, ROI and charts built after the attempt give the original numbers. Freezing copies nothing.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle
import re
import warnings
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import FrozenResultError, ImpactlabError
from impactlab.results.base import EffectResult, FrozenFrame, FrozenSeries, freeze

matplotlib.use("Agg")


# ------------------------------------------------------------------------------------------ fixtures
def _balanced_frame(seed: int = 4, n: int = 90, t: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < 30, np.arange(n) < 60], [4, 6], 0), t)
    y = 0.2 * time + 1.5 * ((cohort > 0) & (time >= cohort)) + rng.normal(0, 0.5, n * t)
    return pd.DataFrame({"id": unit, "t": time, "y": y, "g": cohort, "x1": np.repeat(rng.normal(size=n), t)})


def _two_period_frame(seed: int = 8, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    d = (rng.random(n) < 0.5).astype(int)
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 + d * 1.0 + rng.normal(size=n)
    return pd.DataFrame({"id": np.r_[np.arange(n), np.arange(n)], "post": np.r_[np.zeros(n), np.ones(n)],
                         "d": np.r_[d, d], "x": np.r_[x, x], "y": np.r_[y0, y1]})


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    """Every result type, from one small simulated organisation (and two hand-made frames)."""
    org = il.datasets.simulate_org(n_employees=300, n_periods=14, seed=5)
    completions = il.read_completions(org.completions)
    balanced = il.Panel.from_frame(_balanced_frame(), unit="id", time="t", outcome="y", cohort="g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"), completions,
                               program=org.program, outcome=org.outcome, roster=il.read_roster(org.roster))
        cs = il.callaway_santanna(panel, control="not_yet_treated")
        effect = cs.aggregate("simple")
        level1 = il.kirkpatrick.reaction(il.read_surveys(org.surveys), roster=completions)
        level2 = il.kirkpatrick.learning(il.read_assessments(org.assessments), pass_mark=0.7)
        level3 = il.kirkpatrick.behavior(il.read_observations(org.observations), trained_at=completions)
        ex = il.exposure(cs, panel=panel)
        r = il.roi(ex, margin=0.3, costs=il.Costs.from_table(il.read_costs(org.costs)))
        r_mc = il.roi(effect, value_per_unit=50.0, participants=100, horizon=6,
                      costs=il.Costs(delivery=(30_000.0, 40_000.0)), n_draws=2_000, seed=1)
        ch = il.kirkpatrick.chain(reaction=level1, learning=level2, behavior=level3, results=effect, roi=r,
                                  panel=panel)
        cs_bal = il.callaway_santanna(balanced)
        out = {
            "naive": il.naive_difference(panel),
            "twfe": il.twfe(panel),
            "cs": cs,
            "cs_balanced": cs_bal,
            **{f"cs_{k}": cs.aggregate(k) for k in ("simple", "group", "dynamic", "calendar")},
            "cs_cumulative": cs.cumulative(2),
            "event_study": il.event_study(panel, window=(-2, 2)),
            "event_study_cs": il.event_study(panel, window=(-2, 2), method="callaway_santanna"),
            "sun_abraham": il.sun_abraham(panel),
            "drdid": il.drdid(_two_period_frame(), outcome="y", treated="d", post="post", unit="id",
                              covariates=["x"]),
            "sensitivity": il.sensitivity(cs_bal),
            "roi": r,
            "roi_monte_carlo": r_mc,
            "roi_sensitivity": il.roi_sensitivity(il.roi(cs_bal.aggregate("simple"), value_per_unit=100,
                                                         participants=60, horizon=12, costs=50_000), cs_bal),
            "exposure": ex,
            "reaction": level1,
            "learning": level2,
            "behavior": level3,
            "chain": ch,
        }
    return out


RESULTS = ["naive", "twfe", "cs", "cs_balanced", "cs_simple", "cs_group", "cs_dynamic", "cs_calendar",
           "cs_cumulative", "event_study", "event_study_cs", "sun_abraham", "drdid", "sensitivity", "roi",
           "roi_monte_carlo", "roi_sensitivity", "exposure", "reaction", "learning", "behavior", "chain"]


# ------------------------------------------------------------------------------------------ helpers
def _members(res: Any) -> dict[str, Any]:
    """Every table, series and array a result holds (dataclass fields, public or not)."""
    out = {}
    for f in dataclasses.fields(res):
        v = getattr(res, f.name)
        if isinstance(v, (pd.DataFrame, pd.Series, np.ndarray)):
            out[f.name] = v
    if hasattr(res, "unit_ids"):  # CallawaySantAnnaResult: the (lazily built) influence matrix
        out["influence"] = res.influence
    return out


def _snapshot(res: Any) -> dict[str, Any]:
    snap = {k: (v.copy(deep=True) if isinstance(v, (pd.DataFrame, pd.Series)) else np.array(v, copy=True))
            for k, v in _members(res).items()}
    for k in ("estimate", "std_error", "total", "roi_pct", "breakdown"):
        if hasattr(res, k):
            snap[k] = getattr(res, k)
    return snap


def _assert_same(res: Any, snap: dict[str, Any]) -> None:
    now = _members(res)
    for k, before in snap.items():
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(now[k], before, check_frame_type=False, obj=k)
        elif isinstance(before, pd.Series):
            pd.testing.assert_series_equal(now[k], before, check_series_type=False, obj=k)
        elif isinstance(before, np.ndarray):
            assert np.array_equal(now[k], before, equal_nan=before.dtype.kind == "f"), k
        else:
            after = getattr(res, k)
            assert after == before or (after != after and before != before), k


def _frame_edits(df: pd.DataFrame) -> list[tuple[str, Any]]:
    col = next((c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])), df.columns[0])
    row = df.index[0] if len(df) else 0  # an empty ledger: enlargement is refused as well
    return [
        ("loc", lambda: df.loc.__setitem__((row, col), 12345)),
        ("iloc", lambda: df.iloc.__setitem__((0, 0), 12345)),
        ("at", lambda: df.at.__setitem__((row, col), 12345)),
        ("iat", lambda: df.iat.__setitem__((0, 0), 12345)),
        ("replace column", lambda: df.__setitem__(col, 0)),
        ("new column", lambda: df.__setitem__("extra", 1)),
        ("insert", lambda: df.insert(0, "extra", 1)),
        ("drop inplace", lambda: df.drop(columns=[col], inplace=True)),
        ("fillna inplace", lambda: df.fillna(0, inplace=True)),
        ("sort inplace", lambda: df.sort_values(col, inplace=True)),
        ("rename axes", lambda: setattr(df, "columns", [f"c{i}" for i in range(df.shape[1])])),
        ("pop", lambda: df.pop(col)),
    ]


def _series_edits(s: pd.Series) -> list[tuple[str, Any]]:
    return [("setitem", lambda: s.__setitem__(s.index[0] if len(s) else 0, 12345)),
            ("iloc", lambda: s.iloc.__setitem__(0, 12345)),
            ("fillna inplace", lambda: s.fillna(0, inplace=True)),
            ("name", lambda: setattr(s, "name", "other"))]


# ------------------------------------------------------------------------------------------ every result
def _assert_refused(edit: Any, what: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas' own deprecation of inplace=
            edit()
    except FrozenResultError as exc:
        assert re.search(r"frozen impactlab result.*\.copy\(\)", str(exc)), what
    else:
        pytest.fail(f"{what} was not refused")


@pytest.mark.parametrize("name", RESULTS)
def test_in_place_edits_raise_and_change_nothing(flow, name) -> None:
    res = flow[name]
    members = _members(res)
    assert members, f"{name} holds no table or array to protect"
    snap = _snapshot(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.spec = {}  # the dataclass itself is frozen
    for key, v in members.items():
        if isinstance(v, pd.DataFrame):
            assert isinstance(v, FrozenFrame), (name, key)
            if not v.shape[1]:
                continue
            for what, edit in _frame_edits(v):
                _assert_refused(edit, f"{name}.{key}: {what}")
        elif isinstance(v, pd.Series):
            assert isinstance(v, FrozenSeries), (name, key)
            for what, edit in _series_edits(v):
                _assert_refused(edit, f"{name}.{key}: {what}")
        else:
            assert not v.flags.writeable, (name, key)
            if v.size:
                with pytest.raises(ValueError, match="read-only"):
                    v.flat[0] = 12345
                with pytest.raises(ValueError, match="read-only"):
                    v[...] = 0
                with pytest.raises(ValueError, match="read-only"):
                    v *= 2
    _assert_same(res, snap)


def test_the_error_is_an_impactlab_error_and_says_how_to_fix(flow) -> None:
    dyn = flow["cs_dynamic"]
    with pytest.raises(ImpactlabError) as info:
        dyn.elements.loc[0, "estimate"] = 5
    assert isinstance(info.value, ValueError)  # like numpy's read-only arrays
    msg = str(info.value)
    assert ".loc" in msg and "read-only" in msg and "result.<table>.copy()" in msg


# ------------------------------------------------------------------------------------------ downstream
def test_aggregating_after_attempted_edits_gives_the_original_numbers(flow) -> None:
    cs = flow["cs"]
    before = {k: cs.aggregate(k) for k in ("simple", "group", "dynamic", "calendar")}
    with pytest.raises(ValueError, match="read-only"):
        cs.influence[:] = 0
    with pytest.raises(ValueError, match="read-only"):
        cs.unit_ids[0] = -1
    with pytest.raises(FrozenResultError):
        cs.excluded["reason"] = "edited"
    at = cs.att_gt  # a copy: editing it is allowed and changes nothing in the result
    at.loc[:, "estimate"] = 0.0
    for k, b in before.items():
        a = cs.aggregate(k)
        assert (a.estimate, a.std_error) == (b.estimate, b.std_error)
        if b.elements is not None:
            pd.testing.assert_frame_equal(a.elements, b.elements)
    assert cs.aggregate("simple").estimate == flow["cs_simple"].estimate != 0.0


def test_roi_and_sensitivity_after_attempted_edits_give_the_original_numbers(flow) -> None:
    dyn, r = flow["cs_dynamic"], flow["roi_monte_carlo"]
    roi_before, draws_before = r.conf_int(), r.distribution().copy()
    with pytest.raises(ValueError, match="read-only"):
        r._effect_draws[:] = 0
    with pytest.raises(ValueError, match="read-only"):
        r.distribution()[:] = 0
    assert r.conf_int() == roi_before
    assert np.array_equal(r.distribution(), draws_before)
    # sensitivity reads elements and element_vcov of the dynamic aggregation
    s_before = il.sensitivity(dyn).table.copy()
    with pytest.raises(ValueError, match="read-only"):
        dyn.element_vcov[0, 0] = 1e9
    with pytest.raises(FrozenResultError):
        dyn.elements.loc[0, "estimate"] = 1e9
    pd.testing.assert_frame_equal(il.sensitivity(dyn).table, s_before, check_frame_type=False)


def test_plot_after_attempted_edit_shows_the_original_estimates(flow) -> None:
    import matplotlib.pyplot as plt

    dyn = flow["cs_dynamic"]
    with pytest.raises(FrozenResultError):
        dyn.elements["estimate"] = dyn.elements["estimate"] * 10
    with pytest.raises(FrozenResultError):
        dyn.elements.iloc[0, 1] = 99.0
    ax = il.plot.event_study(dyn)
    try:
        drawn = np.sort(np.concatenate([np.asarray(ln.get_ydata(), dtype=float) for ln in ax.lines
                                        if ln.get_marker() == "o"]))
        assert np.allclose(drawn, np.sort(dyn.elements["estimate"].to_numpy()), rtol=0, atol=0)
        assert drawn.size == len(dyn.elements)
    finally:
        plt.close(ax.figure)


# ------------------------------------------------------------------------------------------ no copies
def test_freezing_copies_no_data() -> None:
    rng = np.random.default_rng(0)
    psi = rng.normal(size=(20_000, 36))  # stands for a 1M x 36 influence matrix
    est = np.array([0.5, 0.7])
    elements = pd.DataFrame({"event_time": [0, 1], "estimate": est, "std_error": [0.1, 0.2]})
    res = EffectResult(0.6, 0.1, influence=psi[:, 0], element_influence=psi, elements=elements)
    assert np.shares_memory(res.element_influence, psi) and res.element_influence.base is psi
    assert np.shares_memory(res.elements["estimate"].to_numpy(), elements["estimate"].to_numpy())
    # the caller's own objects are left as they were (writable)
    assert psi.flags.writeable
    elements.loc[0, "estimate"] = 9.0
    assert res.elements.loc[0, "estimate"] == 0.5  # copy-on-write: the result keeps its numbers
    # an already frozen member is reused, not wrapped again
    again = EffectResult(0.6, 0.1, element_influence=res.element_influence, elements=res.elements)
    assert again.element_influence is res.element_influence and again.elements is res.elements


def test_lazy_dense_influence_is_frozen_when_built() -> None:
    panel = il.Panel.from_frame(_balanced_frame(), unit="id", time="t", outcome="y", cohort="g")
    cs = il.callaway_santanna(panel)  # balanced, no covariates: the compact route keeps the affine form
    assert not isinstance(cs._influence, np.ndarray)
    dense = cs.influence
    assert isinstance(cs._influence, np.ndarray) and not dense.flags.writeable
    assert cs.influence is dense  # built once, kept
    with pytest.raises(ValueError, match="read-only"):
        dense[0, 0] = 1.0


def test_cs_segments_are_frozen(staggered_frame) -> None:
    frame = staggered_frame.assign(site=(staggered_frame["id"] % 2).astype(float))
    panel = il.Panel.from_frame(frame, unit="id", time="year", outcome="y", cohort="first_treated",
                                covariates=["site"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(panel, by="site")
    assert not cs._segment_of.flags.writeable
    seg = cs.by_segment("simple")
    assert isinstance(seg.elements, FrozenFrame) and not seg.element_influence.flags.writeable


# ------------------------------------------------------------------------------------------ what stays easy
def test_frames_derived_from_a_result_are_ordinary_and_editable(flow) -> None:
    dyn = flow["cs_dynamic"]
    derived = {"copy": dyn.elements.copy(), "reset_index": dyn.elements.reset_index(drop=True),
               "selection": dyn.elements[dyn.elements["event_time"] >= 0],
               "columns": dyn.elements[["event_time", "estimate"]], "assign": dyn.elements.assign(x=1),
               "tidy": dyn.tidy(), "column": dyn.elements["estimate"]}
    for name, d in derived.items():
        assert type(d) in (pd.DataFrame, pd.Series), name
        if isinstance(d, pd.DataFrame):
            d.loc[d.index[0], "estimate"] = 777.0
            d["new"] = 1
        else:
            d.iloc[0] = 777.0
    assert 777.0 not in dyn.elements["estimate"].to_numpy()


def test_derived_frames_stay_editable_after_the_result_is_gone() -> None:
    # read-only numpy blocks would leak into copy-on-write children and fail here: the guard is on the API
    def table() -> pd.DataFrame:
        res = EffectResult(1.0, 0.1, elements=pd.DataFrame({"k": [1, 2], "estimate": [1.0, 2.0],
                                                             "std_error": [0.1, 0.1]}))
        return res.elements.reset_index(drop=True)

    t = table()
    gc.collect()
    t.loc[0, "estimate"] = 5.0
    assert t["estimate"].tolist() == [5.0, 2.0]


def test_frozen_through_pickle_and_deepcopy(flow) -> None:
    res = flow["cs_group"]
    for other in (pickle.loads(pickle.dumps(res)), copy.deepcopy(res)):
        assert isinstance(other.elements, FrozenFrame)
        pd.testing.assert_frame_equal(other.elements, res.elements, check_frame_type=False)
        with pytest.raises(FrozenResultError):
            other.elements.loc[0, "estimate"] = 1.0


@pytest.mark.parametrize("name", ["cs", "cs_dynamic", "sun_abraham", "drdid"])
def test_arrays_stay_read_only_after_pickle(flow, name) -> None:
    res = flow[name]
    back = pickle.loads(pickle.dumps(res))
    arrays = {k: v for k, v in _members(back).items() if isinstance(v, np.ndarray)}
    assert arrays
    for key, v in arrays.items():
        assert not v.flags.writeable, key
        assert np.array_equal(v, _members(res)[key], equal_nan=v.dtype.kind == "f"), key


def test_freeze_leaves_other_values_alone() -> None:
    for v in (1.0, "a", None, (1, 2), {"a": 1}):
        assert freeze(v) is v
    s = freeze(pd.Series([1.0, 2.0], name="w"))
    assert isinstance(s, FrozenSeries) and s.name == "w" and type(s * 2) is pd.Series


def test_roi_result_pickles_with_its_read_only_spec(flow) -> None:
    from types import MappingProxyType

    res = flow["roi"]
    back = pickle.loads(pickle.dumps(res))
    assert isinstance(back.spec, MappingProxyType) and dict(back.spec) == dict(res.spec)
    assert back.roi_pct == res.roi_pct and back.benefit == res.benefit and back.cost == res.cost
    with pytest.raises(TypeError):
        back.spec["seed"] = 1  # type: ignore[index]


def test_latex_styler_and_compare_work_on_frozen_tables(flow) -> None:
    el = flow["cs_group"].elements
    assert "\\begin{tabular}" in el.to_latex() and "\\begin{tabular}" in el.style.to_latex()
    other = el.copy()
    other.loc[other.index[0], "estimate"] = other["estimate"].iloc[0] + 1.0
    diff = el.compare(other)
    assert diff.shape[0] == 1 and type(diff) is pd.DataFrame
    assert el["estimate"].compare(other["estimate"]).shape[0] == 1
    with pytest.raises(FrozenResultError):  # still frozen afterwards
        el.loc[el.index[0], "estimate"] = 0.0
