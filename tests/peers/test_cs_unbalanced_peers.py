"""Callaway–Sant'Anna on an unbalanced panel against csdid (a port of R did) and diff-diff.

No R reference output covers ``allow_unbalanced_panel=TRUE``; csdid implements R did's rule (repeated
cross-section estimators, influence functions summed by unit), so it stands in for it here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il


def _unbalanced(n: int = 3000, T: int = 8, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.choice([0, 3, 5, 6], size=n, p=[0.4, 0.2, 0.2, 0.2])
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (rng.normal(size=n)[:, None] + x[:, None] * t / T + 0.2 * t + post * (1 + 0.2 * (t - g[:, None]))
         + rng.normal(size=(n, T)))
    df = pd.DataFrame({"id": np.repeat(np.arange(1, n + 1), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "x": np.repeat(x, T)})
    return df[rng.random(len(df)) >= 0.12].reset_index(drop=True)  # gaps, late entries, early exits


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("covariates", [False, True])
def test_unbalanced_att_gt_equal_csdid(control: str, covariates: bool) -> None:
    att_gt = pytest.importorskip("csdid.att_gt", reason="csdid (impactlab[bench]) is not installed")
    df = _unbalanced()
    covs = ["x"] if covariates else None
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=covs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = il.callaway_santanna(panel, allow_unbalanced=True, control=control, covariates=covs)
        peer = att_gt.ATTgt(yname="y", tname="t", idname="id", gname="g", data=df,
                            control_group=["nevertreated" if control == "never_treated" else "notyettreated"],
                            xformla="y ~ x" if covariates else None, allow_unbalanced_panel=True)
        peer.fit(est_method="dr", bstrap=False)
    r = peer.results
    theirs = pd.DataFrame({"cohort": np.asarray(r["group"], float), "time": np.asarray(r["year"], float),
                           "att": np.asarray(r["att"], float), "se": np.asarray(r["se"], float)})
    ours = mine.att_gt.assign(cohort=lambda d: d["cohort"].astype(float),
                              time=lambda d: d["time"].astype(float))
    both = ours.merge(theirs, on=["cohort", "time"], validate="one_to_one")
    assert len(both) == len(theirs) == len(ours) > 10
    assert _rel(both["estimate"].to_numpy(), both["att"].to_numpy()) < 1e-8
    assert _rel(both["std_error"].to_numpy(), both["se"].to_numpy()) < 1e-8


def test_unbalanced_equals_diff_diff_up_to_its_survey_factor() -> None:
    dd = pytest.importorskip("diff_diff", reason="diff-diff (impactlab[bench]) is not installed")
    df = _unbalanced(seed=12)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine = il.callaway_santanna(panel, allow_unbalanced=True)
        peer = dd.CallawaySantAnna(estimation_method="dr", control_group="never_treated",
                                   allow_unbalanced_panel=True).fit(df, outcome="y", unit="id", time="t",
                                                                    first_treat="g")
    n = df["id"].nunique()
    # diff-diff clusters by unit through its survey variance, which carries n / (n - 1) (benchmarks/README)
    factor = np.sqrt(n / (n - 1))
    theirs = {(float(g), float(t)): (v["effect"], v["se"]) for (g, t), v in peer.group_time_effects.items()}
    att = mine.att_gt
    est = np.array([theirs[(float(g), float(t))][0] for g, t in zip(att["cohort"], att["time"], strict=True)])
    se = np.array([theirs[(float(g), float(t))][1] for g, t in zip(att["cohort"], att["time"], strict=True)])
    assert _rel(att["estimate"].to_numpy(), est) < 1e-8
    assert _rel(att["std_error"].to_numpy() * factor, se) < 1e-8
