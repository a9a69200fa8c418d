"""Reading xAPI statements for :func:`impactlab.io.xapi.read_xapi`: loading them from files, lists or an LRS,
and the values inside a statement (activity names, ISO 8601 durations, scores and their range rules).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from impactlab.errors import DataError
from impactlab.io.decoding import repeated_keys, same_json
from impactlab.io.lrs import LRS
from impactlab.io.sources import JSONL_SUFFIXES, decode, json_lines, parse_json, undecodable

CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
_DURATION = re.compile(
    r"P(?!$)(?:(?P<Y>\d+(?:[.,]\d+)?)Y)?(?:(?P<Mo>\d+(?:[.,]\d+)?)M)?(?:(?P<W>\d+(?:[.,]\d+)?)W)?"
    r"(?:(?P<D>\d+(?:[.,]\d+)?)D)?(?:T(?=\d)(?:(?P<H>\d+(?:[.,]\d+)?)H)?(?:(?P<Mi>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<S>\d+(?:[.,]\d+)?)S)?)?"
)


def duration_hours(text: str) -> float:
    """Hours in an ISO 8601 duration (``PT1H30M`` -> 1.5); raises ``ValueError`` for years/months or junk."""
    m = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT1H30M or P1DT2H")
    g = {k: float(v.replace(",", ".")) if v else 0.0 for k, v in m.groupdict().items()}
    if g["Y"] or g["Mo"]:
        raise ValueError(
            f"{text!r} counts calendar years or months, which have no fixed length; "
            "write it in weeks, days, hours, minutes or seconds"
        )
    return g["W"] * 168 + g["D"] * 24 + g["H"] + g["Mi"] / 60 + g["S"] / 3600


def load_statements(
    source: Any, filters: dict[str, Any]
) -> tuple[list[tuple[int, Any]], str, str | None, list[str]]:
    """(source_row, statement) pairs, source name, LRS checkpoint, notes."""
    active = {k: v for k, v in filters.items() if v is not None}
    if isinstance(source, LRS):
        pull = source.pull(**active)
        return (
            [(i, Bad(r) if (r := repeated_keys(s)[0]) else s)
             for i, s in enumerate(pull.statements, start=1)],
            source.endpoint,
            pull.checkpoint,
            [f"{pull.pages} LRS page(s), {pull.retries} retried request(s)"]
            + ([] if pull.consistent_through or not pull.statements else [
                "the LRS sent no X-Experience-API-Consistent-Through header, so the checkpoint is the "
                "last stored time; statements stored before it but not yet visible would be missed"]),
        )
    if active:
        raise ValueError(
            f"The {sorted(active)} filter(s) apply to an LRS pull (read_xapi(il.LRS(...), ...)); "
            "filter a file's statements before reading them instead."
        )
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"No such file: {str(path)!r}")
        text, how = decode(path.read_bytes())
        if path.suffix.lower() in JSONL_SUFFIXES:
            items, broken = json_lines(text, how)
            pairs: list[tuple[int, Any]] = sorted(
                [*items, *((line, Bad(reason)) for line, reason in broken)], key=lambda p: p[0]
            )
            return pairs, str(path), None, ["JSON Lines"]
        repeats: list[Any] = []
        body = parse_json(
            text,
            str(path),
            "xAPI files hold a JSON array of statements, an LRS StatementResult {'statements': [...]}, or "
            "one statement per line (.jsonl)",
            repeats,
        )
        if isinstance(body, Mapping) and isinstance(body.get("statements"), list):
            if any(k == "statements" and not same_json(a, b) for k, a, b in getattr(body, "repeats", ())):
                raise DataError("the StatementResult writes the key 'statements' twice with different "
                                "values: which list holds the statements cannot be known", source=str(path),
                                hint="export the statements once, as one array")
            body = body["statements"]
        elif isinstance(body, Mapping):
            body = [body]
        if not isinstance(body, list):
            raise DataError(
                f"the file holds a JSON {type(body).__name__}, not statements",
                source=str(path),
                hint="xAPI files hold a JSON array of statements",
            )
        pairs = [(i, Bad(r) if (r := undecodable(s, how, None) or (repeated_keys(s)[0] if repeats else None))
                  else s) for i, s in enumerate(body, start=1)]
        return pairs, str(path), None, ["JSON"]
    if isinstance(source, Mapping):
        source = [source]
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes, pd.DataFrame)):
        return list(enumerate(source, start=1)), "<statements>", None, []
    raise TypeError(
        "The 'source' parameter must be a path to a .json/.jsonl file, a list of statements or "
        f"an il.LRS(...). Got {type(source).__name__} instead."
    )


@dataclass(frozen=True)
class Bad:
    """A line of a JSON Lines file that could not be parsed."""

    reason: str


def number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(v)
    return None


def activity_name(obj: Mapping[str, Any]) -> str | None:
    names = (obj.get("definition") or {}).get("name") if isinstance(obj.get("definition"), Mapping) else None
    if isinstance(names, Mapping) and names:
        for lang in ("en-US", "en", "en-GB", "und"):
            if isinstance(names.get(lang), str) and names[lang].strip():
                return names[lang].strip()
        first = next(iter(names.values()))
        return first.strip() if isinstance(first, str) and first.strip() else None
    return None


def is_cmi5(stmt: Mapping[str, Any]) -> bool:
    ctx = stmt.get("context")
    cats = ((ctx or {}).get("contextActivities") or {}).get("category") if isinstance(ctx, Mapping) else None
    if isinstance(cats, Mapping):
        cats = [cats]
    return isinstance(cats, list) and any(
        isinstance(c, Mapping) and c.get("id") == CMI5_CATEGORY for c in cats
    )


def scores(result: Mapping[str, Any], cmi5: bool) -> tuple[dict[str, Any], list[tuple[str, Any, str, str]]]:
    """Score values of an xAPI ``result`` and the problems found (``scaled`` in -1..1, 0..1 for cmi5;
    ``raw`` in ``min..max``)."""
    score: Mapping[str, Any] = result["score"] if isinstance(result.get("score"), Mapping) else {}
    vals = {k: number(score.get(k)) for k in ("scaled", "raw", "min", "max")}
    probs: list[tuple[str, Any, str, str]] = []
    for k in ("scaled", "raw", "min", "max"):
        if score.get(k) is not None and vals[k] is None:
            probs.append((f"score_{k}", score.get(k), f"result.score.{k} must be a number", "number"))
    s, r, lo, hi = vals["scaled"], vals["raw"], vals["min"], vals["max"]
    lo_ok = 0.0 if cmi5 else -1.0
    if s is not None and not lo_ok <= s <= 1.0:
        rule = "0..1 in cmi5 statements" if cmi5 else "-1..1"
        probs.append(("score_scaled", s, f"result.score.scaled must lie in {rule}", "range"))
    if lo is not None and hi is not None and lo >= hi:
        probs.append(("score_min", lo, f"result.score.min ({lo:g}) must be below max ({hi:g})", "range"))
    elif r is not None and ((lo is not None and r < lo) or (hi is not None and r > hi)):
        probs.append(("score_raw", r, f"result.score.raw must lie in min..max ({lo}..{hi})", "range"))
    return vals, probs
