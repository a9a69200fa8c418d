"""Panel building and Callaway–Sant'Anna sufficient statistics in SQL (DuckDB here; Spark when installed)."""

from __future__ import annotations

import shutil
import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.callaway_santanna import moments as fast
from impactlab.panel import sql

#: The engine's covar_pop and numpy's centred products round differently; 1e-10 relative is rounding only.
TOL = 1e-10


def _long(n=500, T=6, seed=5, level=5e3):
    rng = np.random.default_rng(seed)
    # raw cohorts: 0 never, 2.5 falls between periods (-> period 3), 3, 5, 9 after the last period (never)
    g = rng.choice([0, 2.5, 3, 5, 9], size=n)
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = level + rng.normal(size=n)[:, None] + 0.2 * t + 1.5 * post + rng.normal(size=(n, T))
    df = pd.DataFrame({"unit": np.repeat(np.arange(n), T), "time": np.tile(t, n), "cohort": np.repeat(g, T),
                       "outcome": y.ravel()})
    return df.drop(index=[0, 7]).reset_index(drop=True)  # units 0 and 1 miss a period: left out


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.nanmax(np.abs(a - b)) / np.nanmax(np.abs(b)))


def _check_against_callaway_santanna(con, df, control="never_treated"):
    periods = sql.fetch(con, sql.periods_query("panel"))["time"].tolist()
    frame = sql.fetch(con, sql.moments_query("panel", periods))
    cells = fast.att_gt_from_moments(fast.moments_from_frame(frame, periods), control=control)
    panel = il.Panel.from_frame(df, unit="unit", time="time", outcome="outcome", cohort="cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = il.callaway_santanna(panel, control=control)
    assert _rel(cells.att, ref.att_gt["estimate"]) < TOL
    assert _rel(cells.std_error, ref.att_gt["std_error"]) < TOL
    est, se = fast.simple_from_moments(cells)
    assert abs(est - ref.estimate) / abs(ref.estimate) < TOL
    assert abs(se - ref.std_error) / ref.std_error < TOL
    return frame


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_duckdb_moments_give_the_callaway_santanna_numbers(control):
    df = _long()
    con = duckdb.connect()
    con.register("panel", df)
    frame = _check_against_callaway_santanna(con, df, control)
    # one row per raw cohort value, the two short units left out
    assert frame["cohort"].tolist() == [0, 2.5, 3, 5, 9]
    assert frame["n"].sum() == 498


def test_panel_query_first_completion_month_is_the_cohort():
    kpis = pd.DataFrame({"employee_id": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
                         "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"] * 3),
                         "revenue": [1.0, 2.0, 3.0, 4.0, None, 6.0, 7.0, 8.0, 9.0]})
    comps = pd.DataFrame({"employee_id": ["a", "a", "b", "c"], "program": ["P", "P", "P", "Q"],
                          "status": ["passed", "completed", "failed", "completed"],
                          "completed_at": pd.to_datetime(["2024-02-20", "2024-03-02", "2024-01-05",
                                                          "2024-01-01"])})
    con = duckdb.connect()
    con.register("kpis", kpis)
    con.register("completions", comps)
    out = sql.fetch(con, sql.panel_query("kpis", "completions", program="P", outcome="revenue"))
    out = out.sort_values(["unit", "time"]).reset_index(drop=True)
    assert len(out) == 8  # b's missing February outcome is left out
    cohort = out.groupby("unit")["cohort"].first()
    assert pd.Timestamp(cohort["a"]) == pd.Timestamp("2024-02-01")  # the first completion, truncated
    assert cohort[["b", "c"]].isna().all()  # failed only; another programme


def test_literals_and_bad_input():
    assert sql.literal(3) == "3"
    assert sql.literal(pd.Timestamp("2024-05-01")) == "DATE '2024-05-01'"
    assert sql.literal("O'Neil") == "'O''Neil'"
    with pytest.raises(ValueError, match="period value"):
        sql.literal(None)
    with pytest.raises(ValueError, match="freq"):
        sql.panel_query("k", "c", program="P", outcome="y", freq="fortnight")
    with pytest.raises(TypeError, match="DuckDB connection .* or a pyspark"):
        sql.fetch(object(), "select 1")


def _spark():
    pytest.importorskip("pyspark", reason="the spark extra is not installed (pip install 'impactlab[spark]')")
    if shutil.which("java") is None:
        pytest.skip("pyspark needs a Java runtime; none on PATH")
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[1]").appName("impactlab-test")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())


@pytest.mark.slow
def test_the_same_sql_runs_unchanged_on_spark():
    spark = _spark()
    try:
        df = _long(n=200)
        spark.createDataFrame(df).createOrReplaceTempView("panel")
        _check_against_callaway_santanna(spark, df)
        kpis = pd.DataFrame({"employee_id": ["a", "a", "b"], "period": pd.to_datetime(["2024-01-01",
                             "2024-02-01", "2024-01-01"]).date, "revenue": [1.0, 2.0, 3.0]})
        comps = pd.DataFrame({"employee_id": ["a"], "program": ["P"], "status": ["completed"],
                              "completed_at": pd.to_datetime(["2024-02-11"])})
        spark.createDataFrame(kpis).createOrReplaceTempView("kpis")
        spark.createDataFrame(comps).createOrReplaceTempView("completions")
        out = sql.fetch(spark, sql.panel_query("kpis", "completions", program="P", outcome="revenue"))
        assert sorted(out["cohort"].dropna().astype(str).unique()) == ["2024-02-01"]
    finally:
        spark.stop()
