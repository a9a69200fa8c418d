"""simulate_org: layouts, determinism, the traps, and the raw-table rules the readers rely on."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from impactlab.datasets import Org, Truth, simulate_org

COLUMNS = {
    "roster": ["Employee ID", "Team", "Region", "Role", "Manager ID", "Hire Date", "Termination Date"],
    "completions": ["User ID", "Training Title", "Transcript Status", "Transcript Assigned Date",
                    "Transcript Completed Date", "Training Hours", "Score"],
    "assessments": ["employee_id", "program", "kind", "score", "max_score", "taken_at"],
    "surveys": ["employee_id", "program", "item", "response", "scale_min", "scale_max", "answered_at"],
    "observations": ["employee_id", "program", "behavior", "rating", "observed_at", "observer"],
    "kpis": ["employee_id", "month", "revenue", "deals"],
    "costs": ["program", "category", "amount", "currency"],
}
STATUSES = {"Completed", "In Progress", "Registered", "No Show", "Withdrawn", "Failed", "Exempt", "Cancelled"}
PHILLIPS = ["needs_assessment", "design", "delivery", "facilitators", "materials", "facilities",
            "participant_time", "travel", "evaluation", "overhead"]


@pytest.fixture(scope="module")
def org() -> Org:
    return simulate_org(n_employees=2000, n_periods=24, seed=3)


@pytest.fixture(scope="module")
def observed(org) -> pd.DataFrame:
    """Employed employee-months with the observed outcome and the cohort (Period, NaT = never)."""
    po = org.potential_outcomes
    k = po.loc[po["employed"]].copy()
    post = k["cohort"].notna() & (k["month"] >= k["cohort"])
    k["y"] = np.where(post, k["y1"], k["y0"])
    return k


def _mine(org: Org) -> pd.DataFrame:
    c = org.completions
    return c.loc[c["Training Title"] == org.program]


# ---------------------------------------------------------------- layout
def test_tables_have_the_contracted_columns(org):
    for name, cols in COLUMNS.items():
        assert list(getattr(org, name).columns) == cols, name
    assert org.program == "Consultative Selling" and org.outcome == "revenue"
    assert len(org.roster) == 2000 and org.roster["Employee ID"].is_unique
    assert org.roster["Employee ID"].str.fullmatch(r"E\d{5}").all()


def test_outcome_and_program_names_are_used():
    small = simulate_org(n_employees=150, n_periods=18, seed=1, program="Coaching 101", outcome="sales")
    assert "sales" in small.kpis.columns and "revenue" not in small.kpis.columns
    assert (small.assessments["program"] == "Coaching 101").all()
    assert small.truth.program == "Coaching 101" and small.truth.outcome == "sales"


def test_dates_and_timestamps_have_the_promised_formats(org):
    r = org.roster
    assert r["Hire Date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    term = r["Termination Date"].dropna()
    assert term.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all() and 0 < len(term) < len(r)
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
    c = org.completions
    assert c["Transcript Assigned Date"].str.fullmatch(stamp).all()
    assert c["Transcript Completed Date"].dropna().str.fullmatch(stamp).all()
    iso = [("assessments", "taken_at"), ("surveys", "answered_at"), ("observations", "observed_at")]
    for name, col in iso:
        assert getattr(org, name)[col].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}").all(), name
    assert org.kpis["month"].str.fullmatch(r"\d{4}-\d{2}").all()


def test_the_window_starts_where_asked():
    small = simulate_org(n_employees=100, n_periods=18, seed=2, start="2023-07")
    assert small.kpis["month"].min() == "2023-07" and small.kpis["month"].max() <= "2024-12"
    assert str(small.truth.by_cohort.index.min()) > "2023-10"


# ---------------------------------------------------------------- determinism
def test_same_seed_gives_identical_tables_and_truth(org):
    again = simulate_org(n_employees=2000, n_periods=24, seed=3)
    for name in COLUMNS:
        pd.testing.assert_frame_equal(getattr(org, name), getattr(again, name))
    assert again.truth.overall == org.truth.overall
    pd.testing.assert_frame_equal(again.truth.att_gt, org.truth.att_gt)


def test_a_different_seed_gives_different_data(org):
    other = simulate_org(n_employees=2000, n_periods=24, seed=4)
    assert not org.kpis["revenue"].head(100).equals(other.kpis["revenue"].head(100))
    assert other.truth.overall != org.truth.overall


# ---------------------------------------------------------------- LMS transcript rules
def test_transcript_uses_vendor_statuses_and_other_programmes(org):
    c = org.completions
    assert set(_mine(org)["Transcript Status"]) == STATUSES
    others = set(c["Training Title"]) - {org.program}
    assert others and (c["Training Title"] != org.program).sum() > 50


def test_completed_date_only_for_completed_or_failed(org):
    c = org.completions
    scored = c["Transcript Status"].isin(["Completed", "Failed"])
    assert c.loc[scored, "Transcript Completed Date"].notna().all()
    assert c.loc[~scored, "Transcript Completed Date"].isna().all()
    assert c.loc[~scored, "Score"].isna().all() and c.loc[scored, "Score"].notna().all()
    done = c.loc[scored]
    assigned = pd.to_datetime(done["Transcript Assigned Date"])
    assert (assigned < pd.to_datetime(done["Transcript Completed Date"])).all()


def test_completions_avoid_month_edges_so_time_zones_cannot_move_the_cohort(org):
    done = pd.to_datetime(_mine(org)["Transcript Completed Date"].dropna())
    assert (done.dt.day > 1).all() and (~done.dt.is_month_end).all()
    assert done.dt.hour.between(8, 17).all()


def test_exempt_employees_are_never_completed(org):
    m = _mine(org)
    exempt = set(m.loc[m["Transcript Status"] == "Exempt", "User ID"])
    completed = set(m.loc[m["Transcript Status"] == "Completed", "User ID"])
    assert len(exempt) > 20 and not exempt & completed
    cohort = org.potential_outcomes.drop_duplicates("employee_id").set_index("employee_id")["cohort"]
    assert cohort.reindex(sorted(exempt)).isna().all()


def test_retakes_fail_first_then_complete_later(org):
    m = _mine(org)
    both = m.groupby("User ID")["Transcript Status"].agg(lambda s: {"Failed", "Completed"} <= set(s))
    retakers = both.index[both]
    assert len(retakers) > 20
    rows = m.loc[m["User ID"].isin(retakers) & m["Transcript Status"].isin(["Failed", "Completed"])]
    first = rows.sort_values("Transcript Completed Date").groupby("User ID")["Transcript Status"].first()
    assert (first == "Failed").all()


def test_cohort_is_the_month_of_the_first_completed_row(org):
    m = _mine(org)
    done = m.loc[m["Transcript Status"] == "Completed"]
    first = pd.to_datetime(done["Transcript Completed Date"]).groupby(done["User ID"]).min().dt.to_period("M")
    truth_cohort = org.potential_outcomes.drop_duplicates("employee_id").set_index("employee_id")["cohort"]
    treated = truth_cohort.dropna()
    assert set(first.index) == set(treated.index)
    assert (first.reindex(treated.index) == treated).all()


def test_waves_are_staggered_with_pre_and_post_periods(org):
    sizes = org.truth.att_gt.drop_duplicates("cohort").set_index("cohort")["n_cohort"]
    big = sizes[sizes > 100]
    assert len(big) == 4                       # the four waves
    months = pd.period_range("2024-01", periods=24, freq="M")
    assert (big.index.min() - months[0]).n == 6          # six pre-periods before the first wave
    assert (months[-1] - big.index.max()).n == 8         # eight post-periods after the last


# ---------------------------------------------------------------- roster, attrition, KPIs
def test_attrition_and_hires_make_the_panel_unbalanced(org, observed):
    r = org.roster
    hired_in = (pd.to_datetime(r["Hire Date"]) >= "2024-01-01").mean()
    assert 0.1 < hired_in < 0.3
    per_unit = observed.groupby("employee_id").size()
    assert (per_unit < 24).mean() > 0.2
    # monthly attrition of 1-2 %: terminations per employee-month
    left = r["Termination Date"].notna().sum()
    assert 0.01 < left / len(observed) < 0.02


def test_kpi_rows_are_the_employed_months_plus_a_few_strays(org, observed):
    k = org.kpis
    key = set(zip(k["employee_id"], k["month"], strict=True))
    employed = set(zip(observed["employee_id"], observed["month"].astype(str), strict=True))
    assert employed <= key
    strays = key - employed
    assert 3 <= len(strays) <= 20
    r = org.roster.set_index("Employee ID")
    for emp, month in strays:          # each stray row lies outside the employment months of the roster
        p = pd.Period(month, "M")
        hire = pd.Period(r.at[emp, "Hire Date"], "M")
        term = r.at[emp, "Termination Date"]
        assert p < hire or (isinstance(term, str) and p > pd.Period(term, "M"))
    assert k.duplicated(["employee_id", "month"]).sum() == 0


def test_kpi_revenue_is_y1_after_training_and_y0_before(org, observed):
    k = org.kpis.merge(observed.assign(month=observed["month"].astype(str)), on=["employee_id", "month"])
    np.testing.assert_allclose(k["revenue"], k["y"], atol=0.006)
    assert k["revenue"].between(3_000, 30_000).mean() > 0.99
    assert np.corrcoef(k["revenue"], k["deals"])[0, 1] > 0.3


def test_never_trained_group_is_sizeable(observed):
    units = observed.drop_duplicates("employee_id")
    assert 0.30 <= units["cohort"].isna().mean() <= 0.42


# ---------------------------------------------------------------- the traps
def test_selection_trained_sold_more_before_training(observed):
    pre = observed.loc[observed["month"] < pd.Period("2024-06", "M")]
    by = pre.groupby(pre["cohort"].notna())["y"].mean()
    assert by[True] - by[False] > 700                    # the never-trained are weaker
    early, late = pd.Period("2024-07", "M"), pd.Period("2025-04", "M")
    assert pre.loc[pre["cohort"] == early, "y"].mean() > pre.loc[pre["cohort"] == late, "y"].mean() + 300


def _diff_to_never(observed: pd.DataFrame, lo: int, hi: int) -> float:
    """Mean of (trained - never-trained same month) over event times lo..hi, trained units only."""
    never = observed.loc[observed["cohort"].isna()].groupby("month")["y"].mean()
    tr = observed.loc[observed["cohort"].notna()].copy()
    tr["e"] = [(m - g).n for m, g in zip(tr["month"], tr["cohort"], strict=True)]
    sel = tr.loc[tr["e"].between(lo, hi)]
    return float((sel["y"] - never.reindex(sel["month"]).to_numpy()).mean())


def test_ashenfelter_dip_before_first_completion(org, observed):
    d = org.truth.dip_periods
    assert d == 2
    dip = _diff_to_never(observed, -2, -1) - _diff_to_never(observed, -4, -3)
    assert -1_000 < dip < -600                           # mean dip 800 a month
    back = _diff_to_never(observed, 0, 0) - _diff_to_never(observed, -4, -3)
    assert back > 0                                      # gone at g: only the (positive) effect remains


def test_effect_grows_with_time_since_training_and_differs_by_wave(org):
    e = org.truth.by_event_time
    assert e.index.min() == 0 and (e.loc[0:5].diff().dropna() > 0).all()
    assert e.loc[5] > 4 * e.loc[0]
    g = org.truth.by_cohort
    waves = org.truth.att_gt.drop_duplicates("cohort").nlargest(4, "n_cohort")["cohort"].sort_values()
    full = org.truth.att_gt.loc[org.truth.att_gt["event_time"] >= 6].groupby("cohort")["att"].mean()
    assert full[waves.iloc[0]] > full[waves.iloc[-1]] * 1.2    # earlier waves gain more, ramp aside
    assert g.notna().all()


def test_seasonality_is_common_december_peak_summer_dip(observed):
    never = observed.loc[observed["cohort"].isna()].groupby("month")["y0"].mean()
    assert never[pd.Period("2024-12", "M")] > never[pd.Period("2024-11", "M")] + 500
    assert never[pd.Period("2024-08", "M")] < never[pd.Period("2024-06", "M")] - 500


# ---------------------------------------------------------------- options
def test_effect_scale_zero_means_no_effect():
    org0 = simulate_org(n_employees=300, n_periods=18, seed=5, effect_scale=0.0)
    po = org0.potential_outcomes
    assert (po["y1"] == po["y0"]).all() and org0.truth.overall == 0.0


def test_effect_scale_scales_the_truth():
    a = simulate_org(n_employees=300, n_periods=18, seed=5)
    b = simulate_org(n_employees=300, n_periods=18, seed=5, effect_scale=2.0)
    assert b.truth.overall == pytest.approx(2 * a.truth.overall, rel=1e-4)
    pd.testing.assert_frame_equal(a.completions, b.completions)


def test_informative_attrition_makes_the_employed_gain_more():
    fair = simulate_org(seed=1)
    biased = simulate_org(seed=1, informative_attrition=True)
    assert abs(fair.truth.overall - fair.truth.overall_all) < 20
    assert biased.truth.overall - biased.truth.overall_all > 30
    assert biased.truth.informative_attrition and not fair.truth.informative_attrition


def test_fewer_periods_and_waves_still_work():
    small = simulate_org(n_employees=200, n_periods=12, seed=0, n_waves=2, dip_periods=1)
    assert len(small.truth.by_cohort) >= 2 and small.truth.dip_periods == 1


@pytest.mark.parametrize(("kwargs", "err", "match"), [
    ({"n_periods": 8}, ValueError, r"n_periods=8 is too short.*Use n_periods >= \d+"),
    ({"n_employees": 2.5}, TypeError, "'n_employees' parameter must be an integer"),
    ({"n_employees": 5}, ValueError, r"'n_employees' parameter must be an integer >= 20"),
    ({"start": "January"}, ValueError, "'start' parameter must be a month like '2024-01'"),
    ({"outcome": "deals"}, ValueError, "may not be one of"),
    ({"attrition": 1.5}, ValueError, r"'attrition' parameter must be in \[0.0, 1.0\)"),
    ({"informative_attrition": "yes"}, TypeError, "must be True or False"),
    ({"seed": -1}, ValueError, "'seed' parameter must be an integer >= 0"),
])
def test_bad_arguments_are_reported_clearly(kwargs, err, match):
    with pytest.raises(err, match=match):
        simulate_org(**kwargs)


def test_org_and_truth_are_frozen(org):
    with pytest.raises(AttributeError):
        org.program = "x"          # type: ignore[misc]
    with pytest.raises(AttributeError):
        org.truth.overall = 0.0    # type: ignore[misc]
    with pytest.raises(TypeError):
        org.spec["seed"] = 9     # type: ignore[index]
    assert isinstance(org.truth, Truth) and "true overall effect" in repr(org)


# ---------------------------------------------------------------- other Kirkpatrick tables and costs
def test_assessments_pre_before_post_and_post_higher(org):
    a = org.assessments.pivot(index="employee_id", columns="kind", values=["score", "taken_at"])
    assert (a[("score", "post")] > a[("score", "pre")]).all()
    assert (a[("taken_at", "pre")] < a[("taken_at", "post")]).all()
    assert (org.assessments["score"] <= org.assessments["max_score"]).all()


def test_surveys_and_observations_are_on_their_scales(org):
    s = org.surveys
    assert set(s["item"]) == {"recommend", "relevance", "satisfaction"}
    assert s["response"].between(s["scale_min"], s["scale_max"]).all()
    trained = org.assessments["employee_id"].nunique()
    assert 0.5 < s["employee_id"].nunique() / trained < 0.7          # not everyone responds
    o = org.observations
    assert o["rating"].between(1, 5).all() and o["observer"].str.fullmatch(r"M\d{4}").all()
    rounds = o.assign(n=o.groupby(["employee_id", "behavior"]).cumcount())
    mean_by_round = rounds.groupby("n")["rating"].mean()
    assert mean_by_round.is_monotonic_increasing and len(mean_by_round) == 4


def test_costs_cover_phillips_categories_with_participant_time_largest(org):
    c = org.costs.set_index("category")["amount"]
    assert list(c.index) == PHILLIPS and (org.costs["currency"] == "USD").all()
    assert c.idxmax() == "participant_time" and c["participant_time"] / c.sum() > 0.3
    seats = _mine(org)["Transcript Status"].isin(["Completed", "Failed"]).sum()
    assert 0.9 * 16 * 48 * seats < c["participant_time"] < 1.1 * 16 * 48 * seats
