"""The public entry point :func:`callaway_santanna` (Callaway & Sant'Anna 2021 group-time average treatment
effects for staggered adoption, following R ``did``'s ``att_gt`` and ``aggte``), the private :func:`_fit`
that tests use to force a route, and the assembly of the result with its standard errors and segments.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError, StatisticalWarning, check_option
from impactlab.estimators.callaway_santanna import data as fit
from impactlab.estimators.callaway_santanna import routes
from impactlab.estimators.callaway_santanna.cells import Cells, Design
from impactlab.estimators.callaway_santanna.influence import Dense, bootstrap, standard_errors
from impactlab.estimators.callaway_santanna.result import AggregateKind, CallawaySantAnnaResult
from impactlab.panel.panel import Panel
from impactlab.results.base import critical_value, freeze, inference_frame

__all__ = ["AggregateKind", "CallawaySantAnnaResult", "callaway_santanna"]

Control = Literal["never_treated", "not_yet_treated"]
Method = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]

EXCLUDED_COLUMNS = ("what", "id", "reason")


def _ledger(rows: list[tuple[str, Any, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows or {c: pd.Series(dtype="object") for c in EXCLUDED_COLUMNS},
                        columns=list(EXCLUDED_COLUMNS))


def _check_covariates(panel: Panel, covariates: Any) -> tuple[str, ...]:
    if covariates is None:
        return ()
    if isinstance(covariates, str):
        covariates = [covariates]
    covs = tuple(covariates)
    missing = [c for c in covs if c not in panel.covariates]
    if missing:
        raise PanelError(
            f"Covariates {missing} are not covariates of the panel. The panel's covariates are "
            f"{list(panel.covariates)}. Pass covariates=[...] when building the panel (Panel.from_frame or "
            "build_panel), or choose among the panel's covariates.")
    return tuple(dict.fromkeys(covs))


def _check_int(name: str, value: Any, low: int, what: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"The {name!r} parameter must be {'None or ' if allow_none else ''}{what}. "
                         f"Got {value!r} instead.")


def callaway_santanna(panel: Panel, *, control: Control = "never_treated", method: Method = "dr",
                      covariates: list[str] | tuple[str, ...] | None = None,
                      base_period: BasePeriod = "varying", anticipation: int = 0,
                      n_draws: int | None = None, seed: int | None = None,
                      level: float = 0.95, weights: str | None = None, allow_unbalanced: bool = False,
                      repeated_cross_sections: bool = False, by: str | None = None
                      ) -> CallawaySantAnnaResult:
    """Group-time average treatment effects of Callaway & Sant'Anna (2021).

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified. A unit's cohort is the first period it was treated.
    control : {"never_treated", "not_yet_treated"}
        Comparison units: the never treated, or also those not treated yet (by the later of the two periods
        compared, plus ``anticipation``).
    method : {"dr", "ipw", "reg"}
        2×2 estimator: doubly robust (Sant'Anna & Zhao 2020), normalised IPW or outcome regression (the same
        numbers without covariates).
    covariates : list of str, optional
        Panel covariates to condition on (taken at the base period, as R ``did`` does). ``None`` (default)
        means no covariates, even when the panel has some.
    base_period : {"varying", "universal"}
        ``varying``: pre-treatment ATT(g, t) compare t with t - 1 (R's default); ``universal``: every
        ATT(g, t) compares t with the last period before treatment, whose ATT is 0 by construction.
    anticipation : int
        Periods before treatment in which units may already react; the base period moves back accordingly.
    n_draws : int, optional
        Number of multiplier-bootstrap draws (Rademacher signs, as R ``did``; one per cluster when the panel
        has clusters). ``None``: analytic standard errors from the influence functions.
    seed : int, optional
        Seed of the bootstrap draws (recorded in ``spec['seed_used']``; one is drawn when ``None``).
    level : float
        Confidence level of the intervals of ``att_gt``.
    weights : str, optional
        Panel column with sampling weights (a panel covariate; one value per unit for panel data). Cohort
        shares and every 2×2 comparison are weighted, as R ``did``'s ``weightsname``.
    allow_unbalanced : bool
        ``False`` (default): only units observed in every period are used and the others are listed in
        ``.excluded``. ``True``: every observation is used, each ATT(g, t) from the units observed in its two
        periods with the repeated cross-section estimators, influence summed by unit (R ``did``
        ``allow_unbalanced_panel = TRUE``). A balanced panel gives the same numbers either way.
    repeated_cross_sections : bool
        Treat every row as a different individual (survey waves, pulse surveys): the repeated cross-section
        estimators of Sant'Anna & Zhao (2020), covariates taken in the row's own period (R ``did``
        ``panel = FALSE``).
    by : str, optional
        Panel column (a covariate or the cluster column, one value per unit) defining segments such as
        region or tenure band: each segment is also fitted on its own units, in the same call, and
        :meth:`~CallawaySantAnnaResult.by_segment` returns the effects per segment with their joint
        covariance and a Wald test that they are equal.

    Returns
    -------
    CallawaySantAnnaResult
        ``.att_gt``, ``.aggregate(kind)``, ``.estimate`` / ``.std_error`` (overall ATT), ``.excluded``...

    Raises
    ------
    EstimationError
        No never-treated units with ``control="never_treated"``, no usable units or periods, or singular
        covariates.
    PanelError
        A covariate, weights or ``by`` column not in the panel, or one that changes within a unit.

    Warns
    -----
    StatisticalWarning
        Units dropped (unbalanced, treated from the start), singleton or small cohorts, cells that could not
        be estimated, few clusters.

    Notes
    -----
    As R ``did``, ``.excluded`` lists what is left out, with the reason: units not observed in every period
    (by default), units treated within ``anticipation`` periods of the first, periods after the last
    cohort's treatment when no unit is never treated (that cohort is then only a comparison), and ATT(g, t)
    that cannot be estimated (R's ``aggte(na.rm = TRUE)``) or whose comparison units were trimmed at a
    propensity score of 0.995. A cohort of one unit is kept, as R keeps it, with a warning and a note: its
    standard errors cannot include that unit's own variability. Standard errors are clustered by unit, or
    by the panel's ``cluster`` column: ``se = sqrt(sum_c (sum_{i in c} psi_i)^2) / n``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from impactlab.panel.panel import Panel
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(6), 3), "t": np.tile([1, 2, 3], 6),
    ...                    "g": np.repeat([2, 2, 3, 3, 0, 0], 3)})
    >>> df["y"] = df["t"] + 2.0 * ((df["g"] > 0) & (df["t"] >= df["g"]))
    >>> res = callaway_santanna(Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"))
    >>> res.att_gt["estimate"].round(6).tolist()
    [2.0, 2.0, 0.0, 2.0]
    >>> round(res.estimate, 6)
    2.0
    """
    return _fit(panel, control=control, method=method, covariates=covariates, base_period=base_period,
                anticipation=anticipation, n_draws=n_draws, seed=seed, level=level, weights=weights,
                allow_unbalanced=allow_unbalanced, repeated_cross_sections=repeated_cross_sections, by=by)


def _fit(panel: Panel, *, control: Control = "never_treated", method: Method = "dr",
         covariates: list[str] | tuple[str, ...] | None = None, base_period: BasePeriod = "varying",
         anticipation: int = 0, n_draws: int | None = None, seed: int | None = None, level: float = 0.95,
         weights: str | None = None, allow_unbalanced: bool = False, repeated_cross_sections: bool = False,
         by: str | None = None, engine: str | None = None) -> CallawaySantAnnaResult:
    """:func:`callaway_santanna`, with ``engine`` the name of a route to force (None: the registry's)."""
    if not isinstance(panel, Panel):
        raise PanelError(f"callaway_santanna expects an impactlab Panel. Got {type(panel).__name__} instead. "
                         "Build one with Panel.from_frame(df, unit=..., time=..., outcome=..., cohort=...).")
    check_option("control", control, ("never_treated", "not_yet_treated"))
    check_option("method", method, ("dr", "ipw", "reg"))
    check_option("base_period", base_period, ("varying", "universal"))
    _check_int("anticipation", anticipation, 0, "a non-negative integer number of periods")
    _check_int("n_draws", n_draws, 2, "an integer number of draws >= 2 (e.g. 999)", allow_none=True)
    rcs = repeated_cross_sections
    for name, flag in (("allow_unbalanced", allow_unbalanced), ("repeated_cross_sections", rcs)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"The {name!r} parameter must be True or False. Got {flag!r} instead.")
    critical_value(level)
    covs = _check_covariates(panel, covariates)
    anticipation = int(anticipation)
    mode = "rcs" if rcs else ("unbalanced" if allow_unbalanced else "balanced")
    excluded: list[tuple[str, Any, str]] = []
    notes: list[str] = []
    data = fit.prepare(panel, covs=covs, weights=weights, anticipation=anticipation, control=control,
                       mode=mode, excluded=excluded, notes=notes, stacklevel=5)
    design = Design(control, method, base_period, anticipation, tuple(panel.periods), covs)
    cells = routes.estimate_cells(data, design, engine)
    excluded.extend(cells.ledger)
    if cells.names:
        msg = (f"{len(cells.names)} ATT(g,t) could not be estimated and were left out "
               f"({'; '.join(cells.names[:5])}{'…' if len(cells.names) > 5 else ''}); see .excluded")
        warnings.warn(msg, StatisticalWarning, stacklevel=3)
        notes.append(msg)
    spec = {"estimator": "callaway_santanna", "control": control, "method": method, "covariates": covs,
            "base_period": base_period, "anticipation": anticipation, "n_draws": n_draws, "seed": seed,
            "seed_used": None, "level": level, "weights": weights, "allow_unbalanced": allow_unbalanced,
            "repeated_cross_sections": rcs, "by": by,
            "freq": getattr(panel.periods[0], "freqstr", None) if len(panel.periods) else None,
            "data": {"balanced": "balanced panel", "unbalanced": "unbalanced panel",
                     "rcs": "repeated cross-sections"}[data.kind]}
    if n_draws:
        spec["seed_used"] = (int(seed) if seed is not None
                             else int(np.random.SeedSequence().generate_state(1)[0]))
    segments, segment_of = None, None
    if by is not None:
        segments, segment_of = _fit_segments(panel, data, by, spec, design, engine, excluded, notes)
    res = _result(data, cells, spec, excluded, notes, panel.outcome, level)
    if segments is not None:
        object.__setattr__(res, "by", by)
        object.__setattr__(res, "_segments", segments)
        object.__setattr__(res, "_segment_of", freeze(segment_of))  # set after construction: frozen here
    return res


def _result(data: fit.CsData, cells: Cells, spec: dict[str, Any], excluded: list[tuple[str, Any, str]],
            notes: list[str], outcome: str, level: float) -> CallawaySantAnnaResult:
    influence = cells.influence
    if data.cluster is not None:
        influence = Dense(influence.dense())  # cluster sums need the matrix
    table = cells.table
    group_idx = table["g"].to_numpy(dtype="int64")
    time_idx = table["t"].to_numpy(dtype="int64")
    crit_v: float | None = None
    if spec["n_draws"]:
        se, crit = bootstrap(influence, int(spec["n_draws"]), int(spec["seed_used"]), level, groups=data.gp,
                             cluster=data.cluster)
        crit_v = crit if np.isfinite(crit) else None
    else:
        se = standard_errors(influence, data.cluster)
    zero = (table["estimate"].to_numpy() == 0) & ~influence.nonzero_columns()
    se = np.where(zero, np.nan, se)
    inf_df = inference_frame(table["estimate"], se, level, crit=crit_v)
    periods = cells.periods
    att_gt = pd.DataFrame({
        "cohort": [periods[g - 1] for g in group_idx], "time": [periods[t - 1] for t in time_idx],
        "event_time": time_idx - group_idx, "estimate": table["estimate"].to_numpy(dtype="float64"),
        "std_error": se, **{c: inf_df[c].to_numpy() for c in inf_df.columns},
        "n_treated": table["n_treated"].to_numpy(), "n_control": table["n_control"].to_numpy(),
        "post": table["post"].to_numpy(dtype=bool)})
    ids = np.asarray(data.ids)
    ids.setflags(write=False)
    res = CallawaySantAnnaResult._create(
        {"att_gt": att_gt, "influence": influence, "group": group_idx, "time": time_idx,
         "unit_group": data.gp, "cluster": data.cluster, "periods": periods, "weights": data.weights,
         "engine": cells.route},
        unit_ids=ids, excluded=_ledger(excluded), spec=spec, n_units=data.n, n_periods=data.n_periods,
        outcome=outcome, crit=crit_v, notes=tuple(notes))
    object.__setattr__(res, "_simple", res.aggregate("simple", level=level))
    return res


def _fit_segments(panel: Panel, data: fit.CsData, by: str, spec: dict[str, Any], design: Design,
                  engine: str | None, excluded: list[tuple[str, Any, str]], notes: list[str]
                  ) -> tuple[dict[Any, CallawaySantAnnaResult], np.ndarray]:
    """One fit per value of ``by`` on the ids of ``data`` (analytic standard errors)."""
    col = fit.panel_column(panel, by, "by")
    long = panel.long()
    if spec["repeated_cross_sections"]:
        seg = long.loc[data.ids, col].to_numpy()
    else:
        per_unit = long.groupby("unit")[col].nunique()
        if (per_unit > 1).any():
            raise PanelError(f"The by= column {by!r} changes over time within units "
                             f"{list(per_unit.index[per_unit > 1][:10])}; segments need one value per unit.")
        seg = long.groupby("unit")[col].first().reindex(data.ids).to_numpy()
    out: dict[Any, CallawaySantAnnaResult] = {}
    sub_spec = {**spec, "n_draws": None, "seed_used": None, "by": None}
    for key in pd.unique(seg):
        keep = seg == key
        sub = data.subset(keep)
        try:
            if sub.glist.size == 0:
                raise EstimationError("no treated units in this segment")
            if not (sub.gp == 0).any() and design.control == "never_treated":
                raise EstimationError("no never-treated units in this segment")
            cells = routes.estimate_cells(sub, design, engine)
        except EstimationError as exc:
            excluded.append(("segment", key, f"segment {by}={key!r} not estimated: {exc}"))
            continue
        excluded.extend(("cell", (by, key, *c[1]), c[2]) for c in cells.ledger)
        out[key] = _result(sub, cells, dict(sub_spec), [], [], panel.outcome, spec["level"])
    if len(out) < 2:
        raise EstimationError(f"by={by!r}: fewer than two segments could be estimated ({list(out)}); "
                              "see the reasons in the error chain or choose a coarser segment column.")
    if len(out) < len(pd.unique(seg)):
        notes.append(f"{len(pd.unique(seg)) - len(out)} segments of {by!r} could not be estimated; "
                     "see .excluded")
    segment_of = np.asarray(seg, dtype=object)
    segment_of[~np.isin(seg, list(out))] = None
    return out, segment_of
