"""The registry of routes that compute the ATT(g, t) of a fit, each declaring what it supports, and the
one place where a fit chooses among them. Routes give the same numbers to rounding; one that cannot
reproduce a fit exactly declines it (returns ``None``) and the cell-by-cell route, which supports
everything, explains in the ledger whatever cannot be estimated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from impactlab.estimators.callaway_santanna import by_cell, covariates, moments, unbalanced, unbalanced_cov
from impactlab.estimators.callaway_santanna.cells import Cells, Design
from impactlab.estimators.callaway_santanna.data import CsData


@dataclass(frozen=True)
class Route:
    """A way to compute the cells: the kinds of data it takes (``balanced``, ``unbalanced``, ``rcs``),
    whether it needs (True), refuses (False) or takes either (None) covariates, and whether it takes
    sampling weights. Every route takes clusters and every method."""

    name: str
    fit: Callable[[CsData, Design], Cells | None]
    kinds: tuple[str, ...]
    covariates: bool | None
    weights: bool
    methods: tuple[str, ...] = ("dr", "ipw", "reg")

    def supports(self, data: CsData, design: Design) -> bool:
        return (data.kind in self.kinds and design.method in self.methods
                and self.covariates in (None, bool(design.covs)) and (self.weights or data.weights is None))


ROUTES: dict[str, Route] = {r.name: r for r in (
    Route("moments", moments.fit, ("balanced",), covariates=False, weights=True),
    Route("covariates", covariates.fit, ("balanced",), covariates=True, weights=True),
    Route("unbalanced", unbalanced.fit, ("unbalanced",), covariates=False, weights=False),
    Route("unbalanced_covariates", unbalanced_cov.fit, ("unbalanced", "rcs"), covariates=True, weights=False),
    Route("by_cell", by_cell.fit, ("balanced", "unbalanced", "rcs"), covariates=None, weights=True),
)}


def estimate_cells(data: CsData, design: Design, engine: str | None = None) -> Cells:
    """Every ATT(g, t) of ``data``: by the first supporting route that does not decline, or by ``engine``
    (a name of :data:`ROUTES`) when given; a declined fit falls to the cell-by-cell route."""
    if engine is None:
        candidates = [r for r in ROUTES.values() if r.supports(data, design)]
    elif engine not in ROUTES:
        raise ValueError(f"The 'engine' parameter must be None or one of {list(ROUTES)}. "
                         f"Got {engine!r} instead.")
    elif not ROUTES[engine].supports(data, design):
        raise ValueError(f"The {engine!r} route does not support this fit ({data.kind} data, "
                         f"{'with' if design.covs else 'no'} covariates, method {design.method!r}, "
                         f"{'with' if data.weights is not None else 'no'} weights).")
    else:
        candidates = [ROUTES[engine]]
    for route in candidates:
        cells = route.fit(data, design)
        if cells is not None:
            return cells
    return by_cell.fit(data, design)
