"""Parity of ``callaway_santanna`` with R ``did`` 2.1.2 on panels derived from mpdta (``data/make.R``):
unbalanced panels (``allow_unbalanced_panel = TRUE``), a cohort of one unit (kept, as R keeps it) and a
cohort of two units, ATT(g,t) with analytic standard errors and every ``aggte`` type. Provenance:
``tests/oracle/data/PROVENANCE.md``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from impactlab.errors import StatisticalWarning
from impactlab.estimators.callaway_santanna import CallawaySantAnnaResult, callaway_santanna
from impactlab.estimators.callaway_santanna.aggregate import aggregate_cells
from impactlab.estimators.callaway_santanna.influence import Dense, standard_errors
from impactlab.panel.panel import Panel

#: Relative tolerance: deterministic closed forms (as in test_did_oracle.py), apart from R's logit stopping
#: rule (deviance tolerance 1e-8), which moves the doubly robust numbers by about 1e-9.
RTOL = 1e-6
#: Unbalanced panel with a covariate (``unb_nev_dr_cov``): R did 2.1.2 runs DRDID 1.2.3's ``drdid_rc``, which
#: adds the estimation effect of the pre-period outcome regression (``inf.treat.or <- inf.treat.or.post +
#: inf.treat.or.pre``, the same for the comparison part) where the pre-period terms enter the ATT with a minus
#: sign; impactlab (like the drdid port) subtracts it. The ATT(g,t) agree to 1e-9; the SEs differ by up to 3 %
#: (cell 2006/2004: 0.037295 here, R 0.038430). :func:`r_sign_influence` adds R's term to impactlab's
#: influence functions and then every SE and aggregation equals R's to RTOL.
R_SIGN_SCENARIO = "unb_nev_dr_cov"

NEV, NYT = "never_treated", "not_yet_treated"
#: scenario: (panel file, callaway_santanna arguments), as make.R runs R did's att_gt
EXTRA: dict[str, tuple[str, dict[str, Any]]] = {
    "unb_nev_dr": ("mpdta_unbalanced", {"control": NEV, "method": "dr", "allow_unbalanced": True}),
    "unb_nyt_reg": ("mpdta_unbalanced", {"control": NYT, "method": "reg", "allow_unbalanced": True}),
    "unb_nev_dr_cov": ("mpdta_unbalanced", {"control": NEV, "method": "dr", "allow_unbalanced": True,
                                            "covariates": ["lpop"]}),
    "singleton_nev_dr": ("mpdta_singleton", {"control": NEV, "method": "dr"}),
    "singleton_nyt_dr": ("mpdta_singleton", {"control": NYT, "method": "dr"}),
    "two_unit_nev_dr_analytic": ("mpdta_two_unit_cohort", {"control": NEV, "method": "dr"}),
}
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")
FILES = ("mpdta.csv", "sim_data.csv", "ref_attgt.csv", "ref_aggte.csv", "ref_pretest.csv", "ref_sim.csv",
         "tp2_const.csv", "tp4_const.csv", "tp10_const.csv", "tp4_dyn.csv", "tp5_dyn.csv", "tp8_dyn.csv",
         "make.R", "versions.txt", "mpdta_unbalanced.csv", "mpdta_singleton.csv", "mpdta_two_unit_cohort.csv",
         "ref_extra_attgt.csv", "ref_extra_aggte.csv", "PROVENANCE.md")


def _rel(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def fit_extra(oracle: Path, name: str, table: dict[str, tuple[str, dict[str, Any]]] = EXTRA,
              **extra: Any) -> CallawaySantAnnaResult:
    """The fit of scenario ``name`` (warnings about small cohorts silenced: they are the point here)."""
    data, kwargs = table[name]
    df = pd.read_csv(oracle / f"{data}.csv")
    panel = Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat",
                             covariates=["lpop"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callaway_santanna(panel, **kwargs, **extra)


def matched_cells(oracle: Path, name: str, res: CallawaySantAnnaResult) -> pd.DataFrame:
    """R's ATT(g,t) of ``name`` beside impactlab's (``att``/``se``: R, ``estimate``/``std_error``: ours)."""
    ref = pd.read_csv(oracle / "ref_extra_attgt.csv")
    ref = ref[ref["scenario"] == name]
    assert len(ref), name
    got = res.att_gt
    assert len(got) == len(ref)
    return ref.merge(got, left_on=["group", "t"], right_on=["cohort", "time"], how="left", validate="1:1")


def test_every_reference_file_is_in_the_repository(did_oracle_dir: Path) -> None:
    missing = [f for f in FILES if not (did_oracle_dir / f).is_file()]
    assert not missing, f"reference files missing from {did_oracle_dir}: {missing}"
    assert "did 2.1.2" in (did_oracle_dir / "versions.txt").read_text()


@pytest.mark.parametrize("name", list(EXTRA))
def test_att_gt_matches_r_did(did_oracle_dir: Path, name: str) -> None:
    res = fit_extra(did_oracle_dir, name)
    m = matched_cells(did_oracle_dir, name, res)
    assert m["estimate"].notna().all()
    assert _rel(m["estimate"], m["att"]) < RTOL
    if name == R_SIGN_SCENARIO:
        assert 0.02 < _rel(m["std_error"], m["se"]) < 0.035  # impactlab's sign (see R_SIGN_SCENARIO)
        assert _rel(standard_errors(Dense(r_sign_influence(did_oracle_dir, res))), m["se"]) < RTOL
    else:
        assert _rel(m["std_error"], m["se"]) < RTOL


def r_sign_influence(oracle: Path, res: CallawaySantAnnaResult) -> np.ndarray:
    """impactlab's influence functions of ``unb_nev_dr_cov`` (units × cells) with DRDID 1.2.3's sign of the
    pre-period outcome-regression term (see :data:`R_SIGN_SCENARIO`): R's minus ours is, per observation of a
    cell, ``2 · l_i' (M1_pre − M3_pre)``, ``l_i`` the linear representation of the comparison units'
    pre-period OLS coefficients, ``M1_pre`` / ``M3_pre`` minus the treated / odds-weighted comparison
    covariate means in the pre period; scaled by ``n / n_cell`` and summed by unit, as R did does."""
    df = pd.read_csv(oracle / "mpdta_unbalanced.csv")
    years = sorted(df["year"].unique())
    ids = pd.Index(res.unit_ids)
    n = ids.size
    psi = np.array(res._influence.dense(), dtype=float)
    for k, (g, t) in enumerate(zip(res.att_gt["cohort"], res.att_gt["time"], strict=True)):
        pre = years[years.index(g) - 1] if t >= g else years[years.index(t) - 1]
        d = df[df["year"].isin([pre, t]) & df["first.treat"].isin([g, 0])]
        x = np.column_stack([np.ones(len(d)), d["lpop"].to_numpy()])
        treated = (d["first.treat"] == g).to_numpy(dtype=float)
        before = (d["year"] == pre).to_numpy(dtype=float)
        y = d["lemp"].to_numpy()
        ps = np.minimum(sm.Logit(treated, x).fit(disp=0, tol=1e-12, maxiter=100).predict(x), 1 - 1e-6)
        w_ols = (1 - treated) * before
        beta = np.linalg.lstsq(x[w_ols > 0], y[w_ols > 0], rcond=None)[0]
        lin = (w_ols * (y - x @ beta))[:, None] * x @ np.linalg.inv((w_ols[:, None] * x).T @ x / len(d))
        w_treat = treated * before
        w_cont = (ps < 0.995) * ps * (1 - treated) * before / (1 - ps)
        m1 = -(w_treat[:, None] * x).mean(axis=0) / w_treat.mean()
        m3 = -(w_cont[:, None] * x).mean(axis=0) / w_cont.mean()
        extra = pd.Series(2 * lin @ (m1 - m3) * n / len(d)).groupby(d["countyreal"].to_numpy()).sum()
        psi[ids.get_indexer(extra.index), k] += extra.to_numpy()
    return psi


def group_overall_se(G: np.ndarray, psi: np.ndarray, att_g: np.ndarray, cell_cohorts: np.ndarray
                     ) -> tuple[float, float]:
    """The overall SE of the cohort aggregation from its element influence functions ``psi``, with the
    influence of the estimated cohort shares as R did computes it now (``wif(group = glist)``) and as did
    2.1.2 did. ``G``: each unit's cohort (0 never treated), ``cell_cohorts``: the cohort of each ATT(g,t).

    did 2.1.2 (``compute.aggte.R``) passed ``group`` (the cohort of each ATT(g,t)) to ``wif`` with
    ``keepers = 1:length(glist)``, so the share terms used the cohorts of the first cells instead of each
    cohort; R did fixed this in commit 71f1bbc (2025-12-12, ``group = glist``). impactlab follows the fix;
    the reference of 2.1.2 is checked by applying 2.1.2's rule to the same influence functions.
    """
    glist = np.unique(G[G > 0])
    assert psi.shape[1] == glist.size
    pgg = np.array([(G == g).mean() for g in glist])

    def se(groups: np.ndarray) -> float:
        ind = np.column_stack([(G == groups[k]) - pgg[k] for k in range(glist.size)])
        wif = ind / pgg.sum() - np.outer(ind.sum(axis=1), pgg / pgg.sum() ** 2)
        psi_overall = psi @ (pgg / pgg.sum()) + wif @ att_g
        return float(np.sqrt(np.sum(psi_overall**2)) / G.size)

    return se(glist), se(cell_cohorts[: glist.size])


def aggregation(res: CallawaySantAnnaResult, kind: str, psi: np.ndarray | None = None
                ) -> tuple[float, float, pd.DataFrame, np.ndarray]:
    """Overall estimate and SE, elements (key, estimate, std_error) and element influence of
    ``res.aggregate(kind)``; with ``psi``, the same aggregation of those influence functions instead."""
    if psi is None:
        agg = res.aggregate(kind)
        el = agg.elements if agg.elements is not None else pd.DataFrame()
        infl = np.asarray(agg.element_influence) if agg.element_influence is not None else np.empty(0)
        return agg.estimate, agg.std_error, el, infl
    a = aggregate_cells(kind, res.att_gt["estimate"].to_numpy(), Dense(psi), res._group, res._time,
                        res._unit_group, last_period=res.n_periods)
    se = standard_errors(a.form)
    labels = [res._periods[int(k) - 1] for k in a.keys] if kind in ("group", "calendar") else a.keys
    key = {"simple": "key", "group": "cohort", "dynamic": "event_time", "calendar": "time"}[kind]
    el = pd.DataFrame({key: labels, "estimate": a.estimates, "std_error": se[:-1]})
    return a.overall, float(se[-1]), el, a.influence


def check_aggregation(oracle: Path, name: str, kind: str, res: CallawaySantAnnaResult,
                      psi: np.ndarray | None = None) -> None:
    """The aggregation ``kind`` of ``res`` (or of the influence functions ``psi``) equals R's ``aggte`` of
    scenario ``name``: overall and every element."""
    ref = pd.read_csv(oracle / "ref_extra_aggte.csv")
    ref = ref[(ref["scenario"] == name) & (ref["type"] == kind)]
    assert len(ref)
    estimate, std_error, el, el_psi = aggregation(res, kind, psi)
    assert _rel([estimate], ref["overall_att"].iloc[:1]) < RTOL
    if kind == "group":
        G = np.asarray(res._unit_group)  # cohorts as period positions; 0: never treated
        glist = np.unique(G[G > 0])
        cells = glist[np.searchsorted(np.asarray(el["cohort"]), np.asarray(res.att_gt["cohort"]))]
        ours, r_212 = group_overall_se(G, el_psi, np.asarray(el["estimate"]), cells)
        assert std_error == pytest.approx(ours, rel=1e-10)
        assert _rel([r_212], ref["overall_se"].iloc[:1]) < RTOL
    else:
        assert _rel([std_error], ref["overall_se"].iloc[:1]) < RTOL
    if kind == "simple":
        return
    key = {"group": "cohort", "dynamic": "event_time", "calendar": "time"}[kind]
    assert len(el) == len(ref)
    m = ref.merge(el, left_on="egt", right_on=key, how="left", validate="1:1")
    assert _rel(m["estimate"], m["att_egt"]) < RTOL
    assert _rel(m["std_error"], m["se_egt"]) < RTOL


@pytest.mark.parametrize("kind", AGGREGATIONS)
@pytest.mark.parametrize("name", list(EXTRA))
def test_aggte_matches_r_did(did_oracle_dir: Path, name: str, kind: str) -> None:
    res = fit_extra(did_oracle_dir, name)
    if name == R_SIGN_SCENARIO:  # R's sign of one term (see R_SIGN_SCENARIO); impactlab's own SEs differ
        check_aggregation(did_oracle_dir, name, kind, res, r_sign_influence(did_oracle_dir, res))
        estimate, _, el, _ = aggregation(res, kind)
        r_estimate, _, r_el, _ = aggregation(res, kind, r_sign_influence(did_oracle_dir, res))
        assert estimate == pytest.approx(r_estimate, rel=1e-12)
        if kind != "simple":
            pd.testing.assert_frame_equal(el.drop(columns="std_error"), r_el.drop(columns="std_error"),
                                          check_dtype=False)
    else:
        check_aggregation(did_oracle_dir, name, kind, res)


@pytest.mark.parametrize("name", ["singleton_nev_dr", "singleton_nyt_dr"])
def test_singleton_cohort_is_kept_as_r_keeps_it(did_oracle_dir: Path, name: str) -> None:
    """R estimates the one-unit cohort 2004 (its SEs come from the comparison units); so does impactlab,
    with a warning naming the cohort and the same note on the result, and the headline is R's."""
    data, kwargs = EXTRA[name]
    df = pd.read_csv(did_oracle_dir / f"{data}.csv")
    assert df.loc[df["first.treat"] == 2004, "countyreal"].nunique() == 1
    panel = Panel.from_frame(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    with pytest.warns(StatisticalWarning, match=r"cohorts \[2004\] have a single unit: kept"):
        res = callaway_santanna(panel, **kwargs)
    assert any("cohorts [2004] have a single unit" in n for n in res.notes)
    assert res.excluded.empty
    ref = pd.read_csv(did_oracle_dir / "ref_extra_aggte.csv")
    simple = ref[(ref["scenario"] == name) & (ref["type"] == "simple")].iloc[0]
    headline = res.aggregate("simple")
    assert round(headline.estimate, 5) == round(simple["overall_att"], 5)  # -0.02786 / -0.02621
    assert headline.estimate == pytest.approx(simple["overall_att"], rel=RTOL)
    assert headline.std_error == pytest.approx(simple["overall_se"], rel=RTOL)
