"""The triple difference clustered by region, with few regions: how often a 95 % interval holds the truth
with the normal critical value and with Student's t with G - 1 degrees of freedom (G regions).

Each draw is ``tests/estimators/ddd_data.ddd_frame`` with ``regions`` regions, the first half of them
(rounded down) reached, 70 % take-up, and ``region_noise`` the standard deviation of a shock to each
region × eligibility × month (0: only employee-level noise; the clustered variance is still estimated
from G regions). The panel is clustered by region (``cluster="region"``) and ``triple_difference`` runs
without covariates (``method="reg"``; without covariates every method gives the same numbers), or with
``--method dr`` and tenure as the covariate. The truth of a draw is the effect of the offer on the
eligible employees of the reached regions (``frame.attrs["truth"]``).

    python -m tests.validation.ddd_clusters_study --regions 5,6,8,10 --seeds 1000 --noise 0.5

``tests/estimators/test_triple_difference_clusters.py`` runs a small version by default and the numbers of
docs/validation.md ("Triple difference with few regions") under ``-m slow``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from scipy import stats
from tests.estimators.ddd_data import ddd_frame

import impactlab as il
from impactlab.estimators.triple_difference import TripleDifferenceResult

#: First seed of the draws.
SEED0 = 5000


@dataclass(frozen=True)
class Coverage:
    """Out of ``draws``: how often the normal and the t(G - 1) 95 % intervals held the truth, the mean
    error, the spread of the estimates and the mean standard error."""

    regions: int
    draws: int
    normal: int
    student: int
    bias: float
    sd: float
    mean_se: float


def fit(seed: int, regions: int, region_noise: float,
        method: str = "reg") -> tuple[TripleDifferenceResult, float]:
    """One draw's result (clustered by region) and its truth; ``"dr"`` or ``"ipw"`` adjust for tenure."""
    frame = ddd_frame(regions=regions, n_reached=regions // 2, take_up=0.7, seed=seed,
                      region_noise=region_noise)
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="trained",
                                covariates=["eligible", "region", "tenure"], cluster="region")
    res = il.triple_difference(panel, eligible="eligible", group="region", method=method,  # type: ignore[arg-type]
                               covariates=None if method == "reg" else ["tenure"])
    return res, float(frame.attrs["truth"])


def coverage(regions: int, seeds: int, region_noise: float, method: str = "reg") -> Coverage:
    """Coverage of the two 95 % intervals over draws ``SEED0`` to ``SEED0 + seeds - 1``."""
    z = stats.norm.ppf(0.975)
    normal = student = 0
    errors, ses = [], []
    for s in range(seeds):
        res, truth = fit(SEED0 + s, regions, region_noise, method)
        gap = abs(res.estimate - truth) / res.std_error
        normal += bool(gap <= z)
        student += bool(gap <= stats.t.ppf(0.975, res.spec["n_clusters"] - 1))
        errors.append(res.estimate - truth)
        ses.append(res.std_error)
    return Coverage(regions, seeds, normal, student, float(np.mean(errors)), float(np.std(errors)),
                    float(np.mean(ses)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", default="5,6,8,10", help="comma-separated numbers of regions")
    ap.add_argument("--seeds", type=int, default=1000)
    ap.add_argument("--noise", type=float, default=0.5, help="region x eligibility x month shock SD")
    ap.add_argument("--method", default="reg", choices=["reg", "dr", "ipw"],
                    help="reg: no covariates; dr, ipw: tenure as the covariate")
    args = ap.parse_args()
    print("| regions | normal | t(G - 1) | bias | SD | mean SE |")
    print("|---:|---:|---:|---:|---:|---:|")
    for g in (int(v) for v in args.regions.split(",")):
        c = coverage(g, args.seeds, args.noise, args.method)
        print(f"| {g} | {c.normal}/{c.draws} | {c.student}/{c.draws} | {c.bias:+.3f} | {c.sd:.3f} | "
              f"{c.mean_se:.3f} |", flush=True)


if __name__ == "__main__":
    main()
