"""Shared fixtures: small panels with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# Property tests draw their examples deterministically: the same examples on every run and machine.
settings.register_profile("impactlab", derandomize=True, print_blob=True)
settings.load_profile("impactlab")


@pytest.fixture
def staggered_frame() -> pd.DataFrame:
    """A seeded, unbalanced-free staggered panel: 60 units x 6 periods, cohorts 3, 5 and never (0)."""
    rng = np.random.default_rng(11)
    n, t = 60, 6
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < 20, np.arange(n) < 40], [3, 5], 0), t)
    treated = (cohort > 0) & (time >= cohort)
    y = 1.0 + 0.3 * unit / n + 0.2 * time + 2.0 * treated + rng.normal(0, 0.5, n * t)
    x = np.repeat(rng.normal(size=n), t)
    team = unit % 12
    return pd.DataFrame({"id": unit, "year": time, "y": y, "first_treated": cohort, "x1": x, "team": team})
