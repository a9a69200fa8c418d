"""Synthetic data with known truth: :func:`simulate_org` (and the sample in ``data/sample/``), and the
small exact panel of the examples, :func:`example_panel`."""

from impactlab.datasets.example import example_panel
from impactlab.datasets.org import Org
from impactlab.datasets.simulate import simulate_org
from impactlab.datasets.truth import Truth

__all__ = ["Org", "Truth", "example_panel", "simulate_org"]
