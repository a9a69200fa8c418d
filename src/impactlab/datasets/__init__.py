"""Synthetic data with known truth: :func:`simulate_org` and the sample in ``data/sample/``."""

from impactlab.datasets.org import Org
from impactlab.datasets.simulate import simulate_org
from impactlab.datasets.truth import Truth

__all__ = ["Org", "Truth", "simulate_org"]
