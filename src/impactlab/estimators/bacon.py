"""The Goodman-Bacon (2021) decomposition of the TWFE coefficient into the 2×2 comparisons it averages
(treated vs never, earlier vs later, later vs earlier), with their weights, and :class:`BaconResult`. The
weights and why the decomposition needs a balanced panel: docs/explanation.md, "Event studies".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError, StatisticalWarning, check_option
from impactlab.estimators._common import check_panel
from impactlab.estimators.inference import VCOV_OPTIONS
from impactlab.estimators.regression import twfe
from impactlab.panel import Panel
from impactlab.results.base import EffectResult, _fmt, frame_html

__all__ = ["BaconResult", "bacon_decomposition"]

#: Comparison types, in the order they are reported.
TYPES = ("treated_vs_never", "earlier_vs_later", "later_vs_earlier")
_TYPE_LABELS = {"treated_vs_never": "treated vs never treated",
                "earlier_vs_later": "earlier vs later treated",
                "later_vs_earlier": "later vs earlier treated (forbidden: already-trained controls)"}


@dataclass(frozen=True, repr=False, eq=False)
class BaconResult(EffectResult):
    """The TWFE coefficient and the 2×2 comparisons it averages.

    ``estimate`` and ``std_error`` are those of :func:`impactlab.twfe` on the same panel; ``elements``
    (also :attr:`comparisons`) has one row per 2×2 comparison: ``treated`` and ``control`` (cohorts as
    given; ``"never"`` for the untreated units), ``type`` (one of :data:`TYPES`), ``weight``,
    ``estimate`` and ``std_error`` (missing: the decomposition is descriptive).
    """

    @property
    def comparisons(self) -> pd.DataFrame:
        """Every 2×2 comparison with its type, weight and estimate (a copy)."""
        assert self.elements is not None  # always set by bacon_decomposition
        return self.elements.drop(columns=["std_error"]).copy()

    def by_type(self) -> pd.DataFrame:
        """Total weight, weighted average estimate and number of comparisons of each type."""
        c = self.comparisons
        out = []
        for t in TYPES:
            sub = c[c["type"] == t]
            w = float(sub["weight"].sum())
            avg = float((sub["weight"] * sub["estimate"]).sum() / w) if w > 0 else float("nan")
            out.append({"type": t, "weight": w, "estimate": avg, "contribution": w * avg if w > 0 else 0.0,
                        "n_comparisons": len(sub)})
        return pd.DataFrame(out)

    @property
    def forbidden_weight(self) -> float:
        """Total weight of the later-vs-earlier comparisons (already-treated units as controls)."""
        c = self.comparisons
        return float(c.loc[c["type"] == "later_vs_earlier", "weight"].sum())

    def _type_lines(self) -> list[str]:
        lines = []
        for _, r in self.by_type().iterrows():
            if r["n_comparisons"]:
                lines.append(f"{_TYPE_LABELS[r['type']]}: weight {r['weight']:.1%}, average 2×2 estimate "
                             f"{_fmt(r['estimate'])} ({int(r['n_comparisons'])} comparisons)")
        return lines

    def summary(self, level: float = 0.95) -> str:
        """The TWFE coefficient, the weight and average estimate of each comparison type, every 2×2."""
        lines = super().summary(level).split("\n")
        at = 3 + (1 if len(self.excluded) else 0)
        extra = [] if len(self.excluded) else ["  excluded: none"]
        extra += [f"  {line}" for line in self._type_lines()]
        return "\n".join(lines[:at] + extra + lines[at:])

    def _repr_html_(self) -> str:
        lines = [f"TWFE coefficient {_fmt(self.estimate)} (SE {_fmt(self.std_error)}) = "
                 "sum of weight × 2×2 estimate", *self._type_lines()]
        lines.append(f"{len(self.excluded)} excluded (see .excluded)")
        lines += [f"Note: {n}" for n in self.notes]
        return frame_html(self.comparisons, self.label, lines)

    def __repr__(self) -> str:
        return (f"BaconResult(twfe={self.estimate:.6g}, comparisons={len(self.comparisons)}, "
                f"forbidden_weight={self.forbidden_weight:.4g})")


def bacon_decomposition(panel: Panel, *, vcov: str = "cluster") -> BaconResult:
    """Decompose the TWFE coefficient into its 2×2 comparisons (Goodman-Bacon 2021).

    Parameters
    ----------
    panel : Panel
        A balanced panel (every unit observed in every period); it is not modified.
    vcov : {"cluster", "robust", "iid"}
        Standard error reported for the TWFE coefficient (as :func:`impactlab.twfe`).

    Returns
    -------
    BaconResult
        ``estimate``: the TWFE coefficient (equal to ``sum(weight * estimate)`` over the comparisons);
        ``comparisons`` / ``elements``: every 2×2 with ``treated``, ``control``, ``type``, ``weight``,
        ``estimate``; ``by_type()``; ``forbidden_weight``.

    Raises
    ------
    PanelError
        An unbalanced panel (the decomposition is exact only for balanced panels).
    EstimationError
        No unit changes treatment status within the data, or there is nothing to compare with.

    Warns
    -----
    StatisticalWarning
        Units treated from the first observed period: their treatment never changes, so the unit effects
        absorb it and they act as untreated controls (Goodman-Bacon 2021, fn. 11); they are reported in
        the ``never`` group. Positive weight on later-vs-earlier comparisons with estimates far from the
        clean ones signals effects that change over time: use Callaway–Sant'Anna or Sun & Abraham.

    Examples
    --------
    Two waves whose effect grows over time: the weighted 2×2 estimates add up to the TWFE coefficient.

    >>> from impactlab.datasets import example_panel
    >>> res = bacon_decomposition(example_panel())
    >>> c = res.comparisons
    >>> round(float((c["weight"] * c["estimate"]).sum()), 10) == round(res.estimate, 10)
    True
    >>> res.by_type()[["type", "n_comparisons"]].values.tolist()
    [['treated_vs_never', 2], ['earlier_vs_later', 1], ['later_vs_earlier', 1]]
    """
    panel = check_panel(panel, "bacon_decomposition")
    check_option("vcov", vcov, VCOV_OPTIONS)
    long = panel.long()
    T = panel.n_periods
    if not panel.is_balanced:
        counts = long.groupby("unit").size()
        short = counts[counts < T]
        raise PanelError(
            f"bacon_decomposition needs a balanced panel (the decomposition of Goodman-Bacon 2021 is exact "
            f"only then): {len(short)} of {panel.n_units} units miss periods (e.g. {list(short.index[:5])}). "
            "Keep the units observed in every period, or estimate with callaway_santanna, which handles "
            "unbalanced panels.")
    units = long.drop_duplicates("unit")
    g_unit = units["cohort_period"].to_numpy()
    always = g_unit == 1
    notes = []
    if always.any():
        warnings.warn(
            f"bacon_decomposition: {int(always.sum())} units were treated from the first observed period; "
            "their treatment never changes, so TWFE uses them as untreated controls (Goodman-Bacon 2021, "
            "fn. 11). They are counted in the 'never' group. Add earlier periods to observe them untrained.",
            StatisticalWarning, stacklevel=2)
        notes.append(f"{int(always.sum())} units treated from the first period act as untreated controls "
                     "(in the 'never' group)")
    timing = np.unique(g_unit[g_unit > 1])
    has_u = bool((g_unit <= 1).any())
    if len(timing) == 0:
        raise EstimationError("bacon_decomposition: no unit changes treatment status within the data, so "
                              "TWFE has no 2×2 comparison to average. Check the cohort column.")
    if len(timing) == 1 and not has_u:
        raise EstimationError("bacon_decomposition: every unit is trained in the same period and none stays "
                              "untrained, so there is no comparison. Add untrained units.")
    # group × period means (balanced: every group mean averages the same units in each period)
    key = np.where(g_unit <= 1, 0, g_unit)
    unit_key = pd.Series(key, index=units["unit"].to_numpy())
    grp = unit_key.reindex(long["unit"].to_numpy()).to_numpy()
    means = (pd.DataFrame({"g": grp, "t": long["period"].to_numpy(), "y": long["outcome"].to_numpy()})
             .groupby(["g", "t"])["y"].mean().unstack("t").sort_index(axis=1))
    Y = {int(k): means.loc[k].to_numpy() for k in means.index}
    n_units = len(g_unit)
    share = {int(k): float((key == k).sum()) / n_units for k in np.unique(key)}
    vd = _treatment_variance(key, T)
    t_idx = np.arange(1, T + 1)

    def label(k: int) -> Any:
        return "never" if k == 0 else panel.periods[k - 1]

    rows = []

    def add(kind: str, tr: int, ct: int, periods: np.ndarray, on: int) -> None:
        # 2×2 of group `tr` against `ct` on the periods `periods`, `tr` treated from period `on`
        post, pre = periods & (t_idx >= on), periods & (t_idx < on)
        est = (Y[tr][post].mean() - Y[tr][pre].mean()) - (Y[ct][post].mean() - Y[ct][pre].mean())
        n_pair = share[tr] + share[ct]
        n_kl = share[tr] / n_pair
        p = post.sum() / periods.sum()
        w = (n_pair * periods.sum() / T) ** 2 * n_kl * (1 - n_kl) * p * (1 - p) / vd
        rows.append({"treated": label(tr), "control": label(ct), "type": kind, "weight": w, "estimate": est})

    all_t = np.ones(T, dtype=bool)
    for k in timing:
        if has_u:
            add("treated_vs_never", int(k), 0, all_t, int(k))
    for i, k in enumerate(timing):
        for m in timing[i + 1:]:
            add("earlier_vs_later", int(k), int(m), t_idx < m, int(k))
            add("later_vs_earlier", int(m), int(k), t_idx >= k, int(m))
    comp = pd.DataFrame(rows)
    comp["std_error"] = np.nan
    order = {t: i for i, t in enumerate(TYPES)}
    comp = comp.sort_values("type", key=lambda s: s.map(order), kind="mergesort").reset_index(drop=True)
    comp = comp[["treated", "control", "type", "weight", "estimate", "std_error"]]
    fit = twfe(panel, vcov=vcov)
    total = float((comp["weight"] * comp["estimate"]).sum())
    if not np.isclose(total, fit.estimate, rtol=1e-8, atol=1e-8 * max(1.0, abs(fit.estimate))):
        raise EstimationError(  # pragma: no cover - a failed identity is a bug, not a data problem
            f"bacon_decomposition: the weighted 2×2 estimates ({total!r}) do not reproduce the TWFE "
            f"coefficient ({fit.estimate!r}). Please report this with the panel.")
    forbidden = float(comp.loc[comp["type"] == "later_vs_earlier", "weight"].sum())
    if forbidden > 0:
        notes.append(f"{forbidden:.0%} of the TWFE weight is on later-vs-earlier comparisons, whose controls "
                     "are already trained; if effects change over time, prefer callaway_santanna or "
                     "sun_abraham.")
    return BaconResult(
        estimate=fit.estimate, std_error=fit.std_error, term="trained", method="bacon",
        label="Goodman-Bacon decomposition of TWFE", outcome=panel.outcome, n_obs=fit.n_obs,
        n_units=panel.n_units, df=fit.df, elements=comp,
        excluded=pd.DataFrame({c: pd.Series(dtype="object") for c in ("what", "id", "reason")}),
        spec={"estimator": "bacon_decomposition", "vcov": vcov, "weighted_sum": total}, notes=tuple(notes))


def _treatment_variance(key: np.ndarray, T: int) -> float:
    """Variance of the double-demeaned treatment indicator of a balanced panel (``V`` of Theorem 1)."""
    t = np.arange(1, T + 1)
    D = ((key[:, None] > 0) & (t[None, :] >= key[:, None])).astype("float64")
    Dt = D - D.mean(axis=1, keepdims=True) - D.mean(axis=0, keepdims=True) + D.mean()
    return float((Dt**2).mean())
