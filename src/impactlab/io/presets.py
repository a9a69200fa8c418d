"""Vendor presets: per-LMS header and status maps that sit on top of the default matching.

A preset is consulted after the user's own ``columns=``/``status_map=`` and before the default synonyms of
:mod:`impactlab.schemas.tables`. Only ``None`` (no preset) is registered for now; vendor presets
(cornerstone, workday, successfactors, docebo, moodle) are added to :data:`PRESETS` by a later change, and
the readers pick them up without other edits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from impactlab.errors import check_option


@dataclass(frozen=True)
class Preset:
    """Header and status maps of one LMS export layout.

    Attributes
    ----------
    name : str
        The preset's name as passed to ``preset=``.
    columns : mapping of table kind to {raw header: canonical column}
        Raw headers are matched case-, space- and punctuation-insensitively.
    status_map : mapping of raw status to canonical status
        Extends (and overrides) the default status map for completions.
    """

    name: str
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    status_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def columns_for(self, kind: str) -> Mapping[str, str]:
        """The header map of table ``kind`` (empty when the preset has none)."""
        return self.columns.get(kind, {})


NO_PRESET = Preset("none")

#: Registered presets by the name users pass; ``None`` means the default matching only.
PRESETS: dict[str | None, Preset] = {None: NO_PRESET}


def get_preset(preset: str | None) -> Preset:
    """The :class:`Preset` named ``preset``; ``ValueError`` listing the valid names otherwise."""
    check_option("preset", preset, tuple(PRESETS))
    return PRESETS[preset]
