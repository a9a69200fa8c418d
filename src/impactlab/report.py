"""Run-level outputs: the headline numbers of an evaluation as one JSON-able dictionary.

This is the last stage of the flow: it reads results, never computes estimates itself, so the numbers in
``impact_summary.json``, the charts and the deck are the same numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
from datetime import datetime
from pathlib import Path
from typing import Any

from impactlab.deck.board import headline_numbers
from impactlab.results.compare import CompareResult
from impactlab.results.evaluation import Evaluation, checks_tally
from impactlab.results.probability import fmt_prob_positive


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


def impact_summary(cmp: CompareResult | Evaluation, roi: Any = None, *, level: float = 0.95,
                   program: str | None = None, panel: Any = None, chain: Any = None,
                   roi_doubt: Any = None) -> dict[str, Any]:
    """The headline numbers: naive estimate, causal estimate with CI, ROI with interval, P(ROI > 0), truth.

    Parameters
    ----------
    cmp : CompareResult or Evaluation
        From :func:`impactlab.compare`, or an evaluation's ``.naive`` (its causal row is the
        evaluation's estimate), or the :class:`~impactlab.results.evaluation.Evaluation` itself: then its
        naive numbers, and under ``"checks"`` the checks counted as the deck's summary counts them
        (``"text"``: "9 checks: 7 passed, 2 cautions"), each status's checks by name, and ``"causal"``.
    roi : RoiResult, optional
        From :func:`impactlab.roi`.
    level : float
        Confidence level of every interval.
    program : str, optional
        Programme name, recorded as is.
    panel : Panel, optional
        Recorded: units, periods and data window.
    chain : ChainResult, optional
        From :func:`impactlab.kirkpatrick.chain`: each level's estimate and interval, each link's check.
    roi_doubt : RoiSensitivityResult, optional
        From :func:`impactlab.roi_sensitivity`: the breakdown value and its sentence.

    Returns
    -------
    dict
        JSON-able; missing or non-finite numbers are ``None``.
    """
    evaluation = cmp if isinstance(cmp, Evaluation) else None
    if isinstance(cmp, Evaluation):
        if cmp.naive is None:
            raise ValueError("impact_summary needs the naive numbers of the evaluation; this Evaluation has "
                             "none (naive is None). Run impactlab.evaluate on the panel again.")
        cmp = cmp.naive
    out: dict[str, Any] = {
        "program": program,
        "outcome": cmp.outcome,
        "level": level,
        "naive": _effect(cmp.naive, level),
        "causal": _effect(cmp.causal, level),
        "methods": {k: _effect(v, level) for k, v in cmp.results.items()},
        "truth": None if cmp.truth is None else {"overall": _num(cmp.truth)},
        "headline": headline_numbers(cmp.causal, roi, level=level),
    }
    if evaluation is not None:
        checks = evaluation.checks
        out["checks"] = {"text": checks_tally(checks), "causal": evaluation.causal,
                         **{key: [str(c) for c in checks.loc[checks["status"] == status, "check"]]
                            for key, status in (("passed", "pass"), ("cautions", "warn"),
                                                ("failed", "fail"))}}
    if roi is not None:
        lo, hi = roi.conf_int(level)
        out["roi"] = {"roi_pct": _num(roi.roi_pct), "interval": [_num(lo), _num(hi)],
                      "benefit": _num(roi.benefit), "cost": _num(roi.cost),
                      "net_benefit": _num(roi.net_benefit), "bcr": _num(roi.bcr),
                      "payback_periods": _num(roi.payback_periods),
                      "break_even_effect": _num(getattr(roi, "break_even_effect", None)),
                      "prob_positive": _num(roi.prob_positive),
                      "prob_positive_text": fmt_prob_positive(roi),
                      "paid_back": getattr(roi, "paid_back", None),
                      "currency": getattr(roi, "currency", None)}
        out["prob_roi_positive"] = _num(roi.prob_positive)
    if chain is not None:
        out["chain"] = {
            "levels": [{"level": int(row["level"]), "name": str(row["name"]), "metric": str(row["metric"]),
                        "estimate": _num(row["estimate"]), "conf_low": _num(row["conf_low"]),
                        "conf_high": _num(row["conf_high"])} for _, row in chain.levels.iterrows()],
            "links": [{"link": str(row["link"]), "evidence": str(row["evidence"]),
                       "estimate": _num(row["estimate"]), "conf_low": _num(row["conf_low"]),
                       "conf_high": _num(row["conf_high"]), "reading": str(row["reading"])}
                      for _, row in chain.links.iterrows()]}
    if roi_doubt is not None:
        out["roi_doubt"] = {"restriction": roi_doubt.restriction, "target": roi_doubt.target,
                            "breakdown": _num(roi_doubt.breakdown) if math.isfinite(roi_doubt.breakdown)
                            else "inf", "level": _num(roi_doubt.level), "sentence": roi_doubt.sentence()}
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


# ------------------------------------------------------------------------------------------ run manifest
def sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def input_checksums(parameters: dict[str, Any], *, base: str | Path | None = None,
                    max_files: int = 200) -> dict[str, str]:
    """SHA-256 of every input a run's parameters point to.

    A parameter whose value is a path to an existing file gives that file; a path to a folder gives each
    file in it (recursively, sorted, at most ``max_files``). Other parameters are ignored. Keys are
    ``"name"`` for a file and ``"name/relative/path"`` for files in a folder.
    """
    out: dict[str, str] = {}
    root = Path(base) if base is not None else Path.cwd()
    for name, value in parameters.items():
        if not isinstance(value, (str, Path)) or not str(value):
            continue
        path = Path(value)
        path = path if path.is_absolute() else root / path
        try:
            if path.is_file():
                out[name] = sha256(path)
            elif path.is_dir() and name not in ("output_dir", "out"):
                files = sorted(p for p in path.rglob("*") if p.is_file())[:max_files]
                for p in files:
                    out[f"{name}/{p.relative_to(path).as_posix()}"] = sha256(p)
        except OSError:  # unreadable entries are left out; the run itself reports them
            continue
    return out


def run_manifest(*, notebook: str | Path, parameters: dict[str, Any], started: datetime,
                 finished: datetime, status: str, outputs: list[str] | None = None,
                 error: str | None = None, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """What a scheduled run needs to be audited: parameters, input checksums, versions, timings, outcome.

    Parameters
    ----------
    notebook : path
        The notebook run.
    parameters : dict
        The papermill parameters, as passed.
    started, finished : datetime
        Wall-clock start and end (timezone-aware).
    status : {"ok", "failed"}
    outputs : list of str, optional
        Files written (names relative to the output folder).
    error : str, optional
        The failure message of a failed run.
    timings : dict, optional
        Seconds per step.
    """
    from impactlab import __version__

    nb = Path(notebook)
    return {
        "status": status,
        "notebook": nb.name,
        "notebook_sha256": sha256(nb) if nb.is_file() else None,
        "parameters": parameters,
        "inputs_sha256": input_checksums(parameters),
        "impactlab_version": __version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(terse=True),
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 3),
        "timings": dict(timings or {}),
        "outputs": sorted(outputs or []),
        "error": error,
    }
