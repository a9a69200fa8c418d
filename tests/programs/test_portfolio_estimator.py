"""portfolio(): several programmes estimated together, the others' completions modelled.

Cases: a noise-free panel whose effects the joint fit recovers exactly (and whose per-programme imputation
does not, by an amount computed by hand), equality with imputation when one programme is given, Holm's
adjustment by hand, the sup-t value against the normal quantile, the result table and its errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impactlab as il
from impactlab.errors import EstimationError, PanelError, StatisticalWarning
from impactlab.programs.result import PROGRAM_COLUMNS, holm, sup_t_critical

#: exact recovery in floating point on a noise-free panel
EXACT = 1e-8


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six employees, eight months; y = 100 + 10 * employee + 5 * month + 30 after A + 12 after B.

    A: employees 1, 2 from month 3 and employee 3 from month 5; B: employee 2 from month 5, employees 3
    and 4 from month 6. Employees 5 and 6 take neither.
    """
    a = {1: 3, 2: 3, 3: 5}
    b = {2: 5, 3: 6, 4: 6}
    rows, done = [], []
    for i in range(1, 7):
        for m in range(1, 9):
            y = (100 + 10 * i + 5 * m + (30 if i in a and m >= a[i] else 0)
                 + (12 if i in b and m >= b[i] else 0))
            rows.append((f"E{i}", f"2024-{m:02d}", float(y)))
    for prog, when in (("A", a), ("B", b)):
        done += [(f"E{i}", prog, "Completed", f"2024-{m:02d}-15") for i, m in when.items()]
    kpis = pd.DataFrame(rows, columns=["employee_id", "month", "sales"])
    comp = pd.DataFrame(done, columns=["employee_id", "program", "status", "completed_at"])
    return kpis, comp


def _read(kpis: pd.DataFrame, comp: pd.DataFrame) -> tuple[il.Table, il.Table]:
    return il.read_kpis(kpis, unit="employee_id", time="month"), il.read_completions(comp)


def test_a_noise_free_panel_gives_each_programme_its_effect_exactly() -> None:
    kpis, comp = _read(*_tiny())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = il.portfolio(kpis, comp, programs=["A", "B"], outcome="sales")
    t = res.programs.set_index("program")
    assert t.loc["A", "estimate"] == pytest.approx(30.0, abs=EXACT)
    assert t.loc["B", "estimate"] == pytest.approx(12.0, abs=EXACT)
    assert t.loc["A", "std_error"] == pytest.approx(0.0, abs=EXACT)
    # employees 2 and 3 took both; A has 3 trained, B 3
    assert list(t["n_trained"]) == [3, 3] and list(t["n_also_other"]) == [2, 2]
    assert res.estimate == pytest.approx(30.0, abs=EXACT) and res.tidy()["program"].iloc[0] == "A"
    # A alone, B ignored: A's post months of employees 2 (months 5-8) and 3 (6-8) carry B's +12, and
    # B's months sit in the untreated fit of employee 4 (months 6-8, +12 each)
    alone = il.imputation(il.build_panel(kpis, comp, program="A", outcome="sales")).estimate
    assert alone != pytest.approx(30.0, abs=1.0)


def test_with_one_programme_it_is_the_imputation_estimator() -> None:
    org = il.datasets.simulate_org(n_employees=400, n_periods=18, seed=5)
    kpis = il.read_kpis(org.kpis, unit="employee_id", time="month")
    comp = il.read_completions(org.completions)
    roster = il.read_roster(org.roster)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cluster in (None, "team"):
            res = il.portfolio(kpis, comp, programs=[org.program], outcome=org.outcome, roster=roster,
                               cluster=cluster, anticipation=2)
            panel = il.build_panel(kpis, comp, program=org.program, outcome=org.outcome, roster=roster,
                                   cluster=cluster)
            imp = il.imputation(panel, anticipation=2)
            one = res.results[org.program]
            assert one.estimate == pytest.approx(imp.estimate, rel=1e-10)
            g = panel._long["cluster"].nunique() if cluster else panel.n_units
            scale = np.sqrt(g / (g - 1)) if g < 40 else 1.0
            assert one.std_error == pytest.approx(imp.std_error * scale, rel=1e-8)
            merged = one.elements.merge(imp.elements, on="event_time", suffixes=("", "_imp"))
            assert len(merged) == len(imp.elements)
            np.testing.assert_allclose(merged["estimate"], merged["estimate_imp"], rtol=1e-9)
            np.testing.assert_allclose(merged["std_error"] / scale, merged["std_error_imp"], rtol=1e-8)


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, 1 x 0.04 = 0.04 -> 0.06 (monotone)
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_sup_t_is_the_normal_quantile_for_one_and_bonferroni_like_for_independent() -> None:
    assert sup_t_critical(np.eye(1), 0.95, None, 0) == pytest.approx(1.959964, abs=1e-6)
    # independent: P(max |Z| <= c) = (2 Phi(c) - 1)^3 = 0.95 -> c = Phi^-1((1 + 0.95^(1/3)) / 2) = 2.3877
    assert sup_t_critical(np.eye(3), 0.95, None, 0) == pytest.approx(2.3877, abs=0.01)
    # perfectly correlated: the one-programme value
    assert sup_t_critical(np.ones((3, 3)), 0.95, None, 0) == pytest.approx(1.96, abs=0.01)


@pytest.fixture(scope="module")
def three() -> tuple[il.datasets.Org, il.PortfolioResult]:
    org = il.datasets.simulate_org(n_employees=600, n_periods=20, seed=11,
                                   programs={"Negotiation Skills": 0.5, "Time Management": 0.0})
    res = il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                       il.read_completions(org.completions), programs=list(org.truths), outcome=org.outcome,
                       anticipation=2, costs=il.read_costs(org.costs), margin=0.25, horizon=12)
    return org, res


def test_the_programmes_table(three) -> None:
    org, res = three
    t = res.programs
    assert tuple(t.columns) == PROGRAM_COLUMNS
    assert list(t["program"]) == list(org.truths)
    assert (t["ci_low_simultaneous"] < t["ci_low"]).all() and (t["ci_high"] < t["ci_high_simultaneous"]).all()
    assert (t["p_adjusted"] >= t["p_value"]).all()
    assert ((t["n_also_other"] > 0) & (t["n_also_other"] <= t["n_trained"])).all()
    for title, r in res.roi_results.items():
        row = t.set_index("program").loc[title]
        assert row["roi"] == pytest.approx(r.roi_pct) and row["roi_low"] < row["roi"] < row["roi_high"]
    est, lo, hi = res.difference("Consultative Selling", "Time Management")
    assert est == pytest.approx(t["estimate"].iloc[0] - t["estimate"].iloc[2]) and lo < est < hi
    # the headline is the largest estimate, and tidy ranks the rest below it
    tidy = res.tidy()
    assert tidy["estimate"].is_monotonic_decreasing and tidy["estimate"].iloc[0] == t["estimate"].max()
    text = str(res.explain())
    assert "add up" in text and "Holm" in text


def test_without_costs_the_roi_columns_are_empty(three) -> None:
    org, _ = three
    res = il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                       il.read_completions(org.completions), programs=["Time Management", org.program],
                       outcome=org.outcome, anticipation=2)
    assert res.programs[["roi", "roi_low", "roi_high"]].isna().all().all() and not res.roi_results


def test_errors_say_what_to_do() -> None:
    kpis, comp = _read(*_tiny())
    with pytest.raises(ValueError, match="names 'a' twice"):
        il.portfolio(kpis, comp, programs=["A", "a"], outcome="sales")
    with pytest.raises(TypeError, match="non-empty list of programme titles"):
        il.portfolio(kpis, comp, programs="A", outcome="sales")
    with pytest.raises(PanelError, match="No completion rows for program 'C'"):
        il.portfolio(kpis, comp, programs=["A", "C"], outcome="sales")
    with pytest.raises(ValueError, match="needs horizon="):
        il.portfolio(kpis, comp, programs=["A"], outcome="sales", costs={"A": 1000.0})


def test_programmes_taken_together_cannot_be_told_apart() -> None:
    kpis, comp = _tiny()
    both = comp[comp["program"] == "A"].assign(program="B")
    with pytest.raises(EstimationError, match="cannot be told apart"):
        il.portfolio(*_read(kpis, pd.concat([comp[comp["program"] == "A"], both])), programs=["A", "B"],
                     outcome="sales")


def test_few_clusters_use_student_t_and_say_so() -> None:
    kpis, comp = _tiny()
    kpis = kpis.assign(sales=kpis["sales"] + (np.arange(len(kpis)) * 7 % 5 - 2) * 0.5)  # not additive
    with pytest.warns(StatisticalWarning, match="only 6 clusters"):
        # anticipation given: left to the data, with 6 clusters the widest window (3 months) would be cut
        res = il.portfolio(*_read(kpis, comp), programs=["A", "B"], outcome="sales", anticipation=0)
    assert res.df == 5.0 and res.spec["inference"] == "Student t, 5 df"
    t = res.programs
    half = (t["ci_high"] - t["estimate"]) / t["std_error"]
    np.testing.assert_allclose(half, stats.t.ppf(0.975, 5), rtol=1e-12)
    assert (t["std_error"] > 0).all() and "Only 6 clusters" in res.notes[0]
