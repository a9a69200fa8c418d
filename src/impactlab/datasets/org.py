"""The :class:`Org` returned by :func:`impactlab.datasets.simulate_org`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from impactlab.datasets.truth import Truth
from impactlab.io.export import spreadsheet_safe

#: Tables written by :meth:`Org.to_csv`, in this order, as ``<name>.csv``.
TABLES = ("completions", "roster", "kpis", "assessments", "surveys", "observations", "costs")


@dataclass(frozen=True, repr=False, eq=False)
class Org:
    """A simulated organisation: raw-looking extracts plus the true effect of its training programme.

    Attributes
    ----------
    roster : DataFrame
        HR roster: ``Employee ID, Team, Region, Role, Manager ID, Hire Date, Termination Date``.
    completions : DataFrame
        Cornerstone-style transcript: ``User ID, Training Title, Transcript Status, Transcript Assigned
        Date, Transcript Completed Date, Training Hours, Score``.
    assessments, surveys, observations : DataFrame
        Kirkpatrick level 2 (pre/post tests), level 1 (reaction survey, long) and level 3 (manager
        ratings at baseline and 30/60/90 days) data.
    kpis : DataFrame
        Monthly KPIs per employee while employed: ``employee_id, month, <outcome>, deals``; a few stray
        rows fall outside employment (the panel builder drops them with a reason).
    costs : DataFrame
        Phillips cost categories: ``program, category, amount, currency``.
    program, outcome : str
        The names to pass to :func:`impactlab.build_panel`.
    spec : Mapping
        The arguments of :func:`~impactlab.datasets.simulate_org` that made this organisation (written to
        ``truth.json`` under ``"params"``).
    truth : Truth
        The true effects (see :class:`Truth`).
    potential_outcomes : DataFrame
        The simulation's hidden side, for checks: ``employee_id, month`` (Period), ``y0``, ``y1``,
        ``employed``, ``cohort`` (Period or NaT), every employee and month of the window. Not written
        by :meth:`to_csv` (``truth.json`` carries the effects).
    """

    roster: pd.DataFrame
    completions: pd.DataFrame
    assessments: pd.DataFrame
    surveys: pd.DataFrame
    observations: pd.DataFrame
    kpis: pd.DataFrame
    costs: pd.DataFrame
    program: str
    outcome: str
    spec: Mapping[str, Any]
    truth: Truth
    potential_outcomes: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """The raw tables by name (the frames themselves, not copies)."""
        return {name: getattr(self, name) for name in TABLES}

    def to_csv(self, directory: str | Path) -> dict[str, Path]:
        """Write every table as ``<name>.csv`` and the truth as ``truth.json``.

        Parameters
        ----------
        directory : str or Path
            Created if missing; existing files of the same names are overwritten.

        Returns
        -------
        dict of str to Path
            The path of each file written, keyed by table name (and ``"truth"``).

        Examples
        --------
        >>> import tempfile, impactlab as il
        >>> org = il.datasets.simulate_org(n_employees=200, n_periods=18, seed=1)
        >>> paths = org.to_csv(tempfile.mkdtemp())
        >>> sorted(p.name for p in paths.values())[:3]
        ['assessments.csv', 'completions.csv', 'costs.csv']
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for name, frame in self.tables().items():
            path = out / f"{name}.csv"
            spreadsheet_safe(frame).to_csv(path, index=False, lineterminator="\n")
            paths[name] = path
        path = out / "truth.json"
        record = {**self.truth.to_dict(), "params": dict(self.spec)}
        path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        paths["truth"] = path
        return paths

    def __repr__(self) -> str:
        n_trained = int(self.truth.att_gt.drop_duplicates("cohort")["n_cohort"].sum())
        return (f"Org({len(self.roster)} employees, {len(self.kpis)} KPI rows, programme {self.program!r} "
                f"with {n_trained} trained in {len(self.truth.by_cohort)} cohorts, "
                f"true overall effect on {self.outcome!r} {self.truth.overall:,.2f})")
