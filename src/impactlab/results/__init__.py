"""Frozen result objects and side-by-side comparison."""

from impactlab.results.base import TIDY_COLUMNS, EffectResult

__all__ = ["TIDY_COLUMNS", "EffectResult"]
