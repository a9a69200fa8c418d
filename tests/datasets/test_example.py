"""example_panel: the exact staggered panel of the estimators' examples, and those examples."""

from __future__ import annotations

import doctest
import inspect

import numpy as np
import pytest

import impactlab as il
from impactlab.datasets import example_panel


def test_the_panel_has_two_waves_and_the_effect_asked_for() -> None:
    panel = example_panel()
    long = panel.long()
    assert (panel.n_units, panel.n_periods) == (30, 6)
    assert panel.cohort_sizes().to_dict() == {3: 10, 5: 10, "never": 10}
    base = 0.1 * long["unit"] + 0.5 * long["time"]
    e = long["time"] - long["cohort"]
    expected = np.where((long["cohort"] > 0) & (e >= 0), 1.0 + e, 0.0)
    np.testing.assert_allclose(long["outcome"] - base, expected)
    flat = example_panel(lambda cohort, event_time: np.where(cohort == 3, 2.0, 4.0)).long()
    gain = flat["outcome"] - base
    assert set(gain[(flat["cohort"] == 3) & (flat["time"] >= 3)].round(12)) == {2.0}
    assert set(gain[(flat["cohort"] == 5) & (flat["time"] >= 5)].round(12)) == {4.0}


@pytest.mark.parametrize("func", [il.datasets.example_panel, il.event_study, il.sun_abraham,
                                  il.bacon_decomposition], ids=lambda f: f.__name__)
def test_the_examples_that_use_it_run(func) -> None:
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(func, module=inspect.getmodule(func))
    assert tests and tests[0].examples
    for test in tests:
        runner.run(test)
    assert runner.failures == 0
