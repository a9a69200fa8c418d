"""Run-level outputs: the headline numbers of an evaluation as one JSON-able dictionary.

This is the last stage of the flow: it reads results, never computes estimates itself, so the numbers in
``impact_summary.json``, the charts and the deck are the same numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from impactlab.results.compare import CompareResult


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _effect(res: Any, level: float) -> dict[str, Any]:
    lo, hi = res.conf_int(level)
    return {"method": res.method, "label": res.label, "term": res.term, "estimate": _num(res.estimate),
            "std_error": _num(res.std_error), "conf_low": _num(lo), "conf_high": _num(hi),
            "p_value": _num(res.p_value), "n_obs": res.n_obs, "n_units": res.n_units}


def impact_summary(cmp: CompareResult, roi: Any = None, *, level: float = 0.95, program: str | None = None,
                   panel: Any = None) -> dict[str, Any]:
    """The headline numbers: naive estimate, causal estimate with CI, ROI with interval, P(ROI > 0), truth.

    Parameters
    ----------
    cmp : CompareResult
        From :func:`impactlab.compare`.
    roi : RoiResult, optional
        From :func:`impactlab.roi`.
    level : float
        Confidence level of every interval.
    program : str, optional
        Programme name, recorded as is.
    panel : Panel, optional
        Recorded: units, periods and data window.
    """
    out: dict[str, Any] = {
        "program": program,
        "outcome": cmp.outcome,
        "level": level,
        "naive": _effect(cmp.naive, level),
        "causal": _effect(cmp.causal, level),
        "methods": {k: _effect(v, level) for k, v in cmp.results.items()},
        "truth": None if cmp.truth is None else {"overall": _num(cmp.truth)},
    }
    if roi is not None:
        lo, hi = roi.interval(level)
        out["roi"] = {"roi_pct": _num(roi.roi_pct), "interval": [_num(lo), _num(hi)],
                      "benefit": _num(roi.benefit), "cost": _num(roi.cost),
                      "net_benefit": _num(roi.net_benefit), "bcr": _num(roi.bcr),
                      "payback_periods": _num(roi.payback_periods),
                      "break_even_effect": _num(getattr(roi, "break_even_effect", None)),
                      "prob_positive": _num(roi.prob_positive)}
        out["prob_roi_positive"] = _num(roi.prob_positive)
    if panel is not None:
        out["data"] = {"units": panel.n_units, "periods": panel.n_periods, "rows": panel.n_obs,
                       "rows_dropped": len(panel.dropped), "first_period": str(panel.periods[0]),
                       "last_period": str(panel.periods[-1])}
    return out


def write_summary(summary: dict[str, Any], path: str | Path) -> Path:
    """Write a summary dictionary as indented JSON and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    return path
