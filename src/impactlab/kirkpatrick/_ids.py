"""The employee ids of two Kirkpatrick tables joined by the id rule of :func:`impactlab.build_panel`
(:func:`~impactlab.io.identity.match_ids`: ids written as every reader writes them, then leading zeros of a
digits-only id and case ignored while no table tells such ids apart), and the ids that match nothing named
in a :class:`~impactlab.errors.DataQualityWarning`."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from impactlab.errors import DataQualityWarning
from impactlab.io.identity import apply_id_map, match_ids
from impactlab.io.values import as_id, map_values


def as_ids(values: Any) -> pd.Series:
    """Ids as the readers write them (``1234.0`` -> ``"1234"``, spaces stripped), missing kept missing."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    out = map_values(s.astype(object), as_id)
    return pd.Series(out, index=s.index, dtype=object)


def _shown(ids: list[str], n: int = 5) -> str:
    return ", ".join(repr(i) for i in ids[:n]) + (f" and {len(ids) - n} more" if len(ids) > n else "")


def align_ids(reference: pd.Series, other: pd.Series, *,
              names: tuple[str, str]) -> tuple[pd.Series, list[str]]:
    """``other``'s ids written as ``reference`` writes them, and what was done, one sentence each: ids
    matched by the rule (leading zeros, case) and ids left apart because a table tells such ids apart.
    ``names`` are the two tables' names as the sentences give them."""
    ref, oth = as_ids(reference), as_ids(other)
    m = match_ids({names[0]: ref, names[1]: oth}, reference=names[0])
    mapped = apply_id_map(oth, m.maps[names[1]])
    said = []
    hit = m.ledger[m.ledger["matched_to"].notna()]
    if len(hit):
        pairs = [f"{a!r} -> {b!r}" for a, b in zip(hit["id"], hit["matched_to"], strict=True)]
        said.append(f"{len(hit)} id(s) of the {names[1]} matched to those of the {names[0]} ignoring leading "
                    f"zeros or case (as build_panel does): {_shown(pairs)}")
    apart = m.ledger[m.ledger["matched_to"].isna()]
    if len(apart):
        said.append(f"{len(apart)} id(s) of the {names[1]} not matched by the rule: "
                    f"{apart['reason'].iloc[0]}")
    return mapped, said


def warn_unmatched(ids: list[str], what: str, stacklevel: int = 3) -> str | None:
    """Warn (and return the sentence) naming ``ids`` that matched nothing; None when there are none."""
    if not ids:
        return None
    text = f"{len(ids)} {what}: {_shown(sorted(ids, key=str), 10)}"
    warnings.warn(text, DataQualityWarning, stacklevel=stacklevel + 1)
    return text
