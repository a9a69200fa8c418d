"""Wild cluster bootstrap against the ``wildboottest`` package (WCR11, Rademacher, full enumeration).

With 2^G draws both enumerate every sign vector, so the p-values are exact and comparable to the draw. One
difference is by design: the all-ones draw and its mirror rebuild the sample itself, so their ``|t*|`` equals
``|t|``; we count those ties (the p-value of an exact randomisation test is at least 2 / 2^G), wildboottest's
strict comparison counts them or not depending on rounding. The p-values may therefore differ by exactly
2 / 2^G, never otherwise.
Skips when wildboottest is not installed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from impactlab.estimators.wild_bootstrap import wild_bootstrap
from impactlab.panel import Panel

wbt = pytest.importorskip("wildboottest.wildboottest", reason="wildboottest is not installed")


def _frame(seed: int, effect: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, t, teams = 64, 6, 8
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < 20, np.arange(n) < 40], [3, 5], 0), t)
    treated = (cohort > 0) & (time >= cohort)
    team = unit % teams
    y = (0.2 * time + effect * treated + rng.normal(0, 0.5, (teams, t))[team, time - 1]
         + rng.normal(0, 0.5, n * t))
    return pd.DataFrame({"id": unit, "year": time, "y": y, "first_treated": cohort, "team": team,
                         "x1": rng.normal(size=n * t), "D": treated.astype(float)})


@pytest.mark.filterwarnings("ignore::impactlab.errors.StatisticalWarning")
@pytest.mark.parametrize(("seed", "effect"), [(0, 0.3), (1, 0.0), (2, 0.15)])
def test_regression_p_value_equals_wildboottest(seed, effect):
    df = _frame(seed, effect)
    panel = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated",
                             covariates=["x1"], cluster="team")
    ours = wild_bootstrap(panel, "regression", ["x1"], multiplier="rademacher", n_draws=9999, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = wbt.wildboottest(smf.ols("y ~ D + x1 + C(year)", df), B=9999, cluster=df.team, param="D",
                                  weights_type="rademacher", seed=1, show=False)
    assert ours.enumerated
    gap = (ours.p_value - float(theirs["p-value"].iloc[0])) * 2**ours.n_clusters
    assert gap == pytest.approx(0, abs=1e-9) or gap == pytest.approx(2, abs=1e-9)
    t_ours = ours.estimate / ours.std_error
    assert t_ours == pytest.approx(float(theirs["statistic"].iloc[0]), rel=1e-8)
