"""Coverage of the 95 % intervals on simulated organisations with a known truth (see coverage_study.py).

The default run draws 20 organisations per estimator (about 5 s): each interval must cover the truth in at
least 17 of them (an exact 95 % interval fails this with probability 1.6 %; the seeds are fixed, so the
outcome is deterministic) and the mean error must be small next to the standard error. The slow run draws
500 per estimator, the acceptance study of issue 5: coverage within [93 %, 97 %] and the bias within three
Monte Carlo standard errors of zero. Its table is in docs/validation.md.
"""

from __future__ import annotations

import numpy as np
import pytest
from coverage_study import run, summarise


def _check(reps: int, workers: int, low: float, high: float, se_ratio: tuple[float, float]) -> None:
    table = summarise(run(reps, workers)).set_index("estimator")
    assert len(table) == 6 and (table["reps"] == reps).all()
    for name, row in table.iterrows():
        assert low <= row["coverage 95%"] <= high, f"{name}: coverage {row['coverage 95%']:.1%}"
        mc_se = row["SD of estimates"] / np.sqrt(reps)
        assert abs(row["bias"]) < 3 * mc_se, f"{name}: bias {row['bias']:+.4f} (MC SE {mc_se:.4f})"
        # the standard errors are honest: their mean matches the spread of the estimates (the spread of 20
        # draws is itself uncertain by about 16 %, hence the wide default band)
        ratio = row["mean SE"] / row["SD of estimates"]
        assert se_ratio[0] < ratio < se_ratio[1], f"{name}: mean SE / SD = {ratio:.2f}"


def test_coverage_small() -> None:
    _check(20, 1, 17 / 20, 1.0, (0.5, 2.0))


@pytest.mark.slow
def test_coverage_500_organisations_per_estimator() -> None:
    _check(500, 2, 0.93, 0.97, (0.9, 1.1))
