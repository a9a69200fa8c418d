"""Callaway & Sant'Anna (2021) group-time average treatment effects for staggered adoption.

``callaway_santanna(panel)`` estimates one ATT(g, t) per cohort g (units first treated in period g) and
period t, each from a 2×2 comparison of that cohort with units not (yet) treated, and aggregates them into
an overall effect, effects by cohort, by time since treatment (an event study) or by calendar period. Unlike
the two-way fixed-effects regression it never uses already-treated units as controls, so effects that grow
over time do not bias it (Goodman-Bacon 2021).

Reference: Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-differences with multiple time
periods", *Journal of Econometrics* 225(2), 200–230. The choices of base period, comparison group,
anticipation, influence-function scaling (``n / n_gt``), standard errors and aggregations follow the R
package ``did`` (``att_gt`` and ``aggte``) so that results agree with it to numerical precision; the 2×2
estimators are in :mod:`impactlab.estimators.drdid`.

Time is measured in positions of the ordered observed periods (1, 2, …, T), so uneven spacing is handled:
event time ``e = period - cohort_period`` counts observed periods, and ``anticipation`` is a number of
periods.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError, StatisticalWarning, check_option
from impactlab.estimators import _cs_aggregate as agg
from impactlab.estimators.drdid import dr_did_panel, ipw_did_panel, logit_fit, reg_did_panel
from impactlab.panel.panel import Panel
from impactlab.results.base import (
    TIDY_COLUMNS,
    EffectResult,
    _fmt,
    critical_value,
    frame_html,
    inference_frame,
)

__all__ = ["CallawaySantAnnaResult", "callaway_santanna"]

Control = Literal["never_treated", "not_yet_treated"]
Method = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
AggregateKind = Literal["simple", "group", "dynamic", "calendar"]

_ESTIMATORS = {"dr": dr_did_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}
#: Overlap check before a propensity-score fit (R ``did``): a cell whose largest score reaches this is
#: skipped.
OVERLAP_MAX = 0.999
#: Fewer clusters than this triggers a warning that cluster-robust inference is unreliable.
FEW_CLUSTERS = 20
ATT_GT_COLUMNS = ("cohort", "time", "event_time", "estimate", "std_error", "statistic", "p_value",
                  "conf_low", "conf_high", "n_treated", "n_control", "post")
EXCLUDED_COLUMNS = ("what", "id", "reason")


# ---------------------------------------------------------------------------------------------- the result
@dataclass(frozen=True, repr=False, eq=False)
class CallawaySantAnnaResult:
    """Group-time ATTs of :func:`callaway_santanna` and their aggregations.

    Attributes
    ----------
    influence : ndarray, shape (n_units, n_cells)
        Influence function of each ATT(g, t) (columns in the row order of :attr:`att_gt`), one row per unit
        in :attr:`unit_ids`; scaled so that ``se = sqrt(sum(psi**2)) / n_units``. Read-only.
    unit_ids : ndarray
        The units used, in the row order of :attr:`influence`.
    excluded : DataFrame
        Units, periods and cells left out, with ``what``, ``id`` and ``reason``.
    spec : dict
        The arguments of the fit.
    n_units : int
        Units used.
    n_periods : int
        Periods used.
    outcome : str
        Name of the outcome.
    crit : float or None
        Uniform critical value of the bootstrap band for ATT(g, t) (``None`` without bootstrap).
    notes : tuple of str
        Caveats worth reading.
    """

    _att_gt: pd.DataFrame
    influence: np.ndarray
    unit_ids: np.ndarray
    excluded: pd.DataFrame
    spec: dict[str, Any]
    n_units: int
    n_periods: int
    outcome: str
    crit: float | None
    notes: tuple[str, ...]
    _group: np.ndarray
    _time: np.ndarray
    _unit_group: np.ndarray
    _cluster: np.ndarray | None
    _periods: tuple[Any, ...]
    _simple: EffectResult | None = field(default=None)

    # -------------------------------------------------------------------------- tables
    @property
    def att_gt(self) -> pd.DataFrame:
        """The group-time ATTs (a copy), one row per cohort and period.

        Columns: ``cohort`` and ``time`` (the panel's period values; the cohort is the first observed period
        on or after treatment), ``event_time`` (in observed periods), ``estimate``, ``std_error``,
        ``statistic``, ``p_value``, ``conf_low``, ``conf_high`` (uniform band when bootstrapped),
        ``n_treated``, ``n_control``, ``post``.
        """
        return self._att_gt.copy()

    def _get_simple(self) -> EffectResult:
        if self._simple is None:  # pragma: no cover - always set by callaway_santanna
            return self.aggregate("simple")
        return self._simple

    @property
    def estimate(self) -> float:
        """The overall ATT (the ``simple`` aggregation)."""
        return self._get_simple().estimate

    @property
    def std_error(self) -> float:
        """Standard error of :attr:`estimate`."""
        return self._get_simple().std_error

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the overall ATT at ``level``."""
        return self._get_simple().conf_int(level)

    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """ATT(g, t) as a tidy frame: term, estimate, std_error, statistic, p_value, conf_low, conf_high,
        cohort, time, event_time, method.

        ``level`` recomputes pointwise intervals at another level; by default the intervals of the fit.
        """
        at = self._att_gt
        out = at[["estimate", "std_error"]].copy()
        if level is None:
            out = pd.concat([out, at[["statistic", "p_value", "conf_low", "conf_high"]]], axis=1)
        else:
            out = pd.concat([out, inference_frame(at["estimate"], at["std_error"], level)], axis=1)
        pairs = zip(at["cohort"], at["time"], strict=True)
        out.insert(0, "term", [f"ATT({_fmt(g)}, {_fmt(t)})" for g, t in pairs])
        out["cohort"] = at["cohort"].to_numpy()
        out["time"] = at["time"].to_numpy()
        out["event_time"] = at["event_time"].to_numpy()
        out["method"] = "callaway_santanna"
        return out[list(TIDY_COLUMNS) + ["cohort", "time", "event_time", "method"]].reset_index(drop=True)

    def summary(self) -> str:
        """Plain-text summary: the overall ATT, the set-up and the ATT(g, t) table."""
        s = self._get_simple()
        lo, hi = s.conf_int(self.spec["level"])
        lines = [
            f"Callaway–Sant'Anna group-time ATTs on {self.outcome}",
            f"  comparison: {self.spec['control']}, method: {self.spec['method']}, base period: "
            f"{self.spec['base_period']}, anticipation: {self.spec['anticipation']}, covariates: "
            f"{list(self.spec['covariates']) or 'none'}",
            f"  overall ATT {_fmt(s.estimate)} (std. error {_fmt(s.std_error)}, "
            f"{self.spec['level']:.0%} CI {_fmt(lo)} to {_fmt(hi)})",
            f"  {self.n_units:,} units × {self.n_periods} periods, {len(self._att_gt)} ATT(g,t) cells",
        ]
        if len(self.excluded):
            lines.append(f"  excluded: {len(self.excluded)} (see .excluded)")
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(self.tidy().drop(columns=["method"]).to_string(index=False))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        s = self._get_simple()
        lo, hi = s.conf_int(self.spec["level"])
        lines = [f"Overall ATT = {_fmt(s.estimate)} (SE {_fmt(s.std_error)}, {self.spec['level']:.0%} CI "
                 f"{_fmt(lo)} to {_fmt(hi)}); {self.n_units:,} units × {self.n_periods} periods; comparison "
                 f"{self.spec['control']}, method {self.spec['method']}"]
        if len(self.excluded):
            lines.append(f"{len(self.excluded)} excluded (see .excluded)")
        lines += [f"Note: {n}" for n in self.notes]
        return frame_html(self.tidy().drop(columns=["method"]), "Callaway–Sant'Anna ATT(g,t)", lines)

    def __repr__(self) -> str:
        s = self._get_simple()
        return (f"CallawaySantAnnaResult({len(self._att_gt)} cells, {self.n_units} units, "
                f"ATT={s.estimate:.6g}, std_error={s.std_error:.6g})")

    # -------------------------------------------------------------------------- aggregation
    def aggregate(self, kind: AggregateKind = "simple", *, min_e: float = -np.inf, max_e: float = np.inf,
                  balance_e: int | None = None, level: float = 0.95) -> EffectResult:
        """Aggregate the ATT(g, t) into a summary effect (R ``did``'s ``aggte``).

        Parameters
        ----------
        kind : {"simple", "group", "dynamic", "calendar"}
            ``simple``: every post-treatment ATT(g, t), weighted by cohort size. ``group``: the average effect
            of each cohort over its post-treatment periods (elements keyed by ``cohort``), overall their
            cohort-size weighted mean. ``dynamic``: the effect e periods after treatment (elements keyed by
            ``event_time``, negative e are pre-trend placebos), overall the mean over e >= 0.
            ``calendar``: the effect in each period among cohorts treated by then (elements keyed by
            ``time``), overall their mean.
        min_e, max_e : float
            Event-time window (in periods). ``dynamic`` keeps event times in the window; as in R, ``max_e``
            also limits the post-treatment cells of ``simple`` and ``group``.
        balance_e : int, optional
            ``dynamic`` only: use only cohorts observed at least ``balance_e`` periods after treatment, so
            each event time up to ``balance_e`` averages the same cohorts.
        level : float
            Confidence level of the uniform band (``crit`` column) when the fit was bootstrapped.

        Returns
        -------
        EffectResult
            ``method="callaway_santanna"``, ``term="ATT"``; ``elements`` with the key column, ``estimate``,
            ``std_error`` (and ``crit`` when bootstrapped); ``influence`` of the overall estimate (length
            ``n_units``); ``spec`` recording these arguments and those of the fit. This result is not
            modified.
        """
        check_option("kind", kind, ("simple", "group", "dynamic", "calendar"))
        critical_value(level)
        if balance_e is not None and (isinstance(balance_e, bool)
                                      or not isinstance(balance_e, (int, np.integer)) or balance_e < 0):
            raise ValueError(f"The 'balance_e' parameter must be None or a non-negative integer. "
                             f"Got {balance_e!r} instead.")
        if min_e > max_e:
            raise ValueError(f"min_e ({min_e}) must not exceed max_e ({max_e}).")
        at = self._att_gt
        a = agg.aggregate_cells(kind, at["estimate"].to_numpy(), np.asarray(self.influence), self._group,
                                self._time, self._unit_group, min_e=min_e, max_e=max_e, balance_e=balance_e,
                                last_period=self.n_periods)
        boot = self.spec.get("bootstrap")
        psi_all = np.column_stack([a.influence, a.overall_influence])
        if boot:
            band = np.r_[np.ones(a.influence.shape[1], dtype=bool), False]
            se_all, crit = agg.bootstrap(np.nan_to_num(psi_all), self._cluster, int(boot),
                                      int(self.spec["seed_used"]), level, band=band)
        else:
            se_all, crit = agg.analytic_se(psi_all, self._cluster), None
        if not np.isfinite(a.overall):
            se_all[-1] = np.nan
        elements = None
        element_influence = element_vcov = None
        if kind != "simple":
            element_influence = np.array(a.influence, dtype="float64")
            element_influence.setflags(write=False)
            sums = agg.cluster_sums(np.nan_to_num(element_influence), self._cluster)
            element_vcov = sums.T @ sums / element_influence.shape[0] ** 2
            element_vcov.setflags(write=False)
            key = {"group": "cohort", "dynamic": "event_time", "calendar": "time"}[kind]
            values: Any
            if kind in ("group", "calendar"):
                values = [self._periods[int(k) - 1] for k in a.keys]
            else:
                values = a.keys.astype("int64")
            elements = pd.DataFrame({key: values, "estimate": a.estimates, "std_error": se_all[:-1]})
            if crit is not None:
                elements["crit"] = crit if np.isfinite(crit) else critical_value(level)
        spec = dict(self.spec)
        spec.update(kind=kind, min_e=min_e, max_e=max_e, balance_e=balance_e, aggregate_level=level)
        influence = np.array(a.overall_influence, dtype="float64")
        influence.setflags(write=False)
        label = {"simple": "Callaway–Sant'Anna overall ATT", "group": "Callaway–Sant'Anna ATT by cohort",
                 "dynamic": "Callaway–Sant'Anna event study",
                 "calendar": "Callaway–Sant'Anna ATT by period"}[kind]
        notes = self.notes
        if boot:
            notes = notes + (f"multiplier bootstrap ({int(boot)} draws, seed {self.spec['seed_used']}): "
                             "standard errors from the bootstrap; element bands are uniform (sup-t)",)
        return EffectResult(
            estimate=float(a.overall), std_error=float(se_all[-1]), term="ATT", method="callaway_santanna",
            label=label, outcome=self.outcome, n_obs=self.n_units * self.n_periods, n_units=self.n_units,
            elements=elements, influence=influence, element_influence=element_influence,
            element_vcov=element_vcov, excluded=self.excluded.copy(), spec=spec, notes=notes)

# ---------------------------------------------------------------------------------------------- fitting
def _ledger(rows: list[tuple[str, Any, str]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in EXCLUDED_COLUMNS})
    return pd.DataFrame(rows, columns=list(EXCLUDED_COLUMNS))


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


def _check_rank(x: np.ndarray, names: tuple[str, ...]) -> None:
    """Raise EstimationError naming the covariates that are collinear with the intercept and earlier ones."""
    full = np.column_stack([np.ones(len(x)), x])
    bad: list[str] = []
    kept = full[:, :1]
    for j, name in enumerate(names):
        trial = np.column_stack([kept, full[:, j + 1]])
        if np.linalg.matrix_rank(trial) < trial.shape[1]:
            bad.append(name)
        else:
            kept = trial
    if bad:
        raise EstimationError(
            f"Covariates {bad} are constant or collinear with the intercept and the other covariates "
            f"{[c for c in names if c not in bad]}, so the propensity-score and outcome regressions are "
            "singular. Drop them from covariates=.")


def callaway_santanna(panel: Panel, *, control: Control = "never_treated", method: Method = "dr",
                      covariates: list[str] | tuple[str, ...] | None = None,
                      base_period: BasePeriod = "varying", anticipation: int = 0,
                      bootstrap: int | None = None, seed: int | None = None,
                      level: float = 0.95) -> CallawaySantAnnaResult:
    """Group-time average treatment effects of Callaway & Sant'Anna (2021).

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified. A unit's cohort is the first period it was treated.
    control : {"never_treated", "not_yet_treated"}
        Comparison units: those never treated in the data, or also those not treated yet (by the later of
        the two periods compared, plus ``anticipation``).
    method : {"dr", "ipw", "reg"}
        2×2 estimator: doubly robust (Sant'Anna & Zhao 2020), normalised inverse probability weighting, or
        outcome regression. Without covariates all three give the same numbers.
    covariates : list of str, optional
        Panel covariates to condition on (taken at the base period, as R ``did`` does). ``None`` (default)
        means no covariates, even when the panel has some.
    base_period : {"varying", "universal"}
        ``varying``: pre-treatment ATT(g, t) compare t with t - 1 (R's default); ``universal``: every
        ATT(g, t) compares t with the last period before treatment, whose ATT is 0 by construction.
    anticipation : int
        Periods before treatment in which units may already react; the base period moves back accordingly.
    bootstrap : int, optional
        Number of multiplier-bootstrap draws (Mammen weights, clustered as the panel). ``None``: analytic
        standard errors from the influence functions.
    seed : int, optional
        Seed of the bootstrap draws (recorded in ``spec['seed_used']``; one is drawn when ``None``).
    level : float
        Confidence level of the intervals of ``att_gt``.

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
        A covariate that is not a panel covariate, or a cluster that changes within a unit.

    Warns
    -----
    StatisticalWarning
        Units dropped because the panel is unbalanced or they were treated from the first period; cells that
        could not be estimated; few clusters.

    Notes
    -----
    As R ``did`` (``allow_unbalanced_panel = FALSE``), only units observed in every period are used; the
    others are listed in ``.excluded``. Units treated in the first period (or within ``anticipation`` periods
    of it) have no pre-treatment period and are excluded. With ``control="not_yet_treated"`` and no
    never-treated units, periods from the last cohort's treatment (minus anticipation) on are dropped and
    that cohort serves only as a comparison (as R ``did``). Standard errors are clustered by unit, or by the
    panel's ``cluster`` column when it has one: ``se = sqrt(sum_c (sum_{i in c} psi_i)^2) / n``.
    ATT(g, t) that cannot be estimated (no comparison units, overlap failure, singular regression) are left
    out and listed in ``.excluded``, which equals R's ``aggte(na.rm = TRUE)``.

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
    if not isinstance(panel, Panel):
        raise PanelError(f"callaway_santanna expects an impactlab Panel. Got {type(panel).__name__} instead. "
                         "Build one with Panel.from_frame(df, unit=..., time=..., outcome=..., cohort=...).")
    check_option("control", control, ("never_treated", "not_yet_treated"))
    check_option("method", method, ("dr", "ipw", "reg"))
    check_option("base_period", base_period, ("varying", "universal"))
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise ValueError(f"The 'anticipation' parameter must be a non-negative integer number of periods. "
                         f"Got {anticipation!r} instead.")
    if bootstrap is not None and (isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer))
                                  or bootstrap < 2):
        raise ValueError("The 'bootstrap' parameter must be None or an integer number of draws >= 2 "
                         f"(e.g. 999). Got {bootstrap!r} instead.")
    critical_value(level)
    covs = _check_covariates(panel, covariates)
    anticipation = int(anticipation)
    excluded: list[tuple[str, Any, str]] = []
    notes: list[str] = []

    long = panel.long()
    periods = tuple(panel.periods)
    n_per = len(periods)
    # --- balance: keep units observed in every period (R did's default for panel data)
    codes, uniq = pd.factorize(long["unit"], sort=True)
    counts = np.bincount(codes, minlength=len(uniq))
    short = counts < n_per
    if short.any():
        for u, c in zip(uniq[short], counts[short], strict=True):
            excluded.append(("unit", u, f"unbalanced: observed in {c} of {n_per} periods"))
        msg = (f"{int(short.sum())} of {len(uniq)} units are not observed in every period and were dropped "
               "(Callaway–Sant'Anna on a balanced panel, as R did); see .excluded")
        warnings.warn(msg, StatisticalWarning, stacklevel=2)
        notes.append(msg)
    keep_rows = ~short[codes]
    long = long.loc[keep_rows]
    if long.empty:
        raise EstimationError(f"No unit is observed in all {n_per} periods, so no balanced panel remains. "
                              "Restrict the panel to periods where units are observed throughout.")
    codes, uniq = pd.factorize(long["unit"], sort=True)
    n_all = len(uniq)
    pidx = long["period"].to_numpy() - 1
    y = np.full((n_all, n_per), np.nan)
    y[codes, pidx] = long["outcome"].to_numpy()
    gp = np.zeros(n_all, dtype="int64")
    gp[codes] = long["cohort_period"].to_numpy()
    xs = None
    if covs:
        xs = np.zeros((n_all, n_per, len(covs)))
        xs[codes, pidx, :] = long[list(covs)].to_numpy(dtype="float64")
        _check_rank(long[list(covs)].to_numpy(dtype="float64"), covs)
    clus = None
    if panel.cluster is not None:
        per_unit = long.groupby(codes)["cluster"].nunique()
        if (per_unit > 1).any():
            bad = list(uniq[per_unit.index[per_unit > 1].to_numpy()][:10])
            raise PanelError(f"The cluster column {panel.cluster!r} changes over time within units {bad}; "
                             "standard errors need one cluster per unit.")
        clus_vals = np.empty(n_all, dtype=object)
        clus_vals[codes] = long["cluster"].to_numpy()
        clus = pd.factorize(clus_vals)[0]

    # --- units with no pre-treatment period
    late_raw = long.groupby(codes)["cohort"].first().notna().to_numpy() & (gp == 0)
    if anticipation > 0 and late_raw.any():
        notes.append(f"{int(late_raw.sum())} units are first treated after the last period and count as "
                     "never treated; with anticipation they may already react within the data")
    always = (gp > 0) & (gp <= 1 + anticipation)
    if always.any():
        for u in uniq[always]:
            excluded.append(("unit", u, "treated in the first observed period"
                             + (f" or within anticipation={anticipation} periods of it"
                                if anticipation else "")
                             + ": no pre-treatment period"))
        msg = (f"{int(always.sum())} units already treated at the start have no pre-treatment period and "
               "were dropped")
        warnings.warn(msg, StatisticalWarning, stacklevel=2)
        notes.append(msg)
    keep_u = ~always
    y, gp, uniq = y[keep_u], gp[keep_u], uniq[keep_u]
    if xs is not None:
        xs = xs[keep_u]
    if clus is not None:
        clus = pd.factorize(clus[keep_u])[0]
    n = len(uniq)
    if n == 0 or not (gp > 0).any():
        raise EstimationError("No treated units with a pre-treatment period remain; Callaway–Sant'Anna needs "
                              "units first treated after the first observed period.")

    # --- comparison group availability
    last_t = n_per
    glist = np.unique(gp[gp > 0])
    if not (gp == 0).any():
        if control == "never_treated":
            raise EstimationError(
                "There are no never-treated units to compare with (control='never_treated'). Use "
                "control='not_yet_treated' to compare each cohort with units treated later.")
        g_last = int(glist.max())
        last_t = g_last - anticipation - 1
        if last_t < 2:
            raise EstimationError("No never-treated units and too few periods before the last cohort is "
                                  "treated to use it as comparison; there is nothing to estimate.")
        for p in periods[last_t:]:
            excluded.append(("period", p, "no never-treated units: periods from the last cohort's "
                             "treatment on have no comparison group"))
        notes.append(f"no never-treated units: the last cohort ({periods[g_last - 1]}) serves only as "
                     f"comparison and periods after {periods[last_t - 1]} are not used")
        y = y[:, :last_t]
        if xs is not None:
            xs = xs[:, :last_t]
        glist = glist[glist < g_last]
    if clus is not None:
        n_cl = int(clus.max()) + 1
        if n_cl < FEW_CLUSTERS:
            msg = (f"only {n_cl} clusters: cluster-robust standard errors are unreliable with few clusters; "
                   "consider a wild cluster bootstrap")
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)

    # --- the ATT(g, t) cells
    estimator = _ESTIMATORS[method]
    tfac = 1 if base_period == "varying" else 0
    rows: list[dict[str, Any]] = []
    infs: list[np.ndarray] = []
    skipped: list[str] = []
    for g in glist:
        g = int(g)
        base_post = g - 1 - anticipation
        treated = gp == g
        for cur in range(1 + tfac, last_t + 1):
            post = g <= cur
            base = base_post if (post or base_period == "universal") else cur - 1
            if control == "never_treated":
                ctrl = gp == 0
            else:
                ctrl = (gp == 0) | ((gp > max(cur, base) + anticipation) & (gp != g))
            n_t, n_c = int(treated.sum()), int(ctrl.sum())
            row = {"g": g, "t": cur, "post": post, "n_treated": n_t, "n_control": n_c}
            if base == cur:
                rows.append({**row, "estimate": 0.0})
                infs.append(np.zeros(n))
                continue
            where = f"cohort {periods[g - 1]}, time {periods[cur - 1]}"
            if n_c == 0:
                excluded.append(("cell", (periods[g - 1], periods[cur - 1]), "no comparison units"))
                skipped.append(where)
                continue
            sel = treated | ctrl
            d = treated[sel].astype("float64")
            x = None
            if xs is not None:
                x = np.column_stack([np.ones(int(sel.sum())), xs[sel, min(base, cur) - 1, :]])
            try:
                if method in ("dr", "ipw"):
                    ps = logit_fit(x, d)[1] if x is not None else np.full(1, n_t / (n_t + n_c))
                    if ps.max() >= OVERLAP_MAX:
                        raise EstimationError("overlap condition violated (a propensity score reaches 0.999)")
                fit = estimator(y[sel, cur - 1], y[sel, base - 1], d, x)
            except EstimationError as exc:
                excluded.append(("cell", (periods[g - 1], periods[cur - 1]), str(exc)))
                skipped.append(where)
                continue
            if not np.isfinite(fit.att):
                excluded.append(("cell", (periods[g - 1], periods[cur - 1]), "the estimate is not finite"))
                skipped.append(where)
                continue
            psi = np.zeros(n)
            psi[sel] = fit.influence * (n / sel.sum())
            rows.append({**row, "estimate": fit.att})
            infs.append(psi)
    if skipped:
        msg = (f"{len(skipped)} ATT(g,t) could not be estimated and were left out ({'; '.join(skipped[:5])}"
               f"{'…' if len(skipped) > 5 else ''}); see .excluded")
        warnings.warn(msg, StatisticalWarning, stacklevel=2)
        notes.append(msg)
    if not rows:
        raise EstimationError("No ATT(g,t) could be estimated: check the cohorts, the comparison group and "
                              "the number of periods.")

    influence = np.column_stack(infs)
    cells = pd.DataFrame(rows)
    group_idx = cells["g"].to_numpy(dtype="int64")
    time_idx = cells["t"].to_numpy(dtype="int64")
    seed_used = None
    if bootstrap:
        seed_used = int(seed) if seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
        se, crit = agg.bootstrap(influence, clus, int(bootstrap), seed_used, level)
        crit_v: float | None = crit if np.isfinite(crit) else None
    else:
        se, crit_v = agg.analytic_se(influence, clus), None
    zero = (cells["estimate"].to_numpy() == 0) & ~influence.any(axis=0)
    se = np.where(zero, np.nan, se)
    inf_df = inference_frame(cells["estimate"], se, level, crit=crit_v)
    att_gt = pd.DataFrame({
        "cohort": [periods[g - 1] for g in group_idx],
        "time": [periods[t - 1] for t in time_idx],
        "event_time": time_idx - group_idx,
        "estimate": cells["estimate"].to_numpy(dtype="float64"),
        "std_error": se,
        **{c: inf_df[c].to_numpy() for c in inf_df.columns},
        "n_treated": cells["n_treated"].to_numpy(),
        "n_control": cells["n_control"].to_numpy(),
        "post": cells["post"].to_numpy(dtype=bool),
    })[list(ATT_GT_COLUMNS)]
    influence.setflags(write=False)
    uniq_arr = np.asarray(uniq)
    uniq_arr.setflags(write=False)
    spec = {"estimator": "callaway_santanna", "control": control, "method": method, "covariates": covs,
            "base_period": base_period, "anticipation": anticipation, "bootstrap": bootstrap, "seed": seed,
            "seed_used": seed_used, "level": level}
    res = CallawaySantAnnaResult(
        _att_gt=att_gt, influence=influence, unit_ids=uniq_arr, excluded=_ledger(excluded), spec=spec,
        n_units=n, n_periods=int(y.shape[1]), outcome=panel.outcome, crit=crit_v, notes=tuple(notes),
        _group=group_idx, _time=time_idx, _unit_group=gp, _cluster=clus, _periods=periods)
    object.__setattr__(res, "_simple", res.aggregate("simple", level=level))
    return res
