"""The :class:`Org` returned by :func:`impactlab.datasets.simulate_org`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from impactlab.datasets.truth import Truth
from impactlab.io.export import spreadsheet_safe

if TYPE_CHECKING:
    from impactlab.panel import Panel

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
        by :meth:`to_csv` (``truth.json`` carries the effects). With ``simulate_org(programs=...)``,
        ``y0`` is the outcome without any programme and ``y1`` that with ``program`` alone.
    truths : Mapping
        Programme title -> :class:`Truth` of that programme's own effect: ``program`` (its ``truth``)
        first, then each of ``simulate_org(programs=...)``.
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
    truths: Mapping[str, Truth] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The raw tables by name (the frames themselves, not copies)."""
        return {name: getattr(self, name) for name in TABLES}

    def panel(self, **kwargs: Any) -> Panel:
        """The employee × month panel of this organisation, with its true effect attached.

        Reads the KPIs, completions and roster with the readers' defaults (:func:`impactlab.read_kpis`,
        :func:`impactlab.read_completions`, :func:`impactlab.read_roster`) and builds the panel with
        :func:`impactlab.build_panel` for ``program`` and ``outcome``, the roster and ``truth``: the same
        panel as those four calls written out.

        Parameters
        ----------
        **kwargs
            Passed on to :func:`impactlab.build_panel` (``cluster="team"``, ``covariates=[...]``,
            ``dose=["hours"]``...). ``program``, ``outcome``, ``roster`` and ``truth`` may be given too;
            the truth attached by default is this organisation's (the effect of ``program`` on
            ``outcome``), and none for another programme or outcome.

        Returns
        -------
        Panel
            A new panel; the organisation's tables are not modified. Rows the panel leaves out are in
            ``panel.dropped`` with their reasons, as :func:`impactlab.build_panel` keeps them.

        Examples
        --------
        >>> import impactlab as il
        >>> org = il.datasets.simulate_org(n_employees=200, n_periods=18, seed=1)
        >>> panel = org.panel(cluster="team")
        >>> panel.truth is org.truth, panel.cluster
        (True, 'team')
        """
        from impactlab.io import read_completions, read_kpis, read_roster
        from impactlab.panel import build_panel

        program = kwargs.pop("program", self.program)
        kwargs.setdefault("outcome", self.outcome)
        own = program == self.program and kwargs["outcome"] == self.outcome
        kwargs.setdefault("truth", self.truth if own else None)
        if "roster" not in kwargs:
            kwargs["roster"] = read_roster(self.roster)
        return build_panel(read_kpis(self.kpis), read_completions(self.completions), program=program,
                           **kwargs)

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
