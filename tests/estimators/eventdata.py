"""Small staggered panels with known event-time effects, shared by the event-time estimator tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

import impactlab as il


def frame(n=60, T=8, cohorts=(3, 6), effect=lambda g, e: 1.0 + e, noise=0.0, seed=0, never=True):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), T)
    time = np.tile(np.arange(1, T + 1), n)
    k = len(cohorts) + (1 if never else 0)
    gu = np.array([*cohorts, *([0] if never else [])])[np.arange(n) % k]
    g = np.repeat(gu, T)
    e = time - g
    eff = np.where((g > 0) & (e >= 0), [effect(a, b) for a, b in zip(g, e, strict=True)], 0.0)
    y = 0.05 * unit + 0.4 * time + eff + noise * rng.normal(size=n * T)
    return pd.DataFrame({"id": unit, "t": time, "y": y, "g": g, "team": unit % 6,
                         "x": rng.normal(size=n * T)})


def panel(df, **kw):
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", **kw)
