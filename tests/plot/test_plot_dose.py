"""plot.dose_response: effect by hours of training, units on the axes, the bands drawn from the result."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import impactlab as il  # noqa: E402


@pytest.fixture(scope="module")
def result() -> il.estimators.DoseResponseResult:
    rng = np.random.default_rng(0)
    n, periods = 90, 4
    g = np.where(np.arange(n) < 30, 0, 3)
    hours = np.where(g > 0, rng.uniform(2, 20, n), 0.0)
    rows = [(i, pd.Period(f"2024-{t:02d}", "M"), 100 + 5 * t + (3 * hours[i] if g[i] and t >= 3 else 0)
             + rng.normal(0, 2), pd.Period("2024-03", "M") if g[i] else None, hours[i])
            for i in range(n) for t in range(1, periods + 1)]
    frame = pd.DataFrame(rows, columns=["id", "month", "sales", "cohort", "hours"])
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="sales", cohort="cohort",
                                covariates=["hours"])
    return il.dose_response(panel, dose="hours", n_draws=199, seed=1)


def test_effect_by_hours_with_units_and_bands(result) -> None:
    ax = il.plot.dose_response(result, currency="USD")
    try:
        assert ax.get_xlabel().startswith("Hours of training")
        assert ax.get_ylabel() == "Effect on sales (USD per employee per month)"
        assert "Effect by hours of training" in ax.get_title(loc="left")
        line = ax.get_lines()[0]
        att = result.curves.loc[result.curves["curve"] == "ATT"]
        np.testing.assert_allclose(line.get_ydata(), att["estimate"])
        bands = [c for c in ax.collections]
        assert len(bands) == 2  # uniform band and pointwise interval
        uniform = bands[0].get_paths()[0].vertices[:, 1]
        assert uniform.max() == pytest.approx(att["band_high"].max())
        assert att["band_high"].max() > att["conf_high"].max()
    finally:
        plt.close("all")


def test_acrt_curve_and_refusals(result) -> None:
    ax = il.plot.dose_response(result, curve="ACRT")
    try:
        assert ax.get_ylabel().endswith("per unit of hours)")
        assert "Each extra unit of hours added" in ax.get_title(loc="left")
    finally:
        plt.close("all")
    with pytest.raises(ValueError, match="curve"):
        il.plot.dose_response(result, curve="slope")
    with pytest.raises(TypeError, match="dose_response"):
        il.plot.dose_response(object())
