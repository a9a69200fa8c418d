"""evaluate suggests the effect by dose when the trained employees' hours vary and the design runs on the
panel (measured: docs/validation.md, "Dose response on the simulator's organisations"), keeps its own
coverage claim (a dose puts nothing at risk), and suggests nothing on the simulator's plain hours."""

from __future__ import annotations

import warnings

import pytest
from dose_study import dose_org

import impactlab as il


def _evaluate(panel: il.Panel) -> il.results.Evaluation:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return il.evaluate(panel)


def test_hours_that_vary_suggest_dose_response() -> None:
    panel, _ = dose_org(9600, n_employees=1000)
    ev = _evaluate(panel)
    s = next(s for s in ev.suggestions if s.function == "dose_response")
    assert s.call == f"il.dose_response(panel, dose='hours', anticipation={ev.anticipation})"
    assert s.reason.startswith("The trained employees' hours vary (4 to 24, 21 different values)")
    assert "44 times" in s.evidence
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = eval(s.call, {"il": il, "panel": panel})  # noqa: S307 - the call runs as written
    assert res.spec["anticipation"] == ev.anticipation
    assert not any(c == "dose" for c in ev.checks["check"])  # no check: evaluate's number is not at risk
    prose = str(ev.explain())
    assert "The interval holds the effect in about 95%" in prose
    assert "il." not in prose


@pytest.mark.parametrize("dose", [None, ["hours"]])
def test_no_dose_suggestion_on_the_plain_sample(dose) -> None:
    """simulate_org's own hours: nearly everyone 16 (32 with a retake), too few for the spline."""
    ev = _evaluate(il.datasets.simulate_org(n_employees=800, seed=7).panel(dose=dose))
    assert not [s for s in ev.suggestions if s.function == "dose_response"]
