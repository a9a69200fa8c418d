"""plot.portfolio: programmes ranked by effect, each interval drawn where the result puts it, the adjusted
interval apart from the unadjusted one, zero line, unit on the axis, ROI beside each."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from scipy import stats  # noqa: E402

import impactlab as il  # noqa: E402
from impactlab.plot.programs import UNCLEAR, ranked  # noqa: E402
from impactlab.plot.theme import COLORS  # noqa: E402
from impactlab.programs.result import PROGRAM_COLUMNS, PortfolioResult  # noqa: E402

#: Three independent programmes: the sup-t critical value is then Sidak's, Phi^-1((1 + 0.95^(1/3)) / 2)
#: = 2.3877; the result draws it by Monte Carlo (200,000 seeded draws), so it agrees to about 0.01.
SIDAK_3 = float(stats.norm.ppf((1 + 0.95 ** (1 / 3)) / 2))
MC_TOL = 0.01


def _result(roi: bool = True) -> PortfolioResult:
    """Given in the order A (null), B (largest, clear), C (clearly negative): ranked B, A, C."""
    est = np.array([40.0, 500.0, -300.0])
    se = np.array([60.0, 100.0, 50.0])
    z = stats.norm.ppf(0.975)
    p = 2 * stats.norm.sf(np.abs(est / se))
    table = pd.DataFrame({
        "program": ["A: Time Management", "B: Consultative Selling", "C: Cold Calling"], "estimate": est,
        "std_error": se, "ci_low": est - z * se, "ci_high": est + z * se, "p_value": p,
        "p_adjusted": np.minimum(1, p * 3), "ci_low_simultaneous": est - SIDAK_3 * se,
        "ci_high_simultaneous": est + SIDAK_3 * se, "n_trained": [100, 200, 50], "n_also_other": [10, 20, 5],
        "roi": [-80.0, 41.5, -150.0] if roi else [np.nan] * 3,
        "roi_low": [-120.0, 10.3, -170.0] if roi else [np.nan] * 3,
        "roi_high": [-40.0, 72.6, -130.0] if roi else [np.nan] * 3})[list(PROGRAM_COLUMNS)]
    cells = pd.DataFrame(columns=["program", "cohort", "event_time", "estimate", "n_obs"])
    return PortfolioResult(programs=table, results={}, element_vcov=np.diag(se ** 2), cells=cells,
                           outcome="revenue", spec={"freq": "M", "seed": 0})


def _lines(ax, gid):
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def test_programmes_ranked_with_both_intervals_drawn() -> None:
    res = _result()
    ax = il.plot.portfolio(res, currency="USD")
    try:
        # largest effect at the top: tick labels from the top down are B, A, C
        ticks = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True),
                       reverse=True)
        assert [label.split(":")[0] for _, label in ticks] == ["B", "A", "C"]
        assert res.ranking[0].startswith("B")
        # each bar ends where the interval does: estimate +- 1.96 SE alone, +- about 2.39 SE all at once
        z = stats.norm.ppf(0.975)
        order = [1, 0, 2]
        est, se = res.programs["estimate"].to_numpy()[order], res.programs["std_error"].to_numpy()[order]
        alone, at_once = _lines(ax, "alone"), _lines(ax, "simultaneous")
        assert len(alone) == len(at_once) == 3
        for k in range(3):
            np.testing.assert_allclose(alone[k].get_xdata(), [est[k] - z * se[k], est[k] + z * se[k]],
                                       rtol=1e-12)
            c = (np.asarray(at_once[k].get_xdata()) - est[k]) / se[k]
            np.testing.assert_allclose(c, [-SIDAK_3, SIDAK_3], atol=MC_TOL)
            assert at_once[k].get_linewidth() > alone[k].get_linewidth()  # the adjusted bar: wide and pale
            assert at_once[k].get_alpha() < 1 and alone[k].get_alpha() in (None, 1)
            dot = _lines(ax, "estimate")[k]
            assert dot.get_xdata()[0] == est[k] and dot.get_ydata()[0] == alone[k].get_ydata()[0]
        # colour: B clearly up (blue), A crosses zero on its adjusted bar (grey), C clearly down (vermillion)
        assert [to_hex(line.get_color()) for line in alone] == [
            COLORS["causal"].lower(), UNCLEAR.lower(), COLORS["loss"].lower()]
        # A's own interval (40 +- 118) crosses zero; so does its adjusted one: grey, "no clear effect"
        zero = _lines(ax, "zero")
        assert len(zero) == 1 and list(zero[0].get_xdata()) == [0, 0]
        assert ax.get_xlim()[0] < min(est - SIDAK_3 * se) and ax.get_xlim()[1] > max(est + SIDAK_3 * se)
    finally:
        plt.close("all")


def test_labels_units_roi_and_title() -> None:
    ax = il.plot.portfolio(_result(), currency="USD")
    try:
        assert ax.get_xlabel() == "Effect on revenue (USD per employee per month)"
        labels = [t.get_text() for t in ax.texts if t.get_gid() == "label"]
        assert labels == ["+500", "ROI 42% (10% to 73%)", "+40.0, no clear effect",
                          "ROI -80% (-120% to -40%)", "-300", "ROI -150% (-170% to -130%)"]
        title = ax.get_title(loc="left").replace("\n", " ")
        assert title == ("1 of 3 programmes clearly raised revenue, 1 lowered it; largest effect: B: "
                         "Consultative Selling, +500 per employee per month")
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["95% interval, this programme alone", "95% interval, all 3 programmes at once"]
        foot = ax.figure.texts[-1].get_text().replace("\n", " ")
        assert "adjusted for comparing them" in foot and "fully-loaded costs" in foot
        assert "blue: raised, vermillion: lowered, grey: no effect distinguishable from zero." in foot
    finally:
        plt.close("all")


def test_without_costs_no_roi_and_other_level() -> None:
    res = _result(roi=False)
    fig, ax = plt.subplots()
    try:
        assert il.plot.portfolio(res, ax=ax, level=0.90, title="Mine") is ax
        assert not any("ROI" in t.get_text() for t in ax.texts)
        frame = ranked(res, 0.90)
        z = stats.norm.ppf(0.95)
        np.testing.assert_allclose(frame["conf_high"] - frame["estimate"], z * frame["program"].map(
            res.programs.set_index("program")["std_error"]), rtol=1e-12)
        assert ax.get_title(loc="left") == "Mine"
        assert ax.get_legend().get_texts()[0].get_text() == "90% interval, this programme alone"
        # at 90 % A's adjusted interval still crosses zero; the verdicts follow the adjusted intervals
        assert list(frame["verdict"]) == ["positive", "unclear", "negative"]
    finally:
        plt.close("all")


def test_none_distinguishable_title_and_refusals() -> None:
    res = _result()
    table = res.programs.assign(estimate=[10.0, 20.0, -15.0])
    table["ci_low_simultaneous"] = table["estimate"] - SIDAK_3 * table["std_error"]
    table["ci_high_simultaneous"] = table["estimate"] + SIDAK_3 * table["std_error"]
    flat = PortfolioResult(programs=table, results={}, element_vcov=res.element_vcov, cells=res.cells,
                           outcome="revenue", spec=res.spec)
    ax = il.plot.portfolio(flat)
    try:
        assert ax.get_title(loc="left").replace("\n", " ") == (
            "None of the 3 programmes shows an effect on revenue distinguishable from zero once all are "
            "compared")
        assert ax.get_xlabel() == "Effect on revenue (per employee per month)"
    finally:
        plt.close("all")
    with pytest.raises(TypeError, match="impactlab.portfolio"):
        il.plot.portfolio(object())
