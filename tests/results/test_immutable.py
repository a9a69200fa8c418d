"""Results cannot be changed after the fact, and reading them copies no data.

For each result type the library returns: a field cannot be reassigned (FrozenResultError, a dataclass
FrozenInstanceError); every table it hands out is an ordinary pandas object that may be edited in any way
(indexers, new or replaced columns, ``inplace=True`` methods, axis names), and afterwards every number of the
result is what it was; arrays and the arrays of its tables refuse writes. Aggregations, ROI and charts built
after the edits give the original numbers. Reading a member shares the stored data (copy-on-write).
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import importlib.util
import pickle
import subprocess
import sys
import tracemalloc
import warnings
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import FrozenResultError, ImpactlabError
from impactlab.panel.panel import copy_on_write
from impactlab.results.base import EffectResult, freeze

#: pandas copies on write (always from pandas 3): handed-out tables share the stored data and pandas itself
#: refuses or warns about writes through them; without it (pandas 2.x) they are deep copies.
COW = copy_on_write()

matplotlib.use("Agg")


# ------------------------------------------------------------------------------------------ fixtures
def _two_period_frame(seed: int = 8, n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    d = (rng.random(n) < 0.5).astype(int)
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 + d * 1.0 + rng.normal(size=n)
    return pd.DataFrame({"id": np.r_[np.arange(n), np.arange(n)], "post": np.r_[np.zeros(n), np.ones(n)],
                         "d": np.r_[d, d], "x": np.r_[x, x], "y": np.r_[y0, y1]})


def _balanced_panel(n: int = 90, t: int = 7, seed: int = 4) -> il.Panel:
    """Cohorts 4 and 6 and never treated, balanced: the compact (affine-influence) route of CS."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < n // 3, np.arange(n) < 2 * n // 3], [4, 6], 0), t)
    y = 0.2 * time + 1.5 * ((cohort > 0) & (time >= cohort)) + rng.normal(0, 0.5, n * t)
    frame = pd.DataFrame({"id": unit, "t": time, "y": y, "g": cohort})
    return il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g")


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    """Every result type, from one small simulated organisation (and two hand-made panels)."""
    org = il.datasets.simulate_org(n_employees=300, n_periods=14, seed=5)
    completions = il.read_completions(org.completions)
    balanced = _balanced_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel()
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
            "drdid": il.drdid_frame(_two_period_frame(), outcome="y", treated="d", post="post", unit="id",
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
    """Every table, series and array a result holds (dataclass fields, public or not), as read."""
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
    snap["tidy"] = res.tidy()
    return snap


def _assert_same(res: Any, snap: dict[str, Any]) -> None:
    now = {**_members(res), "tidy": res.tidy()}
    for k, before in snap.items():
        if isinstance(before, pd.DataFrame):
            pd.testing.assert_frame_equal(now[k], before, obj=k)
        elif isinstance(before, pd.Series):
            pd.testing.assert_series_equal(now[k], before, obj=k)
        elif isinstance(before, np.ndarray):
            assert np.array_equal(now[k], before, equal_nan=before.dtype.kind == "f"), k
        else:
            after = getattr(res, k)
            assert after == before or (after != after and before != before), k


def _frame_edits(df: pd.DataFrame) -> list[tuple[str, Any]]:
    col = next((c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])), df.columns[0])
    j = list(df.columns).index(col)
    value: Any = 12345 if pd.api.types.is_numeric_dtype(df[col]) else "edited"
    row = df.index[0] if len(df) else 0  # an empty ledger: enlargement
    return [
        ("loc", lambda: df.loc.__setitem__((row, col), value)),
        ("iloc", lambda: df.iloc.__setitem__((0, j), value) if len(df) else None),
        ("at", lambda: df.at.__setitem__((row, col), value)),
        ("iat", lambda: df.iat.__setitem__((0, j), value) if len(df) else None),
        ("replace column", lambda: df.__setitem__(col, value)),
        ("new column", lambda: df.__setitem__("extra", 1)),
        ("insert", lambda: df.insert(0, "extra2", 1)),
        ("fillna inplace", lambda: df.fillna({col: value}, inplace=True)),
        ("sort inplace", lambda: df.sort_values("extra2", inplace=True)),
        ("index name", lambda: setattr(df.index, "name", "edited")),
        ("columns name", lambda: setattr(df.columns, "name", "edited")),
        ("pop", lambda: df.pop(col)),
        ("drop inplace", lambda: df.drop(columns=[df.columns[0]], inplace=True)),
        ("rename axes", lambda: setattr(df, "columns", [f"c{i}" for i in range(df.shape[1])])),
    ]


def _series_edits(s: pd.Series) -> list[tuple[str, Any]]:
    value: Any = 12345 if pd.api.types.is_numeric_dtype(s) else "edited"
    return [("setitem", lambda: s.__setitem__(s.index[0] if len(s) else 0, value)),
            ("iloc", lambda: s.iloc.__setitem__(0, value) if len(s) else None),
            ("fillna inplace", lambda: s.fillna(value, inplace=True)),
            ("name", lambda: setattr(s, "name", "other")),
            ("index name", lambda: setattr(s.index, "name", "edited"))]


# ------------------------------------------------------------------------------------------ every result
@pytest.mark.parametrize("name", RESULTS)
def test_edits_of_handed_out_tables_never_change_the_result(flow, name) -> None:
    res = flow[name]
    members = _members(res)
    assert members, f"{name} holds no table or array to protect"
    snap = _snapshot(res)
    for key, v in members.items():
        if isinstance(v, pd.DataFrame):
            assert type(v) is pd.DataFrame, (name, key)
            if v.shape[1]:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # pandas' own notes on dtype changes
                    for _, edit in _frame_edits(v):
                        edit()
                assert list(v.columns)[0] == "c0"  # the edits happened, on the copy
        elif isinstance(v, pd.Series):
            assert type(v) is pd.Series, (name, key)
            for _, edit in _series_edits(v):
                edit()
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


@pytest.mark.parametrize("name", RESULTS)
def test_fields_cannot_be_reassigned(flow, name) -> None:
    res = flow[name]
    field = dataclasses.fields(res)[0].name
    before = getattr(res, field)
    with pytest.raises(FrozenResultError, match=r"never change after they are built"):
        setattr(res, field, None)
    with pytest.raises(dataclasses.FrozenInstanceError):  # what code written for dataclasses catches
        res.spec = {}
    with pytest.raises(FrozenResultError):
        delattr(res, field)
    now = getattr(res, field)
    assert now is before or type(now) is type(before)


def test_the_error_is_an_impactlab_error_and_says_how_to_go_on(flow) -> None:
    dyn = flow["cs_dynamic"]
    with pytest.raises(ImpactlabError) as info:
        dyn.estimate = 5.0  # type: ignore[misc]
    assert isinstance(info.value, AttributeError)  # what a frozen dataclass raises
    msg = str(info.value)
    assert ".estimate" in msg and "Run the estimator again" in msg and "copy of a table" in msg


def test_pandas_says_an_edit_written_on_the_result_goes_nowhere(flow) -> None:
    dyn = flow["cs_dynamic"]
    before = dyn.elements
    if COW:
        with pytest.warns(pd.errors.ChainedAssignmentError):
            dyn.elements.loc[0, "estimate"] = 5.0
    else:  # pandas 2.x without copy-on-write: the edit lands on a deep copy, silently
        dyn.elements.loc[0, "estimate"] = 5.0
    pd.testing.assert_frame_equal(dyn.elements, before)


def test_arrays_of_handed_out_tables_are_read_only(flow) -> None:
    dyn = flow["cs_dynamic"]
    for arr in (dyn.elements["estimate"].to_numpy(), dyn.elements["estimate"].values,
                dyn.elements[["estimate", "std_error"]].to_numpy()):
        if COW:
            with pytest.raises(ValueError, match="read-only"):
                arr[0] = 1e9
        else:  # a deep copy's array: writable, and nothing reaches the result
            arr[0] = 1e9
    assert 1e9 not in dyn.elements.to_numpy()


# ------------------------------------------------------------------------------------------ downstream
def test_aggregating_after_edits_gives_the_original_numbers(flow) -> None:
    cs = flow["cs"]
    before = {k: cs.aggregate(k) for k in ("simple", "group", "dynamic", "calendar")}
    with pytest.raises(ValueError, match="read-only"):
        cs.influence[:] = 0
    with pytest.raises(ValueError, match="read-only"):
        cs.unit_ids[0] = -1
    excluded, att_gt = cs.excluded, cs.att_gt
    excluded["reason"] = "edited"
    att_gt.loc[:, "estimate"] = 0.0
    for k, b in before.items():
        a = cs.aggregate(k)
        assert (a.estimate, a.std_error) == (b.estimate, b.std_error)
        if b.elements is not None:
            pd.testing.assert_frame_equal(a.elements, b.elements)
    assert "edited" not in cs.excluded["reason"].tolist()
    assert cs.aggregate("simple").estimate == flow["cs_simple"].estimate != 0.0


def test_roi_and_sensitivity_after_edits_give_the_original_numbers(flow) -> None:
    dyn, r = flow["cs_dynamic"], flow["roi_monte_carlo"]
    roi_before, draws_before = r.conf_int(), r.distribution().copy()
    with pytest.raises(ValueError, match="read-only"):
        r._effect_draws[:] = 0
    with pytest.raises(ValueError, match="read-only"):
        r.distribution()[:] = 0
    assert r.conf_int() == roi_before
    assert np.array_equal(r.distribution(), draws_before)
    # sensitivity reads elements and element_vcov of the dynamic aggregation
    s_before = il.sensitivity(dyn).table
    with pytest.raises(ValueError, match="read-only"):
        dyn.element_vcov[0, 0] = 1e9
    elements = dyn.elements
    elements.loc[0, "estimate"] = 1e9
    pd.testing.assert_frame_equal(il.sensitivity(dyn).table, s_before)


def test_plot_after_edits_shows_the_original_estimates(flow) -> None:
    import matplotlib.pyplot as plt

    dyn = flow["cs_dynamic"]
    els = dyn.elements
    els["estimate"] = els["estimate"] * 10
    els.iloc[0, 1] = 99.0
    ax = il.plot.event_study(dyn)
    try:
        drawn = np.sort(np.concatenate([np.asarray(ln.get_ydata(), dtype=float) for ln in ax.lines
                                        if ln.get_marker() == "o"]))
        assert np.allclose(drawn, np.sort(dyn.elements["estimate"].to_numpy()), rtol=0, atol=0)
        assert drawn.size == len(dyn.elements) and 99.0 not in drawn
    finally:
        plt.close(ax.figure)


# ------------------------------------------------------------------------------------------ no copies
def test_freezing_and_reading_copy_no_data() -> None:
    rng = np.random.default_rng(0)
    psi = rng.normal(size=(20_000, 36))  # stands for a 1M x 36 influence matrix
    elements = pd.DataFrame({"event_time": [0, 1], "estimate": [0.5, 0.7], "std_error": [0.1, 0.2]})
    res = EffectResult(0.6, 0.1, influence=psi[:, 0], element_influence=psi, elements=elements)
    assert res.element_influence.base is psi and res.element_influence is res.element_influence
    assert np.shares_memory(res.elements["estimate"].to_numpy(), elements["estimate"].to_numpy()) == COW
    # the caller's own objects are left as they were (writable), and their later edits do not reach
    assert psi.flags.writeable
    elements.loc[0, "estimate"] = 9.0
    assert res.elements.loc[0, "estimate"] == 0.5
    # an already frozen array is reused, not wrapped again
    again = EffectResult(0.6, 0.1, element_influence=res.element_influence)
    assert again.element_influence is res.element_influence


def test_a_large_callaway_santanna_result_is_read_without_copies() -> None:
    """Reading the influence matrix, unit ids and tables of a CS result allocates nothing proportional to
    the units (scaled down from 1M units to 50,000 units x 7 periods)."""
    panel = _balanced_panel(n=50_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(panel)
        dense = cs.influence  # built once (the compact route keeps the affine form until then)
    dynamic = cs.aggregate("dynamic")
    per_read = cs.unit_ids.nbytes // 2  # far less than any member that grows with the units
    tracemalloc.start()
    try:
        for _ in range(20):
            assert cs.influence is dense and dynamic.element_influence is dynamic.element_influence
            read = (cs.unit_ids, cs.excluded, cs.att_gt, cs._att_gt, dynamic.elements, dynamic.excluded)
            del read
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < per_read, peak


def test_lazy_dense_influence_is_frozen_when_built() -> None:
    cs = il.callaway_santanna(_balanced_panel())  # balanced, no covariates: the compact route
    assert not isinstance(cs._influence, np.ndarray)
    dense = cs.influence
    assert cs._influence.dense() is dense and not dense.flags.writeable
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
    before = seg.elements.copy()
    elements = seg.elements
    elements.loc[elements.index[0], "estimate"] = 1e9
    pd.testing.assert_frame_equal(seg.elements, before)
    assert not seg.element_influence.flags.writeable


# ------------------------------------------------------------------------------------------ what stays easy
def test_tables_are_ordinary_frames(flow) -> None:
    el = flow["cs_group"].elements
    plain = el.copy(deep=True)
    pd.testing.assert_frame_equal(plain, flow["cs_group"].elements)  # no check_frame_type=False needed
    assert el.equals(plain) and bool((el == plain).all().all())
    if importlib.util.find_spec("jinja2") is not None:  # pandas' LaTeX writer needs it (the notebooks extra)
        assert "\\begin{tabular}" in el.to_latex() and "\\begin{tabular}" in el.style.to_latex()
    other = el.copy()
    other.loc[other.index[0], "estimate"] = other["estimate"].iloc[0] + 1.0
    assert el.compare(other).shape[0] == 1
    assert el["estimate"].compare(other["estimate"]).shape[0] == 1
    derived = {"reset_index": el.reset_index(drop=True), "selection": el[el["estimate"] > -np.inf],
               "assign": el.assign(x=1), "tidy": flow["cs_group"].tidy()}
    for d in derived.values():
        d.loc[d.index[0], "estimate"] = 777.0
    assert 777.0 not in flow["cs_group"].elements["estimate"].to_numpy()


def test_derived_frames_stay_editable_after_the_result_is_gone() -> None:
    def table() -> pd.DataFrame:
        res = EffectResult(1.0, 0.1, elements=pd.DataFrame({"k": [1, 2], "estimate": [1.0, 2.0],
                                                             "std_error": [0.1, 0.1]}))
        return res.elements.reset_index(drop=True)

    t = table()
    gc.collect()
    t.loc[0, "estimate"] = 5.0
    assert t["estimate"].tolist() == [5.0, 2.0]


def test_pickle_and_deepcopy_keep_the_result_frozen(flow) -> None:
    res = flow["cs_group"]
    for other in (pickle.loads(pickle.dumps(res)), copy.deepcopy(res), copy.copy(res)):
        pd.testing.assert_frame_equal(other.elements, res.elements)
        elements = other.elements
        elements.loc[0, "estimate"] = 1.0
        pd.testing.assert_frame_equal(other.elements, res.elements)
        with pytest.raises(FrozenResultError):
            other.estimate = 1.0


@pytest.mark.parametrize("name", ["cs", "cs_dynamic", "sun_abraham", "drdid", "learning", "roi_monte_carlo"])
def test_arrays_stay_read_only_after_pickle(flow, name) -> None:
    res = flow[name]
    back = pickle.loads(pickle.dumps(res))
    arrays = {k: v for k, v in _members(back).items() if isinstance(v, np.ndarray)}
    for key, v in arrays.items():
        assert not v.flags.writeable, key
        assert np.array_equal(v, _members(res)[key], equal_nan=v.dtype.kind == "f"), key


def test_a_result_unpickled_in_a_fresh_process_is_frozen(flow, tmp_path) -> None:
    """No instance of the class was built in that process before: unpickling alone freezes it."""
    path = tmp_path / "level2.pkl"
    path.write_bytes(pickle.dumps(flow["learning"]))
    code = f"""
import pickle, dataclasses, numpy as np, pandas as pd
res = pickle.loads(open({str(path)!r}, "rb").read())
tables = [f.name for f in dataclasses.fields(res) if isinstance(getattr(res, f.name), pd.DataFrame)]
assert tables
for name in tables:
    t = getattr(res, name)
    before = t.copy(deep=True)
    num = list(t.select_dtypes("number").columns)
    if len(t) and num:
        t.loc[t.index[0], num[0]] = -12345.0
    t["extra"] = 1
    pd.testing.assert_frame_equal(getattr(res, name), before)
try:
    res.spec = {{}}
except dataclasses.FrozenInstanceError as exc:
    assert "never change" in str(exc)
else:
    raise AssertionError("reassigned")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr


def test_freeze_leaves_other_values_alone() -> None:
    for v in (1.0, "a", None, (1, 2), {"a": 1}):
        assert freeze(v) is v
    source = pd.Series([1.0, 2.0], name="w")
    s = freeze(source)
    assert type(s) is pd.Series and s.name == "w"
    assert np.shares_memory(s.to_numpy(), source.to_numpy()) == COW
    source.iloc[0] = 9.0
    assert s.tolist() == [1.0, 2.0]


def test_roi_result_pickles_with_its_read_only_spec(flow) -> None:
    from types import MappingProxyType

    res = flow["roi"]
    back = pickle.loads(pickle.dumps(res))
    assert isinstance(back.spec, MappingProxyType) and dict(back.spec) == dict(res.spec)
    assert back.roi_pct == res.roi_pct and back.benefit == res.benefit and back.cost == res.cost
    with pytest.raises(TypeError):
        back.spec["seed"] = 1  # type: ignore[index]
