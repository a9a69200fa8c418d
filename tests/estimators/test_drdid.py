"""Two-period DiD (Sant'Anna & Zhao 2020): the public ``drdid`` (on a Panel) and ``drdid_frame``, and their
panel / repeated cross-section blocks.

Peers: the ``drdid`` PyPI package (a port of R DRDID) when installed (``bench`` extra), to 1e-6 — the
formulas are closed forms apart from the logit, whose convergence tolerances differ (observed gaps 1e-11).
Without it, hand-computed values and the double-robustness property are checked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError, PanelError, StatisticalWarning
from impactlab.estimators._drdid_rcs import dr_did_rcs, ipw_did_rcs, reg_did_rcs
from impactlab.estimators.drdid import dr_did_panel, drdid, drdid_frame, ipw_did_panel, reg_did_panel
from impactlab.panel import Panel

#: Peer tolerance of the issue (absolute on the ATT, on the influence function and on the SE).
TOL = 1e-6


def _data(seed: int = 3, n: int = 600) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-0.6 * x1 + 0.3 * x2))).astype(float)
    post = (rng.random(n) < 0.5).astype(float)
    y = 1 + x1 + 0.5 * x2 + 0.4 * d + post * (0.5 + 0.4 * x1) + d * post * (1 + x2) + rng.normal(size=n)
    y0 = x1 + rng.normal(size=n)
    y1 = y0 + 0.5 + 0.4 * x1 + d * (1 + x2) + rng.normal(size=n)
    return {"x": np.column_stack([np.ones(n), x1, x2]), "d": d, "post": post, "y": y, "y0": y0, "y1": y1,
            "w": rng.uniform(0.5, 2.0, n)}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", ["dr", "ipw", "reg"])
def test_matches_drdid_package(name: str, weighted: bool) -> None:
    est = pytest.importorskip("drdid._estimators", reason="drdid (bench extra) not installed")
    s = _data()
    w = s["w"] if weighted else None
    ours_rc = {"dr": dr_did_rcs, "ipw": ipw_did_rcs, "reg": reg_did_rcs}[name](
        s["y"], s["post"], s["d"], s["x"], w)
    peer_rc = {"dr": est.drdid_rc, "ipw": est.std_ipw_did_rc, "reg": est.reg_did_rc}[name](
        s["y"], s["post"], s["d"], s["x"], w)
    assert abs(ours_rc.att - peer_rc[0]) < TOL
    assert np.max(np.abs(ours_rc.influence - peer_rc[1])) < TOL
    ours_p = {"dr": dr_did_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}[name](
        s["y1"], s["y0"], s["d"], s["x"], w)
    peer_p = {"dr": est.drdid_panel, "ipw": est.std_ipw_did_panel, "reg": est.reg_did_panel}[name](
        s["y1"], s["y0"], s["d"], s["x"], w)
    assert abs(ours_p.att - peer_p[0]) < TOL
    assert np.max(np.abs(ours_p.influence - peer_p[1])) < TOL


def test_no_covariates_is_difference_of_four_means() -> None:
    s = _data()
    y, t, d = s["y"], s["post"], s["d"]
    hand = (y[(d == 1) & (t == 1)].mean() - y[(d == 1) & (t == 0)].mean()
            - y[(d == 0) & (t == 1)].mean() + y[(d == 0) & (t == 0)].mean())
    for f in (dr_did_rcs, ipw_did_rcs, reg_did_rcs):
        assert f(y, t, d).att == pytest.approx(hand, abs=1e-12)


def test_double_robustness_rcs() -> None:
    """Outcome model right, propensity score wrong (and vice versa): DR stays near the truth (1.0 on
    average over x2 ~ N(0, 1)); a large sample makes the check sharp."""
    rng = np.random.default_rng(11)
    n = 40_000
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    post = (rng.random(n) < 0.5).astype(float)
    y = 2 * x + d * 0.5 + post * (1 + x) + d * post * 1.0 + rng.normal(size=n)
    good = np.column_stack([np.ones(n), x])
    fit = dr_did_rcs(y, post, d, good)
    assert fit.att == pytest.approx(1.0, abs=0.05)
    # the naive (no covariates) estimate is biased because the trend depends on x and x differs by group
    assert abs(dr_did_rcs(y, post, d).att - 1.0) > 0.2


def _frame(panel: bool) -> pd.DataFrame:
    s = _data(5, 400)
    if panel:
        n = len(s["d"])
        return pd.DataFrame({"id": np.r_[np.arange(n), np.arange(n)], "after": np.r_[np.zeros(n), np.ones(n)],
                             "trained": np.r_[s["d"], s["d"]], "y": np.r_[s["y0"], s["y1"]],
                             "x1": np.r_[s["x"][:, 1], s["x"][:, 1]], "x2": np.r_[s["x"][:, 2], s["x"][:, 2]],
                             "w": np.r_[s["w"], s["w"]]})
    return pd.DataFrame({"after": s["post"], "trained": s["d"], "y": s["y"], "x1": s["x"][:, 1],
                         "x2": s["x"][:, 2], "w": s["w"]})


def _panel(frame: pd.DataFrame, **kw: object) -> Panel:
    """The two-period frame as a Panel: periods 0 and 1, cohort 1 (trained in period 1) or 0 (never)."""
    return Panel.from_frame(frame, unit="id", time="after", outcome="y", cohort="trained",
                            covariates=["x1", "x2", "w"], **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_public_drdid_equals_blocks(method: str) -> None:
    s = _data(5, 400)
    res = drdid(_panel(_frame(True)), covariates=["x1", "x2"], weights="w", method=method)
    block = {"dr": dr_did_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}[method](
        s["y1"], s["y0"], s["d"], s["x"], s["w"])
    assert res.estimate == pytest.approx(block.att, abs=1e-12)
    assert res.std_error == pytest.approx(block.std_error, rel=1e-12)
    assert res.method == "drdid" and res.n_units == 400 and res.n_obs == 800
    assert res.spec["periods"] == (0.0, 1.0) and not res.spec["repeated_cross_sections"]
    framed = drdid_frame(_frame(True), outcome="y", treated="trained", post="after", unit="id",
                         covariates=["x1", "x2"], weights="w", method=method)
    assert (framed.estimate, framed.std_error) == (res.estimate, res.std_error)
    rc = drdid_frame(_frame(False), outcome="y", treated="trained", post="after", covariates=["x1", "x2"],
                     method=method)
    block = {"dr": dr_did_rcs, "ipw": ipw_did_rcs, "reg": reg_did_rcs}[method](
        s["y"], s["post"], s["d"], s["x"])
    assert rc.estimate == pytest.approx(block.att, abs=1e-12)
    assert rc.std_error == pytest.approx(block.std_error, rel=1e-12)
    assert np.allclose(rc.influence, block.influence, rtol=0, atol=1e-12)  # one value per row, in row order
    assert rc.n_units == rc.n_obs == 400 and rc.spec["repeated_cross_sections"]
    # a row order shuffle changes nothing
    sh = _frame(True).sample(frac=1.0, random_state=1)
    again = drdid_frame(sh, outcome="y", treated="trained", post="after", unit="id", covariates=["x1", "x2"],
                        weights="w", method=method)
    assert again.estimate == pytest.approx(res.estimate, abs=1e-10)


def test_repeated_cross_sections_from_a_panel() -> None:
    frame = _frame(False).assign(id=np.arange(400))
    panel = Panel.from_frame(frame, unit="id", time="after", outcome="y", cohort="trained",
                             covariates=["x1", "x2"])
    res = drdid(panel, covariates=["x1", "x2"], repeated_cross_sections=True)
    s = _data(5, 400)
    assert res.estimate == pytest.approx(dr_did_rcs(s["y"], s["post"], s["d"], s["x"]).att, abs=1e-12)


def test_two_periods_chosen_among_many(staggered_frame: pd.DataFrame) -> None:
    """periods=(2, 3): cohort 3 is treated, never-treated units and cohort 5 (not treated by 3) compare;
    the 2×2 of those units on those two periods by hand."""
    df = staggered_frame
    panel = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated")
    res = drdid(panel, periods=(2, 3))
    wide = df.pivot(index="id", columns="year", values="y")
    g = df.groupby("id")["first_treated"].first()
    dy = wide[3] - wide[2]
    hand = dy[g == 3].mean() - dy[g != 3].mean()
    assert res.estimate == pytest.approx(hand, abs=1e-12)
    assert res.n_units == 60 and res.n_obs == 120 and res.spec["periods"] == (2, 3)
    with pytest.raises(EstimationError, match=r"first trained in \[3, 5\].*il\.callaway_santanna"):
        drdid(panel, periods=(2, 5))
    with pytest.raises(EstimationError, match="already trained in the earlier period.*callaway_santanna"):
        drdid(panel, periods=(3, 4))
    with pytest.raises(PanelError, match=r"the panel has 6 \(\[1, 2, 3\] \.\.\.\)\. Pass periods=\(earlier,"):
        drdid(panel)
    with pytest.raises(PanelError, match="Period 9 is not a period of the panel"):
        drdid(panel, periods=(2, 9))
    with pytest.raises(ValueError, match="earlier period first"):
        drdid(panel, periods=(3, 2))


def test_units_seen_in_one_period_are_left_out_with_a_reason() -> None:
    frame = _frame(True)
    panel = _panel(frame.iloc[1:])  # unit 0 is seen only in the later period
    with pytest.warns(StatisticalWarning, match="1 units observed in only one of the two periods"):
        res = drdid(panel)
    assert res.n_units == 399
    assert res.excluded.iloc[0].tolist() == ["unit", 0, "observed in only one of the two periods"]
    keep = frame[frame["id"] != 0]
    assert res.estimate == pytest.approx(drdid(_panel(keep)).estimate, abs=1e-12)


def test_drdid_takes_a_panel_and_says_how_to_pass_a_frame() -> None:
    with pytest.raises(PanelError, match=r"il\.drdid_frame\(df, outcome=\.\.\., treated="):
        drdid(_frame(True))  # type: ignore[arg-type]
    assert il.drdid is drdid and il.drdid_frame is drdid_frame


def test_drdid_errors_and_trimming_ledger() -> None:
    df = _frame(True)
    with pytest.raises(PanelError, match=r"\['nope'\] are not in the frame"):
        drdid_frame(df, outcome="nope", treated="trained", post="after", unit="id")
    with pytest.raises(PanelError, match="exactly once"):
        drdid_frame(df.iloc[1:], outcome="y", treated="trained", post="after", unit="id")
    bad = df.assign(trained=df["trained"] * 2)
    with pytest.raises(PanelError, match="0/1"):
        drdid_frame(bad, outcome="y", treated="trained", post="after", unit="id")
    coll = df.assign(x3=2 * df["x1"] + 1)
    with pytest.raises(EstimationError, match=r"\['x3'\]"):
        drdid_frame(coll, outcome="y", treated="trained", post="after", unit="id", covariates=["x1", "x3"],
                    method="reg")
    with pytest.raises(ValueError, match="'method' parameter"):
        drdid_frame(df, outcome="y", treated="trained", post="after", method="ols")  # type: ignore[arg-type]
    with pytest.raises(PanelError, match="'x9' is not a covariate of the panel"):
        drdid(_panel(df), covariates=["x9"])
    res = drdid_frame(df, outcome="y", treated="trained", post="after", unit="id", covariates=["x1", "x2"],
                      trim_level=0.7)
    assert res.excluded["id"].iloc[0] > 0 and "trimmed" in res.excluded["reason"].iloc[0]
    assert "trimmed" in res.notes[0]
