"""Matching raw headers onto canonical columns (the user's ``columns=``, then the preset, then the canonical
name and its synonyms, then the same without a section prefix; unmatched headers become snake_case extra
columns); the rules are in ``docs/explanation.md``, "Reading exports".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from impactlab.errors import DataError, Failure
from impactlab.schemas.tables import ColumnSpec
from impactlab.schemas.vocab import normalise_key

_PREFIX = re.compile(r"^[^-]+?\s+-\s+(.+)$")


def snake_case(name: str) -> str:
    """``"Manager ID"`` -> ``"manager_id"``; empty names become ``"column"``."""
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return normalise_key(s).replace(" ", "_") or "column"


@dataclass(frozen=True)
class ColumnMatch:
    """Result of header matching.

    Attributes
    ----------
    canonical : dict
        canonical column -> raw header.
    extras : dict
        raw header -> snake_case output name, for headers not matched.
    """

    canonical: dict[str, str]
    extras: dict[str, str]


def _resolve_user_map(
    raw_columns: Sequence[str], mapping: Mapping[str, str], *, what: str, strict: bool, source: str | None
) -> dict[str, str]:
    """canonical -> raw for a {raw: canonical} map; unknown raw headers raise when ``strict``."""
    by_key: dict[str, str] = {}
    for r in raw_columns:
        by_key.setdefault(normalise_key(r), r)
    out: dict[str, str] = {}
    for raw, canon in mapping.items():
        hit = raw if raw in raw_columns else by_key.get(normalise_key(raw))
        if hit is None:
            if strict:
                raise DataError(
                    f"{what} names the header {raw!r}, which is not in the input",
                    source=source,
                    failures=[Failure(None, raw, None, "header not found")],
                    hint=f"headers seen: {list(raw_columns)}",
                )
            continue
        out.setdefault(canon, hit)
    return out


def match_columns(
    raw_columns: Sequence[str],
    specs: Sequence[ColumnSpec],
    *,
    columns: Mapping[str, str] | None = None,
    preset_columns: Mapping[str, str] | None = None,
    source: str | None = None,
) -> ColumnMatch:
    """Match ``raw_columns`` onto ``specs`` (rules: docs/explanation.md, "Reading exports")."""
    raw_columns = [str(c) for c in raw_columns]
    canonical: dict[str, str] = {}
    names = {s.name for s in specs}
    if columns:
        bad = {c for c in columns.values() if c not in names}
        if bad:
            allowed = ", ".join(repr(n) for n in sorted(names))
            raise ValueError(
                f"The 'columns' parameter maps onto {sorted(bad)!r}, which are not columns of "
                f"this table. Allowed targets: {allowed}."
            )
        canonical.update(_resolve_user_map(raw_columns, columns, what="columns=", strict=True, source=source))
    if preset_columns:
        for canon, raw in _resolve_user_map(
            raw_columns, preset_columns, what="the preset", strict=False, source=source
        ).items():
            if canon in names and canon not in canonical and raw not in canonical.values():
                canonical[canon] = raw
    for use_prefix in (False, True):
        for spec in specs:
            if spec.name in canonical or spec.derived:
                continue
            keys = [normalise_key(spec.name)] + [normalise_key(s) for s in spec.synonyms]
            taken = set(canonical.values())
            best: tuple[int, list[str]] | None = None
            for raw in raw_columns:
                if raw in taken:
                    continue
                key = normalise_key(raw)
                if use_prefix:
                    m = _PREFIX.match(raw)
                    if m is None:
                        continue
                    key = normalise_key(m.group(1))
                if key in keys:
                    rank = keys.index(key)
                    if best is None or rank < best[0]:
                        best = (rank, [raw])
                    elif rank == best[0]:
                        best[1].append(raw)
            if best is None:
                continue
            if len(best[1]) > 1:
                raise DataError(
                    f"several headers could be the column {spec.name!r}: {best[1]}",
                    source=source,
                    failures=[Failure(None, r, None, f"also matches {spec.name!r}") for r in best[1]],
                    hint=f"say which one with columns={{{best[1][0]!r}: {spec.name!r}}}",
                )
            canonical[spec.name] = best[1][0]
    used = set(canonical.values())
    extras: dict[str, str] = {}
    out_names = set(names) | {"source_row"}
    for raw in raw_columns:
        if raw in used:
            continue
        name = base = snake_case(raw)
        k = 2
        while name in out_names:
            name = f"{base}_{k}"
            k += 1
        out_names.add(name)
        extras[raw] = name
    return ColumnMatch(canonical=canonical, extras=extras)
