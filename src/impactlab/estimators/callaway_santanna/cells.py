"""The design of a Callaway–Sant'Anna fit: its ATT(g, t) cells, the base period and the comparison group of
each (both rules written here once, used by every route), and the table a route fills with the cells it
estimates and the ledger of those it leaves out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError

#: (kind, what, reason) rows of ``.excluded``
Ledger = list[tuple[str, Any, str]]


@dataclass(frozen=True)
class Cell:
    """ATT(g, t): cohort ``g`` (1-based period of first treatment) at period ``t``, against ``base``."""

    g: int
    t: int
    base: int

    @property
    def post(self) -> bool:
        return self.g <= self.t


@dataclass(frozen=True)
class Design:
    """The options that define the cells of a fit (see :func:`~impactlab.callaway_santanna`)."""

    control: str
    method: str
    base_period: str
    anticipation: int
    periods: tuple[Any, ...]
    covs: tuple[str, ...] = ()

    def cells(self, glist: np.ndarray, n_periods: int) -> Iterator[Cell]:
        """Every cell of the cohorts ``glist``, cohort by cohort, in period order. The base period (R
        ``did``): ``g − 1 − anticipation`` after treatment or with a universal base period, else ``t − 1``."""
        varying = self.base_period == "varying"
        for g in glist:
            g = int(g)
            for t in range(1 + varying, n_periods + 1):
                yield Cell(g, t, g - 1 - self.anticipation if (g <= t or not varying) else t - 1)

    def comparison(self, cohorts: np.ndarray, cell: Cell) -> np.ndarray:
        """Which ``cohorts`` (0 = never treated) compare with the cell's cohort: the never treated, or also
        those not yet treated by ``max(t, base)`` plus the anticipation window."""
        if self.control == "never_treated":
            return cohorts == 0
        return (cohorts == 0) | ((cohorts > max(cell.t, cell.base) + self.anticipation) & (cohorts != cell.g))

    def walk(self, table: CellTable, glist: np.ndarray, n_periods: int, cohorts: np.ndarray,
             sizes: np.ndarray) -> Iterator[tuple[Cell, np.ndarray, int, int]]:
        """The cells a route must estimate, with their comparison mask on ``cohorts`` (distinct cohorts of
        ``sizes`` units each) and the numbers of treated and comparison units. The reference cell of a
        cohort (base = t, ATT 0) and cells without comparison units are entered in ``table`` here."""
        for cell in self.cells(glist, n_periods):
            ctrl = self.comparison(cohorts, cell)
            n_t, n_c = int(sizes[cohorts == cell.g].sum()), int(sizes[ctrl].sum())
            if cell.base == cell.t:
                table.add(cell, n_t, n_c, 0.0)
            elif n_c == 0:
                table.skip(cell, "no comparison units")
            else:
                yield cell, ctrl, n_t, n_c


def trimmed_note(n_trim: int) -> str:
    """The ledger's reason for a cell whose comparison observations were trimmed."""
    return (f"propensity score trimmed: {n_trim} comparison observations with a score of 0.995 or more got "
            "zero weight")


@dataclass(frozen=True)
class Cells:
    """What a route returns: the cell table (g, t, post, n_treated, n_control, estimate), the influence
    functions (an :class:`~.influence.Influence`), the ledger, the names of the cells left out, the route
    and the periods."""

    table: pd.DataFrame
    influence: Any
    ledger: Ledger
    names: list[str]
    route: str
    periods: tuple[Any, ...]


class CellTable:
    """The cells a route estimates, in the order of :meth:`Design.cells`, and the ledger of the others."""

    def __init__(self, periods: tuple[Any, ...]) -> None:
        self.periods = periods
        self.rows: list[dict[str, Any]] = []
        self.ledger: Ledger = []
        self.names: list[str] = []

    def __len__(self) -> int:
        return len(self.rows)

    def key(self, cell: Cell) -> tuple[Any, Any]:
        return self.periods[cell.g - 1], self.periods[cell.t - 1]

    def add(self, cell: Cell, n_t: int, n_c: int, estimate: float) -> int:
        """Enter an estimated cell; returns its column."""
        self.rows.append({"g": cell.g, "t": cell.t, "post": cell.post, "n_treated": n_t, "n_control": n_c,
                          "estimate": estimate})
        return len(self.rows) - 1

    def skip(self, cell: Cell, reason: str) -> None:
        self.note(cell, reason)
        self.names.append("cohort {}, time {}".format(*self.key(cell)))

    def note(self, cell: Cell, reason: str) -> None:
        self.ledger.append(("cell", self.key(cell), reason))

    def fit(self, cell: Cell, n_t: int, n_c: int, fit: Callable[..., tuple[float, np.ndarray, int]],
            args: tuple[Any, ...]) -> tuple[int, np.ndarray] | None:
        """Enter a cell fitted by ``fit(*args) -> (att, influence, n_trimmed)``; returns (column, influence),
        or None when it cannot be estimated (the reason then in the ledger)."""
        try:
            att, psi, n_trim = fit(*args)
        except EstimationError as exc:
            self.skip(cell, str(exc))
            return None
        if not np.isfinite(att):
            self.skip(cell, "the estimate is not finite")
            return None
        if n_trim:
            self.note(cell, trimmed_note(n_trim))
        return self.add(cell, n_t, n_c, att), psi

    def result(self, influence: Any, route: str) -> Cells:
        at = {p: i for i, p in enumerate(self.periods)}  # the ledger in cell order
        ledger = sorted(self.ledger, key=lambda e: (at[e[1][0]], at[e[1][1]]))
        return Cells(pd.DataFrame(self.rows), influence, ledger, self.names, route, self.periods)
