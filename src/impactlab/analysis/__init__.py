"""Analyses that run several estimators on one panel and put their results together: :func:`compare`, the
naive and causal estimates side by side, and :func:`evaluate`, the one call an analyst makes. This layer
sits above the estimators (it calls them) and below
Kirkpatrick and ROI; the result types it returns live in :mod:`impactlab.results`.
"""

# The function shares its module's name: importing it here binds the package attribute to the function.
from impactlab.analysis.compare import compare
from impactlab.analysis.evaluate import evaluate

__all__ = ["compare", "evaluate"]
