"""Readers: raw sources (CSV/TSV, JSON, JSON Lines, Parquet, xlsx, DataFrames) -> validated canonical
:class:`Table` objects.

Every reader keeps the good rows, puts each bad one in ``.rejected`` with its reason (or raises one
:class:`~impactlab.errors.DataError` listing every failure with ``errors="raise"``), and keeps the invariant
``rows_read == len(frame) + rejected["source_row"].nunique()``.
"""

from impactlab.io.identity import Crosswalk, read_ids
from impactlab.io.kpis import read_kpis
from impactlab.io.large import Scan, scan_completions, scan_kpis
from impactlab.io.lrs import LRS, LRSError, LRSPull
from impactlab.io.presets import PRESETS, Preset, get_preset
from impactlab.io.readers import (
    read_assessments,
    read_completions,
    read_costs,
    read_observations,
    read_roster,
    read_surveys,
)
from impactlab.io.sql import read_sql
from impactlab.io.table import Table
from impactlab.io.xapi import XapiTables, read_xapi

__all__ = [
    "Crosswalk",
    "LRS",
    "LRSError",
    "LRSPull",
    "PRESETS",
    "Preset",
    "Scan",
    "Table",
    "XapiTables",
    "get_preset",
    "read_assessments",
    "read_completions",
    "read_costs",
    "read_ids",
    "read_kpis",
    "read_observations",
    "read_roster",
    "read_sql",
    "read_surveys",
    "read_xapi",
    "scan_completions",
    "scan_kpis",
]
