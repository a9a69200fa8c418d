"""A seeded employee × month frame for the triple difference: a programme open to eligible employees in
some regions, and a shock to the whole of those regions at the launch that biases a plain DiD.

Employees belong to one of ``regions`` regions; the first ``n_reached`` regions open the programme in
month ``launch`` to their eligible employees, of whom a share ``take_up`` take it (from the launch on,
their sales rise by ``effect``). Every employee of a reached region, eligible or not, gains ``shock`` from
the launch on (a regional campaign). Eligible employees have their own trend (the same in every region),
regions their own trends, and eligibility depends on tenure, which also shapes the trend when
``covariate_effect`` is not zero. The truth of the triple difference is ``effect × take_up`` in
expectation (the effect of the offer on eligible employees of the reached regions); the exact value for a
draw is in the frame's ``attrs["truth"]``.

``region_noise`` (0 by default, which leaves every draw as it was) adds a shock of that standard deviation
to each region × eligibility × month, drawn from its own stream: eligible and ineligible employees of one
region then share shocks the triple difference does not cancel, so its errors are correlated within a
region and only the clusters (``cluster="region"``) are independent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def ddd_frame(n: int = 800, periods: int = 8, launch: int = 5, regions: int = 6, n_reached: int = 3,
              effect: float = 2.0, shock: float = 3.0, take_up: float = 1.0, covariate_effect: float = 0.0,
              seed: int = 0, region_noise: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    region = rng.integers(0, regions, n)
    tenure = rng.gamma(2.0, 2.0, n)
    eligible = (rng.uniform(size=n) < 1 / (1 + np.exp(-(tenure - 4) / 6))).astype(int)
    reached = region < n_reached
    trained = reached & (eligible == 1) & (rng.uniform(size=n) < take_up)
    u = np.repeat(np.arange(n), periods)
    t = np.tile(np.arange(1, periods + 1), n)
    after = t >= launch
    sales = (10 + rng.normal(0, 1, n)[u] + 0.3 * t + 0.4 * eligible[u] * t + 0.2 * region[u] * t / regions
             + shock * (reached[u] & after) + covariate_effect * tenure[u] * t / periods
             + effect * (trained[u] & after) + rng.normal(0, 1, n * periods))
    if region_noise:
        cell = np.random.default_rng([seed, 1]).normal(0, region_noise, (regions, 2, periods))
        sales = sales + cell[region[u], eligible[u], t - 1]
    frame = pd.DataFrame({"id": u, "month": t, "sales": sales, "eligible": eligible[u], "region": region[u],
                          "tenure": tenure[u], "trained": np.where(trained, launch, 0)[u],
                          "x2": rng.normal(0, 1, n * periods)})
    target = reached & (eligible == 1)
    frame.attrs["truth"] = effect * float(trained[target].mean())
    return frame
