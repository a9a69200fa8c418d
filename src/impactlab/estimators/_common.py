"""Small helpers shared by the regression-type estimators."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError
from impactlab.panel import Panel


def period_freq(panel: Panel) -> str | None:
    """The pandas frequency of the panel's periods (``"M"``, ``"W-SUN"``...), ``None`` for plain numbers;
    recorded in a result's ``spec["freq"]`` so that :func:`impactlab.roi` counts the panel's periods."""
    first = panel.periods[0] if len(panel.periods) else None
    return str(first.freqstr) if isinstance(first, pd.Period) else None


def check_panel(panel: object, who: str) -> Panel:
    if not isinstance(panel, Panel):
        raise TypeError(f"{who} expects an impactlab Panel (il.build_panel or il.Panel.from_frame). "
                        f"Got {type(panel).__name__} instead.")
    return panel


def treated_now(long: pd.DataFrame) -> np.ndarray:
    """1 for unit-periods on or after the unit's first treated period, else 0."""
    gp = long["cohort_period"].to_numpy()
    return ((gp > 0) & (long["period"].to_numpy() >= gp)).astype("float64")


def ever_treated(long: pd.DataFrame) -> np.ndarray:
    return (long["cohort_period"].to_numpy() > 0)


def resolve_covariates(panel: Panel, covariates: Sequence[str] | None) -> list[str]:
    covs = list(covariates or [])
    missing = [c for c in covs if c not in panel.covariates]
    if missing:
        raise PanelError(
            f"Covariates {missing} are not in the panel; it holds {list(panel.covariates)}. "
            "Add them when building the panel (covariates=[...])."
        )
    return covs


def need_both_groups(d: np.ndarray, who: str) -> None:
    if d.sum() == 0:
        raise EstimationError(f"{who}: no unit-period is treated, so there is no effect to estimate.")
    if d.sum() == len(d):
        raise EstimationError(f"{who}: every unit-period is treated, so there is no comparison.")


def excluded_frame(rows: list[tuple[str, object, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["what", "id", "reason"])
