"""Frozen result objects and side-by-side comparison."""

from impactlab.results.base import TIDY_COLUMNS, EffectResult, Result
from impactlab.results.compare import CompareResult, compare

__all__ = ["TIDY_COLUMNS", "CompareResult", "EffectResult", "Result", "compare"]
