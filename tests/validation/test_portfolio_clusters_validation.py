"""portfolio() with standard errors clustered on 12 teams: Student's t with 11 degrees of freedom holds each
programme's truth on simulated organisations (tests/validation/portfolio_clusters_study.py).

The default run draws two organisations (seeds the slow run does not use); the slow run is the 100 of
docs/validation.md ("Several programmes side by side", few clusters).
"""

from __future__ import annotations

import pytest
from portfolio_clusters_study import FIRST_SEED, report, study


def test_two_organisations_with_twelve_teams() -> None:
    d = study(range(9890, 9892))
    assert (d["n_clusters"] == 12).all()
    # with fewer than 40 clusters the dip rule leaves out its widest window, as evaluate does
    assert (d["anticipation"] == 3).all()
    # 6 programme-organisations; at 95 % about 5.7 hold the truth (5 or more: P = 0.97)
    assert int(d["covered"].sum()) >= 5


@pytest.mark.slow
def test_one_hundred_organisations_with_twelve_teams() -> None:
    rep = report(study(range(FIRST_SEED, FIRST_SEED + 100)))
    assert (rep["covered"] >= 0.90).all(), rep
