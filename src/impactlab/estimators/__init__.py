"""Estimators: the naive comparisons people report and the causal designs that replace them.

Each function takes a :class:`~impactlab.Panel` and returns a new frozen result; the panel is never
modified. The estimation core is written here on numpy/scipy/statsmodels.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "naive_difference": "naive",
    "pre_post": "naive",
    "regression": "regression",
    "twfe": "regression",
    "callaway_santanna": "callaway_santanna",
    "CallawaySantAnnaResult": "callaway_santanna",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"impactlab.estimators.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'impactlab.estimators' has no attribute {name!r}")
