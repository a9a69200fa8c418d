"""Relative-magnitude bounds against R HonestDiD's published outputs (C-LF confidence sets, Δ^RM(M̄)).

The event-study coefficients, their covariance and HonestDiD's printed intervals are frozen in
``tests/published/honestdid/`` with their provenance (repository, commit, file). HonestDiD reports the
smallest and largest accepted value of a grid of the target, so the comparison is to the printed digits
on the same grid; its breakdown value is read off the printed table (the first M̄ whose interval holds
zero), so ours, solved for, must lie between that M̄ and the one before it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impactlab.estimators.sensitivity import sensitivity
from impactlab.results.base import EffectResult

HERE = Path(__file__).parent / "honestdid"


def _load(name: str) -> dict:
    path = HERE / name
    if not path.exists():
        raise FileNotFoundError(f"published reference {path} is missing")
    return json.loads(path.read_text())


def _event_study(ref: dict) -> EffectResult:
    n_pre, n_post = ref["n_pre"], ref["n_post"]
    events = list(range(-n_pre - 1, -1)) + list(range(n_post))
    sigma = np.asarray(ref["sigma"], dtype="float64")
    el = pd.DataFrame({"event_time": events, "estimate": ref["betahat"],
                       "std_error": np.sqrt(np.diag(sigma))})
    return EffectResult(estimate=0.0, std_error=1.0, method="event_study", elements=el, element_vcov=sigma,
                        spec={"ref": -1})


def _printed(value: float, text: str) -> float:
    """``value`` rounded to as many decimals as HonestDiD printed in ``text``."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return round(value, decimals)


def _cases(name: str) -> list:
    ref = _load(name)
    return [pytest.param(ref, case, id=case["name"], marks=[pytest.mark.slow] if case.get("slow") else [])
            for case in ref["cases"]]


def _check(ref: dict, case: dict) -> None:
    mbar = (list(np.linspace(0, 2, 10)) if isinstance(case["Mbar"], str) else case["Mbar"])
    grid = case["theta_grid"]
    if grid is None:  # HonestDiD's default grid, given explicitly: impactlab extends it where a set is cut
        sigma = np.asarray(ref["sigma"])[ref["n_pre"]:, ref["n_pre"]:]
        l_vec = np.asarray(case["l_vec"], dtype="float64")
        se = float(np.sqrt(l_vec @ sigma @ l_vec))
        grid = {"lb": -20 * se, "ub": 20 * se, "points": 1000}
    thetas = np.linspace(grid["lb"], grid["ub"], grid["points"])
    target = {e: w for e, w in enumerate(case["l_vec"])}
    s = sensitivity(_event_study(ref), "relative_magnitude", grid=mbar, target=target, theta_grid=thetas)
    assert s.ci_method == "C-LF"
    rows = zip(s.table["lower"], s.table["upper"], case["lb"], case["ub"], strict=True)
    ours = [(_printed(lo, plo), _printed(hi, phi)) for lo, hi, plo, phi in rows]
    assert ours == [(float(a), float(b)) for a, b in zip(case["lb"], case["ub"], strict=True)]
    covers = [float(a) <= 0 <= float(b) for a, b in zip(case["lb"], case["ub"], strict=True)]
    first = covers.index(True)
    assert mbar[first - 1] < s.breakdown <= mbar[first] + 1e-9


@pytest.mark.parametrize(("ref", "case"), _cases("bc_relative_magnitudes.json"))
def test_benzarti_carloni_equals_honestdid(ref, case):
    _check(ref, case)


@pytest.mark.parametrize(("ref", "case"), _cases("medicaid_relative_magnitudes.json"))
def test_medicaid_readme_equals_honestdid(ref, case):
    _check(ref, case)


def test_identified_set_interval_stays_available_and_is_narrower():
    """The old interval (identified set ± z·SE) is kept under its own name; on Benzarti & Carloni it is
    narrower than HonestDiD's at M̄ = 2 and its breakdown is later, which is why it is not the default."""
    ref = _load("bc_relative_magnitudes.json")
    es = _event_study(ref)
    thetas = np.linspace(-1, 1, 100)
    clf = sensitivity(es, "relative_magnitude", grid=[2.0], target={0: 1.0}, theta_grid=thetas)
    old = sensitivity(es, "relative_magnitude", grid=[2.0], target={0: 1.0}, ci_method="identified_set")
    assert old.ci_method == "identified set ± z·SE"
    width = {k: float((r.table["upper"] - r.table["lower"]).iloc[0]) for k, r in (("old", old), ("clf", clf))}
    assert width["old"] < width["clf"]
    assert old.breakdown > clf.breakdown


def test_default_grid_is_honestdids_where_it_holds_the_set():
    """Without ``theta_grid`` the grid is HonestDiD's, continued past its ends: on the Medicaid example,
    whose sets lie inside HonestDiD's grid, the bounds are the published ones."""
    ref = _load("medicaid_relative_magnitudes.json")
    case = ref["cases"][0]
    s = sensitivity(_event_study(ref), "relative_magnitude", grid=case["Mbar"], target={0: 1.0})
    assert [_printed(v, p) for v, p in zip(s.table["lower"], case["lb"], strict=True)] == \
        [float(p) for p in case["lb"]]
    assert [_printed(v, p) for v, p in zip(s.table["upper"], case["ub"], strict=True)] == \
        [float(p) for p in case["ub"]]
    assert not s.notes
