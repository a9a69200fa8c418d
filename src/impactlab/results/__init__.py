"""Frozen result objects: the result protocol, effects and the side-by-side comparison of
:func:`impactlab.compare`. Results never import the estimators that build them."""

from impactlab.results.base import TIDY_COLUMNS, EffectResult, Result
from impactlab.results.compare import CompareResult

__all__ = ["TIDY_COLUMNS", "CompareResult", "EffectResult", "Result"]
