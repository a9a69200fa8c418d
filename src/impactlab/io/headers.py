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


def _letters(i: int) -> str:
    """Spreadsheet letters of the 0-based column ``i`` (0 -> A, 26 -> AA)."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def repeated_headers(names: Sequence[str], written: Sequence[str], columns: Mapping[str, str] | None) -> list[
        list[int]]:
    """Groups of column positions whose headers are the same after ``normalise_key`` (``Score`` twice, or
    ``Score`` and ``score ``) and that ``columns=`` does not tell apart (it names all but one of them by
    their read names, such as ``Score (2)``)."""
    written = list(written) or list(names)
    found: dict[str, list[int]] = {}
    for i, w in enumerate(written):
        if key := normalise_key(w):
            found.setdefault(key, []).append(i)
    named = set(columns or ())
    out = []
    for group in (g for g in found.values() if len(g) > 1):
        chosen = [i for i in group if names[i] in named and sum(written[j] == names[i] for j in group) <= 1]
        if len(chosen) < len(group) - 1:
            out.append(group)
    return out


def refuse_repeated(
    group: list[int], names: Sequence[str], written: Sequence[str], canonical: str, source: str | None
) -> DataError:
    """The error for a group of :func:`repeated_headers` one of which would be read as ``canonical``."""
    written = list(written) or list(names)
    files = source not in (None, "<DataFrame>")
    where = [f"{i + 1} ({_letters(i)})" if files else str(i + 1) for i in group]
    shown = ", ".join(repr(written[i]) for i in group)
    same = "identical" if len({written[i] for i in group}) == 1 else "the same once case, spaces and " \
        "punctuation are ignored"
    return DataError(
        f"columns {', '.join(where[:-1])} and {where[-1]} have headers that are {same} ({shown}), and one "
        f"of them would be read as the column {canonical!r}; taking the first would be a guess",
        source=source,
        failures=[Failure(None, names[i], None, f"column {w}: header {written[i]!r}") for i, w in
                  zip(group, where, strict=True)],
        hint=f"rename the headers in the file so that they differ, or say which column is meant: they are "
        f"read under the names {[names[i] for i in group]}, e.g. columns={{{names[group[-1]]!r}: "
        f"{canonical!r}}}",
    )
