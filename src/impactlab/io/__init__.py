"""The readers: raw sources (CSV/TSV, JSON, JSON Lines, Parquet, xlsx, SQL, xAPI statements, DataFrames)
into validated canonical :class:`Table` objects that keep every bad row in ``.rejected`` with its reason
(or raise one :class:`~impactlab.errors.DataError` listing every failure with ``errors="raise"``), so that
``rows_read == len(frame) + rejected["source_row"].nunique()``; the rules are in ``docs/explanation.md``,
"Reading exports".
"""

from impactlab.io.export import spreadsheet_safe, write_table
from impactlab.io.identity import Crosswalk, read_ids
from impactlab.io.kpis import read_kpis
from impactlab.io.large import Scan, scan_completions, scan_kpis
from impactlab.io.lrs import LRS, LRSError, LRSPull
from impactlab.io.presets import PRESETS, Preset, get_preset
from impactlab.io.readers import (
    ReadOptions,
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
    "ReadOptions",
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
    "spreadsheet_safe",
    "write_table",
]
