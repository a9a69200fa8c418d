"""The result of :func:`~impactlab.estimators.callaway_santanna.callaway_santanna`: group-time ATTs, their
aggregations (Callaway & Sant'Anna 2021, §3; R ``did``'s ``aggte``), the cumulative effect over a horizon,
the Wald pre-test of parallel trends (R ``did``'s ``W``) and effects by segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import check_option
from impactlab.estimators._eventtime import WaldTest, wald_test
from impactlab.estimators.callaway_santanna import aggregate as agg
from impactlab.estimators.callaway_santanna.influence import Dense, bootstrap, covariance, standard_errors
from impactlab.results.base import (
    TIDY_COLUMNS,
    EffectResult,
    _fmt,
    critical_value,
    frame_html,
    freeze_fields,
    inference_frame,
    integer_keys,
    restore_frozen,
)
from impactlab.results.explain import with_pretrend

__all__ = ["CallawaySantAnnaResult"]

AggregateKind = Literal["simple", "group", "dynamic", "calendar", "cumulative"]
#: kind -> (key column of the elements, label)
KINDS = {"simple": ("", "overall ATT"), "group": ("cohort", "ATT by cohort"),
         "dynamic": ("event_time", "event study"), "calendar": ("time", "ATT by period"),
         "cumulative": ("event_time", "cumulative effect")}


@dataclass(frozen=True, repr=False, eq=False)
class CallawaySantAnnaResult:
    """Group-time ATTs of :func:`callaway_santanna` and their aggregations.

    Frozen: arrays are read-only views and tables are handed out as copies; every aggregation is a new frozen
    :class:`~impactlab.results.base.EffectResult`. Attributes: :attr:`att_gt`; :attr:`influence` (n_units ×
    cells, scaled so that ``se = sqrt(sum(psi**2)) / n_units``, rows in the order of ``unit_ids``);
    ``excluded`` (units, periods and cells left out: ``what``, ``id``, ``reason``); ``spec`` (the arguments
    of the fit); ``n_units``, ``n_periods``, ``outcome``; ``crit`` (the uniform critical value of the
    bootstrap band of ATT(g, t), None without bootstrap); ``notes`` (caveats); :attr:`pretest`; ``by`` (the
    segment column, see :meth:`by_segment`).
    """

    unit_ids: np.ndarray
    excluded: pd.DataFrame
    spec: dict[str, Any]
    n_units: int
    n_periods: int
    outcome: str
    crit: float | None
    notes: tuple[str, ...]
    by: str | None = None
    # set by _create (not constructor arguments)
    _att_gt: pd.DataFrame = field(init=False)
    _influence: Any = field(init=False)  # an Influence (impactlab.estimators.callaway_santanna.influence)
    _group: np.ndarray = field(init=False)
    _time: np.ndarray = field(init=False)
    _unit_group: np.ndarray = field(init=False)
    _cluster: np.ndarray | None = field(init=False)
    _periods: tuple[Any, ...] = field(init=False)
    _weights: np.ndarray | None = field(init=False)
    _engine: str = field(init=False)
    _simple: EffectResult | None = field(init=False)
    _segments: dict[Any, Any] | None = field(init=False)
    _segment_of: np.ndarray | None = field(init=False)

    @classmethod
    def _create(cls, private: dict[str, Any], **public: Any) -> CallawaySantAnnaResult:
        """A result from its public fields and the private ones (names without the underscore)."""
        res = cls(**public)
        for name in ("simple", "segments", "segment_of"):
            private.setdefault(name, None)
        for name, value in private.items():
            object.__setattr__(res, f"_{name}", value)
        freeze_fields(res)  # read-only tables and arrays (no copy): the result stays as built
        return res

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)  # still frozen after pickle (multiprocessing, caches)

    @property
    def influence(self) -> np.ndarray:
        """Influence function of each ATT(g, t): (n_units, n_cells), read-only, built on first access when
        the fit kept it in a compact form (see the class docstring)."""
        inf = self._influence.dense()
        if inf.flags.writeable:
            inf.setflags(write=False)
            object.__setattr__(self, "_influence", Dense(inf))
        return inf

    # -------------------------------------------------------------------------- tables
    @property
    def att_gt(self) -> pd.DataFrame:
        """The group-time ATTs (a copy): ``cohort`` and ``time`` (period values), ``event_time`` (in observed
        periods), ``estimate``, ``std_error``, ``statistic``, ``p_value``, ``conf_low``, ``conf_high``
        (uniform band when bootstrapped), ``n_treated``, ``n_control``, ``post``."""
        return self._att_gt.copy()

    def _get_simple(self) -> EffectResult:
        return self._simple if self._simple is not None else self.aggregate("simple")

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

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """The overall ATT (headline row), then one row per ATT(g, t): term, estimate, std_error, statistic,
        p_value, conf_low, conf_high, cohort, time, event_time, method.

        At the level of the fit the ATT(g, t) intervals are those of :attr:`att_gt` (a uniform band when
        bootstrapped); at any other level they are pointwise.
        """
        at = self._att_gt
        out = at[["estimate", "std_error"]].copy()
        if np.isclose(level, self.spec["level"]):
            out = pd.concat([out, at[["statistic", "p_value", "conf_low", "conf_high"]]], axis=1)
        else:
            out = pd.concat([out, inference_frame(at["estimate"], at["std_error"], level)], axis=1)
        pairs = zip(at["cohort"], at["time"], strict=True)
        out.insert(0, "term", [f"ATT({_fmt(g)}, {_fmt(t)})" for g, t in pairs])
        for key in ("cohort", "time", "event_time"):
            out[key] = at[key].to_numpy()
        head = self._get_simple().tidy(level).iloc[:1]
        out = pd.concat([head.drop(columns=["method"]), out], ignore_index=True)
        for key in ("cohort", "time", "event_time"):
            if at[key].dtype.kind in "iu":
                out[key] = integer_keys(out[key])
        out["method"] = "callaway_santanna"
        return out[list(TIDY_COLUMNS) + ["cohort", "time", "event_time", "method"]]

    def explain(self, level: float = 0.95) -> Any:
        """The overall ATT in plain language, with the event study's pre-training check (event times before
        ``-anticipation``)."""
        return with_pretrend(self._get_simple().explain(level), self.aggregate("dynamic", level=level), level)

    def _lines(self) -> list[str]:
        s, level = self._get_simple(), self.spec["level"]
        lo, hi = s.conf_int(level)
        lines = [f"comparison: {self.spec['control']}, method: {self.spec['method']}, base period: "
                 f"{self.spec['base_period']}, anticipation: {self.spec['anticipation']}, covariates: "
                 f"{list(self.spec['covariates']) or 'none'}",
                 f"overall ATT {_fmt(s.estimate)} (std. error {_fmt(s.std_error)}, {level:.0%} CI {_fmt(lo)} "
                 f"to {_fmt(hi)})",
                 f"{self.n_units:,} units × {self.n_periods} periods, {len(self._att_gt)} ATT(g,t) cells",
                 f"excluded: {self._excluded_counts()} (see .excluded)",
                 f"pre-test: {self.pretest or 'no pre-treatment ATT(g,t) to test'}"]
        if self.by is not None:
            lines.append(f"segments by {self.by!r}: {self.segment_test()}")
        return lines + [f"note: {n}" for n in self.notes]

    def summary(self) -> str:
        """Plain-text summary: the overall ATT, the set-up and the ATT(g, t) table."""
        table = self.tidy(self.spec["level"]).iloc[1:].drop(columns=["method"]).to_string(index=False)
        return "\n".join([f"Callaway–Sant'Anna group-time ATTs on {self.outcome}",
                          *(f"  {line}" for line in self._lines()), table])

    def _repr_html_(self) -> str:
        return frame_html(self.tidy(self.spec["level"]).drop(columns=["method"]),
                          f"Callaway–Sant'Anna ATT(g,t) on {self.outcome}", self._lines())

    def __repr__(self) -> str:
        s = self._get_simple()
        return (f"CallawaySantAnnaResult({len(self._att_gt)} cells, {self.n_units} units, "
                f"ATT={s.estimate:.6g}, std_error={s.std_error:.6g})")

    def _excluded_counts(self) -> str:
        if not len(self.excluded):
            return "none"
        counts = self.excluded["what"].value_counts()
        return f"{len(self.excluded)} (" + ", ".join(f"{v} {k}{'s' if v > 1 else ''}"
                                                     for k, v in counts.items()) + ")"

    # -------------------------------------------------------------------------- tests
    @property
    def pretest(self) -> WaldTest | None:
        """Wald pre-test that all pre-treatment ATT(g, t) are zero (R ``did``'s ``W``, ``Wpval``): the
        analytic covariance, one degree of freedom per cell with a variance. A small p-value is evidence
        against parallel trends (or no anticipation); a large one is not proof of them (Roth 2022)."""
        at = self._att_gt
        pre = (~at["post"].to_numpy()) & np.isfinite(at["std_error"].to_numpy())
        if not pre.any():
            return None
        vcov = covariance(self._influence, np.flatnonzero(pre), self._cluster)
        cells = zip(at["cohort"][pre], at["time"][pre], strict=True)
        terms = [f"ATT({_fmt(g)}, {_fmt(t)})" for g, t in cells]
        return wald_test(at["estimate"].to_numpy()[pre], vcov, terms,
                         hypothesis="all pre-treatment ATT(g,t) are zero")

    # -------------------------------------------------------------------------- aggregation
    def cumulative(self, k: int, *, balance: bool = False, level: float = 0.95) -> EffectResult:
        """The cumulative effect over event times 0..k (0 = the period of treatment): the sum of the
        event-study effects, what an ROI over ``k + 1`` periods needs; its standard error accounts for the
        correlation between event times. ``aggregate("cumulative", max_e=k)``, with ``balance_e=k`` when
        ``balance`` (only cohorts observed ``k`` periods after treatment)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"The 'k' parameter must be a non-negative integer event time. Got {k!r} "
                             "instead.")
        return self.aggregate("cumulative", max_e=int(k), balance_e=int(k) if balance else None, level=level)

    def aggregate(self, kind: AggregateKind = "simple", *, min_e: float = -np.inf, max_e: float = np.inf,
                  balance_e: int | None = None, level: float = 0.95) -> EffectResult:
        """Aggregate the ATT(g, t) into a summary effect (R ``did``'s ``aggte``).

        Parameters
        ----------
        kind : {"simple", "group", "dynamic", "calendar", "cumulative"}
            ``simple``: every post-treatment ATT(g, t), weighted by cohort size. ``group``: the average effect
            of each cohort over its post-treatment periods (elements keyed by ``cohort``), overall their
            cohort-size weighted mean. ``dynamic``: the effect e periods after treatment (elements keyed by
            ``event_time``, negative e are pre-trend placebos), overall the mean over e >= 0.
            ``calendar``: the effect in each period among cohorts treated by then (elements keyed by
            ``time``), overall their mean. ``cumulative``: the sum of the ``dynamic`` effects of event times
            0..k (elements keyed by ``event_time`` k), overall the sum up to ``max_e``; see
            :meth:`cumulative`.
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
            ``elements`` with the key column, ``estimate``, ``std_error`` (and ``crit`` when bootstrapped);
            ``influence`` of the overall estimate; ``spec`` with these arguments and those of the fit.
        """
        check_option("kind", kind, tuple(KINDS))
        critical_value(level)
        if balance_e is not None and (isinstance(balance_e, bool)
                                      or not isinstance(balance_e, (int, np.integer)) or balance_e < 0):
            raise ValueError(f"The 'balance_e' parameter must be None or a non-negative integer. "
                             f"Got {balance_e!r} instead.")
        if min_e > max_e:
            raise ValueError(f"min_e ({min_e}) must not exceed max_e ({max_e}).")
        at = self._att_gt
        a = agg.aggregate_cells(kind, at["estimate"].to_numpy(), self._influence, self._group,
                                self._time, self._unit_group, min_e=min_e, max_e=max_e, balance_e=balance_e,
                                last_period=self.n_periods, unit_weights=self._weights)
        boot = self.spec.get("n_draws")
        n_el = a.influence_all.shape[1] - 1
        if boot:
            se_all, crit = bootstrap(a.form, int(boot), int(self.spec["seed_used"]), level,
                                     groups=self._unit_group, cluster=self._cluster,
                                     band=np.r_[np.ones(n_el, dtype=bool), False])
        else:
            se_all, crit = standard_errors(a.form, self._cluster), None
        if not np.isfinite(a.overall):
            se_all[-1] = np.nan
        elements = element_influence = element_vcov = None
        if kind != "simple":
            element_influence = a.influence  # a view of psi_all, frozen by the result
            element_vcov = covariance(a.form, np.arange(n_el), self._cluster)
            values: Any = ([self._periods[int(k) - 1] for k in a.keys] if kind in ("group", "calendar")
                           else a.keys.astype("int64"))
            elements = pd.DataFrame({KINDS[kind][0]: values, "estimate": a.estimates,
                                     "std_error": se_all[:-1]})
            if crit is not None:
                elements["crit"] = crit if np.isfinite(crit) else critical_value(level)
        spec = dict(self.spec)
        spec.update(kind=kind, min_e=min_e, max_e=max_e, balance_e=balance_e, aggregate_level=level)
        if elements is not None and "crit" in elements:
            spec["band_level"] = level  # the uniform band of elements["crit"] holds at this level only
        notes = self.notes
        if boot:
            notes = notes + (f"multiplier bootstrap ({int(boot)} draws, seed {self.spec['seed_used']}): "
                             "standard errors from the bootstrap; element bands are uniform (sup-t)",)
        return EffectResult(
            estimate=float(a.overall), std_error=float(se_all[-1]),
            term="cumulative ATT" if kind == "cumulative" else "ATT", method="callaway_santanna",
            label=f"Callaway–Sant'Anna {KINDS[kind][1]}", outcome=self.outcome,
            n_obs=self.n_units * self.n_periods, n_units=self.n_units, elements=elements,
            influence=a.overall_influence, element_influence=element_influence, element_vcov=element_vcov,
            excluded=self.excluded, spec=spec, notes=notes)

    # -------------------------------------------------------------------------- segments
    def _segment_parts(self, kind: AggregateKind, max_e: float, balance_e: int | None
                       ) -> tuple[list[Any], np.ndarray, np.ndarray, list[int], np.ndarray]:
        if self._segments is None or self._segment_of is None:
            raise ValueError("This fit has no segments: pass by='column' to callaway_santanna to estimate "
                             "effects per segment.")
        n, keys = self.n_units, list(self._segments)
        psi_all, ests, sizes = np.zeros((n, len(keys))), np.empty(len(keys)), []
        for j, (key, sub) in enumerate(self._segments.items()):
            pos = np.flatnonzero(self._segment_of == key)
            a = sub.aggregate(kind, max_e=max_e, balance_e=balance_e)
            psi_all[pos, j] = np.asarray(a.influence) * (n / len(pos))
            ests[j] = a.estimate
            sizes.append(len(pos))
        return keys, ests, psi_all, sizes, covariance(Dense(psi_all), np.arange(len(keys)), self._cluster)

    def by_segment(self, kind: AggregateKind = "simple", *, max_e: float = np.inf,
                   balance_e: int | None = None) -> EffectResult:
        """Effects per segment of ``by=`` (the ``kind`` aggregation of a fit on each segment's own treated
        and comparison units), with their joint cluster-robust covariance (``element_vcov``) and the Wald
        test that they are equal (``spec["segment_test"]``, also in the notes); ``max_e`` and ``balance_e``
        as :meth:`aggregate`. Headline: the whole fit's aggregation."""
        check_option("kind", kind, tuple(KINDS))
        keys, ests, infs, sizes, vcov = self._segment_parts(kind, max_e, balance_e)
        test = self._equal_test(ests, vcov)
        whole = self.aggregate(kind, max_e=max_e, balance_e=balance_e)
        se = np.sqrt(np.diag(vcov))
        elements = pd.DataFrame({"segment": keys, "estimate": ests, "std_error": se, "n_units": sizes})
        spec = dict(whole.spec)
        spec.update(by=self.by, segment_test=test)
        return EffectResult(
            estimate=whole.estimate, std_error=whole.std_error, term=whole.term, method="callaway_santanna",
            label=f"Callaway–Sant'Anna effect by {self.by}", outcome=self.outcome, n_obs=whole.n_obs,
            n_units=self.n_units, elements=elements, influence=whole.influence, element_influence=infs,
            element_vcov=vcov, excluded=self.excluded, spec=spec,
            notes=self.notes + (f"segments by {self.by!r}: {test}",))

    def _equal_test(self, ests: np.ndarray, vcov: np.ndarray) -> WaldTest | None:
        """Wald test of ``R b = 0`` with ``R`` the contrasts of each segment with the last one."""
        k = ests.size
        r = np.column_stack([np.eye(k - 1), -np.ones(k - 1)])
        keys = list(self._segments or {})
        return wald_test(r @ ests, r @ vcov @ r.T, [f"{a} - {keys[-1]}" for a in keys[:-1]],
                         hypothesis=f"effects are equal across the segments of {self.by!r}")

    def segment_test(self, kind: AggregateKind = "simple", *, max_e: float = np.inf) -> WaldTest | None:
        """Wald test that the ``kind`` effect is the same in every segment of ``by=`` (chi-square with
        segments - 1 degrees of freedom, from the joint covariance of :meth:`by_segment`)."""
        check_option("kind", kind, tuple(KINDS))
        _, ests, _, _, vcov = self._segment_parts(kind, max_e, None)
        return self._equal_test(ests, vcov)
