"""impactlab against numbers printed in other packages' documentation: fixest's ``sunab`` example, the
Goodman-Bacon decompositions of bacondecomp's README and vignette, R ``did``'s README and vignette on mpdta,
and the synthetic difference-in-differences paper's California Proposition 99 estimates.

Each row of ``printed.csv`` is one printed number; the test computes impactlab's on the same data (in
``data/``) and compares. Where each number and each data set come from: ``README.md`` beside this file.
A missing file fails; nothing is skipped.

Rules (the ``rule`` column):

* ``digits``: equal to the printed digits, i.e. within half a unit of the last printed decimal.
* ``rel:x``: within a relative difference ``x``. ``rel:1e-12`` for a number printed to 16 significant
  digits; ``rel:0.15`` for R ``did``'s printed standard errors, which come from its multiplier bootstrap
  (1,000 unseeded draws; the same cell printed by two runs differs by 4 %) while impactlab's are analytic.

``python tests/published/test_published_references.py`` prints the rows of the table in
docs/validation.md.
"""

from __future__ import annotations

import functools
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import impactlab as il

HERE = Path(__file__).parent
DATA = HERE / "data"
PRINTED = pd.read_csv(HERE / "printed.csv", dtype={"printed": str})


def _panel(name: str, **kw: str) -> il.Panel:
    frame = pd.read_csv(DATA / f"{name}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return il.Panel.from_frame(frame, **kw)


# ------------------------------------------------------------------------------ impactlab's numbers per case
@functools.cache
def fixest_sunab() -> dict[tuple[str, str], float]:
    """``feols(y ~ x1 + sunab(year_treated, year) | id + year, base_stagg)``, clustered by id (fixest's
    default); never-treated units have ``year_treated = 10000``."""
    frame = pd.read_csv(DATA / "base_stagg.csv")
    frame["cohort"] = frame["year_treated"].where(frame["year_treated"] <= frame["year"].max(), 0)
    panel = il.Panel.from_frame(frame, unit="id", time="year", outcome="y", cohort="cohort",
                                covariates=["x1"])
    res = il.sun_abraham(panel, covariates=["x1"])
    fixed = il.sun_abraham(panel, covariates=["x1"], share_variance=False)
    out = {("att", "ATT"): res.estimate, ("att_se_fixed_shares", "ATT"): fixed.std_error}
    for _, r in res.cells.iterrows():
        key = f"cohort={int(r['cohort'])} event_time={int(r['event_time'])}"
        out[("cell", key)], out[("cell_se", key)] = r["estimate"], r["std_error"]
    return out


def _bacon(panel: il.Panel) -> dict[tuple[str, str], float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few clusters: the TWFE standard error is not compared
        res = il.bacon_decomposition(panel)
    out = {("twfe", "post"): res.estimate}
    for _, r in res.by_type().iterrows():
        out[("type_weight", r["type"])], out[("type_estimate", r["type"])] = r["weight"], r["estimate"]
    for _, r in res.comparisons.iterrows():
        key = f"treated={r['treated']} control={r['control']} type={r['type']}"
        out[("two_by_two", key)], out[("two_by_two_weight", key)] = r["estimate"], r["weight"]
    return out


@functools.cache
def bacon_math_reform() -> dict[tuple[str, str], float]:
    """``bacon(incearn_ln ~ reform_math, math_reform, id_var = "state", time_var = "class")``."""
    return _bacon(_panel("math_reform", unit="state", time="class", outcome="incearn_ln",
                         cohort="reformyr_math"))


@functools.cache
def bacon_castle() -> dict[tuple[str, str], float]:
    """``bacon(l_homicide ~ post, castle, id_var = "state", time_var = "year")``; the cohort is the first
    year with ``post = 1`` (no state leaves the treatment)."""
    frame = pd.read_csv(DATA / "castle.csv")
    first = frame[frame["post"] == 1].groupby("state")["year"].min()
    frame["cohort"] = frame["state"].map(first).fillna(0).astype("int64")
    panel = il.Panel.from_frame(frame, unit="state", time="year", outcome="l_homicide", cohort="cohort")
    return _bacon(panel)


def _did(method: str) -> dict[tuple[str, str], float]:
    panel = _panel("mpdta", unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    cs = il.callaway_santanna(panel, control="never_treated", method=method)
    out: dict[tuple[str, str], float] = {("pretest_p_value", "all"): cs.pretest.p_value}
    for _, r in cs.att_gt.iterrows():
        key = f"cohort={int(r['cohort'])} time={int(r['time'])}"
        out[("att_gt", key)], out[("att_gt_se", key)] = r["estimate"], r["std_error"]
    for name, agg, column in (("dynamic", cs.aggregate("dynamic"), "event_time"),
                              ("dynamic_balanced", cs.aggregate("dynamic", balance_e=1), "event_time"),
                              ("group", cs.aggregate("group"), "cohort")):
        out[(name, "overall")], out[(f"{name}_se", "overall")] = agg.estimate, agg.std_error
        for _, r in agg.elements.iterrows():
            key = f"{column}={int(r[column])}"
            out[(name, key)], out[(f"{name}_se", key)] = r["estimate"], r["std_error"]
    return out


@functools.cache
def did_readme() -> dict[tuple[str, str], float]:
    """``att_gt(yname = "lemp", gname = "first.treat", idname = "countyreal", tname = "year", xformla = ~1,
    data = mpdta, est_method = "reg")``, then ``aggte`` dynamic and group."""
    return _did("reg")


@functools.cache
def did_vignette() -> dict[tuple[str, str], float]:
    """The same with the default ``est_method = "dr"``; ``aggte`` dynamic, also with ``balance_e = 1``."""
    return _did("dr")


@functools.cache
def synthdid_prop99() -> dict[tuple[str, str], float]:
    """R ``synthdid``'s ``california_prop99`` (California treated from 1989): ``synthdid_estimate``,
    ``sc_estimate`` and ``did_estimate`` (plain difference-in-differences, the two-way fixed-effects
    coefficient of a block design). The estimates do not depend on the variance draws."""
    frame = pd.read_csv(DATA / "california_prop99.csv", sep=";")
    frame["cohort"] = frame["State"].map(frame[frame["treated"] == 1].groupby("State")["Year"].min())
    panel = il.Panel.from_frame(frame.fillna({"cohort": 0}), unit="State", time="Year",
                                outcome="PacksPerCapita", cohort="cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        did = il.twfe(panel).estimate
    return {("sdid", "ATT"): il.synthetic_did(panel, n_draws=2).estimate,
            ("sc", "ATT"): il.synthetic_control(panel, n_draws=2).estimate, ("did", "ATT"): did}


CASES = {"fixest_sunab": fixest_sunab, "bacon_math_reform": bacon_math_reform, "bacon_castle": bacon_castle,
         "did_readme": did_readme, "did_vignette": did_vignette,
         "synthdid_prop99": synthdid_prop99}


# ------------------------------------------------------------------------------ the comparison
def tolerance(printed: str, rule: str) -> float:
    """The largest difference the rule allows for this printed number."""
    if rule == "digits":
        decimals = -Decimal(printed).as_tuple().exponent
        return 0.5 * 10.0 ** -int(decimals) * (1 + 1e-9)
    if rule.startswith("rel:"):
        return float(rule[4:]) * abs(float(printed))
    raise ValueError(f"printed.csv: unknown rule {rule!r}")


def ours(case: str, quantity: str, key: str) -> float:
    values = CASES[case]()
    if (quantity, key) not in values:
        raise KeyError(f"impactlab has no {quantity} {key!r} in case {case}; present: "
                       f"{sorted(k for q, k in values if q == quantity)}")
    return float(values[(quantity, key)])


def test_every_case_has_its_data_and_provenance():
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    for name in ("base_stagg", "math_reform", "castle", "mpdta", "california_prop99"):
        assert (DATA / f"{name}.csv").is_file()
        assert f"`data/{name}.csv`" in readme
    assert set(PRINTED["case"]) == set(CASES)
    for case in CASES:
        assert f"`{case}`" in readme, f"README.md gives no provenance for {case}"


@pytest.mark.parametrize("row", list(PRINTED.itertuples(index=False)),
                         ids=[f"{r.case}-{r.quantity}-{r.key}" for r in PRINTED.itertuples(index=False)])
def test_equal_to_the_printed_number(row):
    value = ours(row.case, row.quantity, row.key)
    tol = tolerance(row.printed, row.rule)
    assert abs(value - float(row.printed)) <= tol, (
        f"{row.case} {row.quantity} {row.key}: impactlab {value:.10g}, printed {row.printed} "
        f"(rule {row.rule}: at most {tol:.3g} apart)")


def test_sun_abraham_headline_is_fixest_att_not_the_mean_of_event_times():
    # the numbers: the mean of the post-training event-time effects is +0.81, fixest's ATT -1.13
    frame = pd.read_csv(DATA / "base_stagg.csv")
    frame["cohort"] = frame["year_treated"].where(frame["year_treated"] <= frame["year"].max(), 0)
    panel = il.Panel.from_frame(frame, unit="id", time="year", outcome="y", cohort="cohort",
                                covariates=["x1"])
    for res in (il.sun_abraham(panel, covariates=["x1"]),
                il.event_study(panel, window=(-9, 8), method="sun_abraham", covariates=["x1"])):
        assert res.term == "ATT" and round(res.estimate, 6) == -1.133749
        assert round(res.event_time_mean.estimate, 2) == 0.81
        assert "fixest's ATT" in res.explain().headline
        assert res.tidy().iloc[0]["estimate"] == res.estimate


def table_rows() -> list[str]:
    """Markdown rows "source | quantity | published | impactlab | difference" for docs/validation.md."""
    rows = []
    for r in PRINTED.itertuples(index=False):
        value = ours(r.case, r.quantity, r.key)
        rows.append(f"| `{r.case}` | {r.quantity} {r.key} | {r.printed} | {value:.7g} | "
                    f"{value - float(r.printed):+.2g} |")
    return rows


if __name__ == "__main__":
    print("\n".join(table_rows()))
