"""Validation of :func:`impactlab.dose_response` on unbalanced panels with a known truth.

Each simulated organisation: ``n`` employees over 8 periods; a third never trained, the others drawn at random
into the cohorts trained in periods 3 and 5 (so the cohort shares are a sample too); each trained employee's
hours uniform on 1..5. The effect of ``d`` hours ``e`` periods after training is ``tau(d) (1 + e / 2)`` with
``tau(d) = (1 + d^2) / 2``, so over the two cohorts (cohort 3 observed for e = 0..5, cohort 5 for e = 0..3):

* ATT(d) = 1 + d^2 and ACRT(d) = 2 d (the cohorts' average factor of ``tau`` is (2.25 + 1.75) / 2 = 2);
* ATT^o = 2 E[tau(D)] = 1 + E[D^2] = 1 + 31 / 3 and ACRT^o = 2 E[D] = 6, over the population of doses.

Outcomes have unit and period effects (the unit effect rises with the dose: levels may differ by dose, trends
may not) and noise of standard deviation ``noise``. Attrition: a quarter of the employees are hires, first
observed in a period drawn from 2..6; leavers (12 % of those with a unit effect above the median, 40 % below:
leaving is related to the level of the outcome, not to its change nor to the dose) are last observed in a
period drawn from 3..7. About half the employees miss some period.

For each organisation: the default fit (every employee observed in a comparison's two periods; variance with
the doses and cohort shares drawn), the same estimates with diff-diff's variance (``dose_variance=False,
share_variance=False``), and the balanced subset (``allow_unbalanced=False``); the 95 % intervals of ATT^o and
ACRT^o against the truth, and (with ``--draws``) whether the uniform 95 % bands hold the whole true curves.

    .venv/bin/python tests/validation/dose_response_study.py --seeds 200 --noise 0.5
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import impactlab as il

PERIODS = 8
COHORTS = (3, 5)
ATT_O = 1 + 31 / 3
ACRT_O = 6.0


def simulate(seed: int, n: int = 600, noise: float = 0.5) -> pd.DataFrame:
    """One organisation (see the module docstring): columns id, t, y, g, hours; rows of unobserved periods
    are absent."""
    rng = np.random.default_rng(seed)
    g = rng.choice(np.array([0, *COHORTS]), size=n)
    d = np.where(g > 0, rng.uniform(1, 5, n), 0.0)
    level = rng.normal(0, 2, n)
    fe = level + 0.3 * d
    first = np.where(rng.uniform(size=n) < 0.25, rng.integers(2, 7, n), 1)
    leaves = rng.uniform(size=n) < np.where(level < np.median(level), 0.40, 0.12)
    last = np.maximum(np.where(leaves, rng.integers(3, 8, n), PERIODS), first)
    shock = rng.normal(0, 1, PERIODS)
    t = np.arange(1, PERIODS + 1)
    e = t[None, :] - g[:, None]
    effect = np.where((g[:, None] > 0) & (e >= 0), (1 + d[:, None] ** 2) / 2 * (1 + e / 2), 0.0)
    y = fe[:, None] + 0.5 * t[None, :] + shock[None, :] + effect + rng.normal(0, noise, (n, PERIODS))
    seen = (t[None, :] >= first[:, None]) & (t[None, :] <= last[:, None])
    i, k = np.nonzero(seen)
    return pd.DataFrame({"id": i, "t": t[k], "y": y[i, k], "g": g[i], "hours": d[i]})


def panel_of(frame: pd.DataFrame) -> il.Panel:
    return il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g", covariates=["hours"])


def _held(res: il.DoseResponseResult) -> dict[str, bool]:
    out = {}
    for name, truth in (("ATT", lambda x: 1 + x ** 2), ("ACRT", lambda x: 2 * x)):
        c = res.curves.loc[res.curves["curve"] == name]
        tr = truth(c["dose"].to_numpy())
        out[f"band_{name}"] = bool(((c["band_low"] <= tr) & (tr <= c["band_high"])).all())
    return out


def one(seed: int, n: int = 600, noise: float = 0.5, draws: int | None = None) -> dict[str, object]:
    panel = panel_of(simulate(seed, n, noise))
    res = il.dose_response(panel, dose="hours", n_draws=draws, seed=seed)
    fixed = il.dose_response(panel, dose="hours", n_draws=None, dose_variance=False, share_variance=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bal = il.dose_response(panel, dose="hours", n_draws=None, allow_unbalanced=False)
    z = 1.959963984540054
    row: dict[str, object] = {"seed": seed, "employees": panel.n_units, "used": res.n_units,
                              "used_balanced": bal.n_units}
    for tag, r in (("", res), ("fixed_", fixed), ("bal_", bal)):
        row |= {f"{tag}att": r.estimate, f"{tag}att_se": r.std_error, f"{tag}acrt": r.acrt,
                f"{tag}acrt_se": r.acrt_std_error,
                f"{tag}att_held": abs(r.estimate - ATT_O) <= z * r.std_error,
                f"{tag}acrt_held": abs(r.acrt - ACRT_O) <= z * r.acrt_std_error}
    if draws:
        row |= _held(res)
    return row


def summary(d: pd.DataFrame) -> pd.DataFrame:
    """One row per fit and target: coverage, bias, mean SE, SD of the estimates."""
    rows = []
    for tag, fit in (("", "all employees, doses and shares drawn (default)"),
                     ("fixed_", "all employees, doses and shares fixed (diff-diff's variance)"),
                     ("bal_", "balanced subset (allow_unbalanced=False)")):
        for target, truth in (("att", ATT_O), ("acrt", ACRT_O)):
            est = d[f"{tag}{target}"]
            rows.append({"fit": fit, "target": "ATT^o" if target == "att" else "ACRT^o",
                         "covered": int(d[f"{tag}{target}_held"].sum()), "reps": len(d),
                         "bias": est.mean() - truth, "mean_se": d[f"{tag}{target}_se"].mean(),
                         "sd": est.std()})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--noise", type=float, default=0.5)
    ap.add_argument("--draws", type=int, default=0)
    a = ap.parse_args()
    start = time.perf_counter()
    d = pd.DataFrame([one(s, a.n, a.noise, a.draws or None) for s in range(a.first, a.first + a.seeds)])
    took = time.perf_counter() - start
    print(summary(d).to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"\n{len(d)} organisations, {a.n} employees, noise {a.noise}, in {took:.0f} s; employees used: "
          f"{d['used'].mean() / d['employees'].mean():.1%} (balanced subset "
          f"{d['used_balanced'].mean() / d['employees'].mean():.1%})")
    if a.draws:
        print(f"uniform 95 % bands hold the whole true curve: ATT(d) {int(d['band_ATT'].sum())}/{len(d)}, "
              f"ACRT(d) {int(d['band_ACRT'].sum())}/{len(d)}")


if __name__ == "__main__":
    main()
