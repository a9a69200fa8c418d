"""What the Kirkpatrick level 1-3 results share: freezing, their table, notebook view and explanation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from impactlab.results.base import ReportedRows, frame_html, freeze_fields


class LevelResult(ReportedRows):
    """A Kirkpatrick level result (mixin): ``.table`` is the attribute named by ``_TABLE``, the notebook
    view shows it under ``_TITLE``, and ``explain()`` describes the headline as a description of the
    participants, not an effect. A class adds ``_explain_parts()`` (name, what the headline is, caution)."""

    _TABLE: ClassVar[str]
    _TITLE: ClassVar[str]
    spec: Mapping[str, Any]

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    @property
    def table(self) -> pd.DataFrame:
        """The level's main table (see the class notes)."""
        return getattr(self, self._TABLE)

    def _keys(self) -> list[str]:
        """The grouping columns of the tables: ``program`` and those of ``by=``."""
        return ["program", *self.spec.get("by", [])]

    def _title(self) -> str:
        return self._TITLE

    def _repr_html_(self) -> str:
        return frame_html(self.table, self._TITLE, self._html_lines()[:1])

    def explain(self, level: float = 0.95) -> Any:
        """What the level's numbers show, in plain language (an :class:`~impactlab.results.explain.
        Explanation`)."""
        from impactlab.results.explain import explain_level

        return explain_level(self, level)
