"""docs/scaling.md's SQL route, run as the page writes it: the DuckDB block always, the Spark block only when
pyspark and a Java runtime are installed (it starts a local Spark session). Both must give the estimate that
callaway_santanna gives on the same stand-in tables, so the page's "both print the same" holds."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"
#: Moments and the per-unit fit are the same arithmetic in another order: equal to rounding.
TOL = 1e-8


def _blocks() -> tuple[str, str]:
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## Past one machine"):text.index("## Limits of the route")]
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.M | re.S)
    duck = [b for b in blocks if "duckdb.connect()" in b]
    spark = [b for b in blocks if "SparkSession" in b]
    assert len(duck) == 1 and len(spark) == 1, "the section holds one DuckDB and one Spark block"
    return duck[0], spark[0]


def _run(code: str, namespace: dict) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "scaling.md", "exec"), namespace)  # noqa: S102
    return buf.getvalue()


def _reference(namespace: dict) -> tuple[float, float]:
    """callaway_santanna on the balanced employees of the same stand-in tables (no SQL involved)."""
    import impactlab as il

    kpis, comps = namespace["kpis"], namespace["completions"]
    first = comps.groupby("employee_id")["completed_at"].min().dt.to_period("M").dt.to_timestamp()
    df = kpis.assign(cohort=kpis["employee_id"].map(first))
    df["cohort"] = df["cohort"].map(lambda t: 0 if t != t else (t.year - 2024) * 12 + t.month)
    df["time"] = (df["period"].dt.year - 2024) * 12 + df["period"].dt.month
    panel = il.Panel.from_frame(df, unit="employee_id", time="time", outcome="revenue", cohort="cohort")
    res = il.callaway_santanna(panel, control="not_yet_treated").aggregate("simple")
    return res.estimate, res.std_error


def test_the_duckdb_block_runs_as_written_and_gives_callaway_santannas_estimate() -> None:
    pytest.importorskip("duckdb")
    duck, _ = _blocks()
    assert "CREATE TEMPORARY VIEW panel AS" in duck
    ns: dict = {}
    printed = _run(duck, ns)
    est, se = _reference(ns)
    assert ns["overall"] == pytest.approx(est, rel=TOL) and ns["se"] == pytest.approx(se, rel=TOL)
    assert printed.strip() == f"{est:.3f} (SE {se:.3f})"


@pytest.mark.slow
def test_the_spark_block_runs_as_written_and_prints_what_duckdb_prints() -> None:
    """Runs only when pyspark and Java are present (slow: it starts a local Spark session)."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed (pip install 'impactlab[spark]')")
    if shutil.which("java") is None:
        pytest.skip("pyspark needs a Java runtime; none on PATH")
    duck, spark_block = _blocks()
    assert "CREATE OR REPLACE TEMPORARY VIEW panel AS" in spark_block
    assert "replace('\"', \"`\")" in spark_block  # back-quoted names for Spark SQL
    ns: dict = {}
    from_duck = _run(duck, ns)
    try:
        from_spark = _run(spark_block, ns)
    finally:
        if "spark" in ns:
            ns["spark"].stop()
    assert from_spark == from_duck
    assert ns["overall_spark"] == pytest.approx(ns["overall"], rel=TOL)
    assert ns["se_spark"] == pytest.approx(ns["se"], rel=TOL)
