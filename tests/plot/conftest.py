"""Charts render off-screen; every figure a test opens is closed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def sample_panel():
    """The panel of the shipped sample data (data/sample), as the flagship notebook builds it."""
    from pathlib import Path

    import impactlab as il

    data = Path(__file__).resolve().parents[2] / "data" / "sample"
    return il.build_panel(il.read_kpis(data / "kpis.csv", unit="employee_id", time="month"),
                          il.read_completions(data / "completions.csv"), program="Consultative Selling",
                          outcome="revenue", roster=il.read_roster(data / "roster.csv"), cluster="team")
