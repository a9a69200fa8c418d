"""The comparison rules of the benchmark report: bootstrap vs analytic standard errors, explained
differences of estimator, and the Sun–Abraham aggregation the peers report."""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import report  # noqa: E402
import worker  # noqa: E402
from workloads import WORKLOADS, make_panel  # noqa: E402


@pytest.mark.parametrize("method", ["sd", "iqr"])
def test_monte_carlo_sd_of_a_bootstrap_standard_error_matches_simulation(method):
    # 4000 bootstraps of 999 standard normal draws: the spread of the standard-error estimates
    rng = np.random.default_rng(7)
    draws = rng.standard_normal((4000, 999))
    if method == "sd":
        se = draws.std(axis=1, ddof=1)
    else:
        q75, q25 = np.quantile(draws, [0.75, 0.25], axis=1)
        se = (q75 - q25) / (2 * 0.6744897501960817)
    assert report.mc_sd(method, 999) == pytest.approx(se.std(), rel=0.05)
    assert report.mc_sd("sd", 999) == pytest.approx(1 / math.sqrt(2 * 998))
    assert report.mc_sd("iqr", 999) == pytest.approx(1.1664 / math.sqrt(999), rel=1e-4)


def test_bootstrap_check_in_monte_carlo_units():
    boot = {"att_gt": [[2, 2, 1.0, 0.11], [2, 3, 2.0, 0.19], [3, 3, 9.0, float("nan")]],
            "overall": [1.5, 0.1]}
    analytic = {"att_gt": [[2, 3, 2.0, 0.2], [2, 2, 1.0, 0.1], [3, 3, 9.0, 0.3]], "overall": [1.5, 0.1]}
    got = report.bootstrap_check(boot, analytic, "sd", 51)
    assert got["n"] == 3  # the NaN cell is left out
    assert got["max_rel"] == pytest.approx(0.1)  # 0.11 / 0.1 - 1
    assert got["mc_sd"] == pytest.approx(0.1) and got["max_z"] == pytest.approx(1.0)


def _rec(workload, tool, estimates):
    return SimpleNamespace(workload=workload, tool=tool, status="ok", seconds=1.0, wall=2.0, peak_mb=100.0,
                           error="", estimates=estimates)


def test_table_marks_explained_differences_views_and_bootstrap():
    wl = {w.name: w for w in WORKLOADS}
    chosen = [wl[k] for k in ("cs_nocov_small", "cs_cov_small", "cs_boot_small", "sun_abraham_large")]
    env = {"sizes": {"small": [100, 5], "large": [200, 5]}}
    cell = [[2, 2, 1.0, 0.1]]
    sa = {"dynamic": [[0, 1.0, 0.10]], "overall": [1.0, 0.10],
          "known_shares": {"dynamic": [[0, 1.0, 0.09]], "overall": [0.9, 0.09]}}
    recs = [
        _rec("cs_nocov_small", "impactlab", {"att_gt": cell, "overall": [1.0, 0.1]}),
        _rec("cs_nocov_small", "csdid", {"att_gt": cell, "overall": [1.0, 0.1]}),
        _rec("cs_cov_small", "impactlab", {"att_gt": cell, "overall": [1.0, 0.1]}),
        _rec("cs_cov_small", "diff-diff", {"att_gt": [[2, 2, 1.0 + 4e-7, 0.1]], "overall": [1.0, 0.1]}),
        _rec("cs_cov_small", "csdid", {"att_gt": [[2, 2, 1.0 + 4e-7, 0.1]], "overall": [1.0, 0.1]}),
        _rec("cs_boot_small", "impactlab", {"att_gt": [[2, 2, 1.0, 0.102]], "overall": [1.0, 0.1]}),
        _rec("cs_boot_small", "csdid", {"att_gt": [[2, 2, 1.0, 0.2]], "overall": [1.0, 0.1]}),
        _rec("sun_abraham_large", "impactlab", sa),
        _rec("sun_abraham_large", "pyfixest", {"dynamic": [[0, 1.0, 0.09]]}),
        _rec("sun_abraham_large", "diff-diff", {"dynamic": [[0, 1.0, 0.09]], "overall": [0.9, 0.09]}),
    ]
    text, checks = report.table(recs, env, chosen)
    rows = {(r.split(" | ")[0].lstrip("| "), r.split(" | ")[2]): r for r in text.splitlines() if " | " in r}
    assert "4e-07 †" in rows["CS DR, covariates x1 x2", "diff-diff"]  # a different estimator, documented
    assert "✗" not in rows["CS DR, covariates x1 x2", "diff-diff"]
    assert "4e-07 ✗" in rows["CS DR, covariates x1 x2", "csdid"]  # the same estimator: a real gap
    assert "† CS DR, covariates x1 x2 100 × 5, diff-diff:" in text
    boot_il = rows["CS DR + multiplier bootstrap, 999 draws", "impactlab"]
    assert "z 0.5 |" in boot_il  # 2 % off the analytic 0.1, Monte Carlo sd 3.7 %
    assert "z 27.1 ✗" in rows["CS DR + multiplier bootstrap, 999 draws", "csdid"]  # twice the analytic SE
    for peer in ("pyfixest", "diff-diff"):  # compared with the known-shares view: they agree exactly
        row = rows["Sun–Abraham event study", peer]
        assert "vs impactlab's `known_shares`" in row and "✗" not in row
    assert checks[-1].endswith("5 comparisons agree, 1 differ by a documented difference of estimator (†), "
                               "2 unexplained (✗)")


def test_known_shares_view_is_impactlabs_fixed_share_aggregation():
    import impactlab as il

    df = make_panel(600, 6)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = il.sun_abraham(panel)
        fixed = il.sun_abraham(panel, share_variance=False)
    view = worker._known_shares(full)
    got = np.array(view["dynamic"])
    want = fixed.elements[["event_time", "estimate", "std_error"]].to_numpy(dtype="float64")
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # diff-diff's overall effect: post cells weighted by their treated observations, here by hand
    cells = full.cells
    post = cells[cells["event_time"] >= 0]
    c = post["n_obs"].to_numpy(dtype="float64") / post["n_obs"].sum()
    assert view["overall"][0] == pytest.approx(float(c @ post["estimate"].to_numpy()), rel=1e-13)
    assert not np.allclose(got[:, 2], full.elements["std_error"].to_numpy(), rtol=1e-8)  # shares do vary


def test_the_pilot_and_ddd_designs_and_their_adapters_agree_with_diff_diff():
    # the issue-17 workloads at a small size: the designs are what their docstrings say, impactlab recovers
    # their effects, and each adapter pair reports the same numbers (same placebo permutations: same SE)
    pytest.importorskip("diff_diff")
    from workloads import PILOT_START, make_ddd_panel, make_pilot_panel

    pilot = make_pilot_panel(500, 10)
    per_unit = pilot.drop_duplicates("id")
    assert per_unit["team"].nunique() == 10 and (per_unit.groupby("team")["g"].nunique() == 1).all()
    assert sorted(per_unit["g"].unique()) == [0, PILOT_START] and (per_unit["g"] > 0).sum() == 100
    ddd = make_ddd_panel(2000, 10)
    cases = [(pilot, "synthetic_did_teams", worker._il_synthetic, worker._dd_synthetic_did, 1.0),
             # the effect on the trained is 2; the regional shock of 3 is differenced out
             (ddd, "triple_difference", worker._il_triple_difference, worker._dd_triple_difference, 2.0)]
    for frame, task, mine, peer, effect in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, theirs = mine(frame, [], task, 20), peer(frame, [], task, 20)
        np.testing.assert_allclose(ours["overall"], theirs["overall"], rtol=1e-8)
        est, se = ours["overall"]
        assert abs(est - effect) < 4 * se, task
