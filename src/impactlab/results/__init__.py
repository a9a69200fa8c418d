"""Frozen result objects: the result protocol, effects and the side-by-side comparison of
:func:`impactlab.compare` and the evaluation of :func:`impactlab.evaluate`. Results never import the
estimators that build them."""

from impactlab.results.base import TIDY_COLUMNS, EffectResult, Result
from impactlab.results.compare import CompareResult
from impactlab.results.evaluation import Evaluation
from impactlab.results.suggestion import Suggestion

__all__ = ["TIDY_COLUMNS", "CompareResult", "EffectResult", "Evaluation", "Result", "Suggestion"]
