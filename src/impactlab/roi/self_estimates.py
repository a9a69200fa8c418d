"""Phillips self-estimates checked against the causal estimate.

Without a comparison group, the Phillips methodology isolates the programme's effect by asking
participants (or managers) how much their measure improved, what share of that improvement they
attribute to the programme and how confident they are; the credited change is

    credited = improvement x share attributed x confidence

(J. J. Phillips & P. P. Phillips, *Handbook of Training Evaluation and Measurement Methods*, 4th ed.,
2016, ch. "Isolating the effects of the program"; non-respondents count as no improvement). Multiplying
by the confidence is Phillips' guiding principle "adjust estimates for error": a participant 60 %
confident of a claim is credited with 60 % of it. These are weak evidence. Where a causal estimate
exists, the estimate-based effect is put beside it and its bias, ``mean credited - causal effect``, is
reported so an organisation can calibrate its surveys; where none exists (the self-estimates are the
only isolation), the result still carries the credited effect, and :func:`impactlab.roi` takes it as
the effect of an estimate-based ROI labelled as such.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.results.base import EffectResult, ReportedRows, Row, _fmt, critical_value, normal_row


@dataclass(frozen=True, repr=False, eq=False)
class SelfEstimateResult(ReportedRows):
    """Self-estimated effect beside the causal one. Built by :func:`self_estimates`; immutable.

    The headline (``estimate``, ``std_error``, ``conf_int``) is the credited estimate, the mean credited
    change per participant and period with its t interval; ``tidy(level)`` also has the raw claim, the
    causal effect and the bias, each with its own reference distribution.

    Attributes
    ----------
    credited : EffectResult
        Mean credited change per participant and period (improvement x attribution x confidence), t
        interval; non-respondents count as zero when ``participants`` was given.
    raw : EffectResult
        Mean claimed improvement before the Phillips adjustments.
    causal : EffectResult or None
        The causal effect it is checked against (estimate and standard error); ``None`` when the
        self-estimates are the only isolation of the effect.
    bias, bias_std_error : float
        ``credited - causal`` and its standard error (the two estimates taken as independent samples);
        NaN without a causal effect.
    ratio : float
        ``credited / causal`` (1 = calibrated; 2 = self-estimates claim twice the causal effect); NaN
        without a causal effect.
    n_respondents, n_participants : int
    spec : mapping
    """

    credited: EffectResult
    raw: EffectResult
    causal: EffectResult | None
    bias: float
    bias_std_error: float
    ratio: float
    n_respondents: int
    n_participants: int
    spec: Mapping[str, Any] = field(default_factory=dict)

    def bias_conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the bias on Student's t with :attr:`bias_df` degrees of freedom."""
        c = critical_value(level, self.bias_df)
        return self.bias - c * self.bias_std_error, self.bias + c * self.bias_std_error

    @property
    def bias_df(self) -> float | None:
        """Welch–Satterthwaite degrees of freedom of the bias: the credited mean's ``n - 1`` and the causal
        effect's own df (none: a normal reference, infinite df) combined by their variances (Welch 1947,
        *Biometrika* 34); ``None`` when both are normal."""
        if self.causal is None:
            return None
        parts = [(self.credited.std_error**2, self.credited.df), (self.causal.std_error**2, self.causal.df)]
        if all(df is None for _, df in parts):
            return None
        total = sum(v for v, _ in parts)
        denom = sum(v * v / df for v, df in parts if df is not None and df > 0)
        return float(total * total / denom) if denom > 0 else None

    estimate = property(lambda self: self.credited.estimate,
                        doc="The headline: the mean credited change per participant and period.")
    std_error = property(lambda self: self.credited.std_error, doc="Standard error of the credited estimate.")

    def _rows(self, level: float) -> list[Row]:
        rows = [normal_row(term, r.estimate, r.std_error, level, r.df) for term, r in
                (("self_estimate_credited", self.credited), ("self_estimate_raw", self.raw))]
        if self.causal is None:
            return rows
        c = self.causal
        return rows + [normal_row("causal", c.estimate, c.std_error, level, c.df),
                       normal_row("bias", self.bias, self.bias_std_error, level, self.bias_df)]

    def explain(self, level: float = 0.95) -> Any:
        """The self-estimates against the causal effect in plain language (an :class:`~impactlab.results.
        explain.Explanation`)."""
        from impactlab.results.explain import explain_self_estimates

        return explain_self_estimates(self, level)

    def summary(self, level: float = 0.95) -> str:
        lo, hi = self.bias_conf_int(level)
        if self.causal is None:
            clo, chi = self.credited.conf_int(level)
            return "\n".join([
                "Self-estimates (Phillips: improvement x attribution x confidence), no causal estimate",
                f"  self-estimated {_fmt(self.credited.estimate)} (SE {_fmt(self.credited.std_error)}, "
                f"{level:.0%} CI {_fmt(clo)} to {_fmt(chi)}), raw claim {_fmt(self.raw.estimate)}",
                f"  {self.n_respondents} respondents of {self.n_participants} participants; self-estimates "
                "are weak evidence: an ROI built on them is estimate-based, not causal",
            ])
        return "\n".join([
            "Self-estimates (Phillips: improvement x attribution x confidence) against the causal effect",
            f"  causal {_fmt(self.causal.estimate)} (SE {_fmt(self.causal.std_error)}); self-estimated "
            f"{_fmt(self.credited.estimate)} (SE {_fmt(self.credited.std_error)}), raw claim "
            f"{_fmt(self.raw.estimate)}",
            f"  bias of the self-estimates {_fmt(self.bias)} ({level:.0%} CI {_fmt(lo)} to {_fmt(hi)}); they "
            f"claim {self.ratio:.2f} x the causal effect",
            f"  {self.n_respondents} respondents of {self.n_participants} participants; self-estimates are "
            "weak evidence, shown for calibration only",
        ])

    def _title(self) -> str:
        return "Self-estimates against the causal effect"

    def __repr__(self) -> str:
        return f"SelfEstimateResult(bias={self.bias:.4g}, ratio={self.ratio:.3g}, n={self.n_respondents})"


def _shares(df: pd.DataFrame, col: str, where: pd.Series, failures: list[Failure]) -> pd.Series:
    """A column of shares (all values in [0, 1]) or of percentages (some above 1). A column holding both
    fractions strictly between 0 and 1 and values above 1 (0.5 beside 50) is refused row by row: 0.5 may
    be a half or half a percent, and reading it either way silently changes the credited effect."""
    x = pd.to_numeric(df[col], errors="coerce")
    percent = bool((x > 1).any())
    share = x / 100 if percent else x
    bad = share.isna() | (share < 0) | (share > 1)
    for i in np.flatnonzero(bad.to_numpy()):
        failures.append(Failure(where.iloc[i], col, df[col].iloc[i],
                                "must be a share in [0, 1] or a percentage in [0, 100]"))
    if percent:
        for i in np.flatnonzero(((x > 0) & (x < 1)).to_numpy()):
            failures.append(Failure(where.iloc[i], col, df[col].iloc[i],
                                    "a fraction in a column of percentages (other rows are above 1): a share "
                                    "or a percent? Write every row of the column the same way"))
    return share


def self_estimates(estimates: pd.DataFrame, *, effect: Any = None, improvement: str = "improvement",
                   attributed: str = "attributed", confidence: str = "confidence",
                   participants: int | None = None) -> SelfEstimateResult:
    """Put Phillips self-estimates beside the causal effect and report their bias.

    Parameters
    ----------
    estimates : DataFrame
        One row per respondent: the claimed improvement of the outcome per period (outcome units), the
        share of it attributed to the programme and the confidence in that estimate (shares in [0, 1] or
        percentages in [0, 100]).
    effect : result, optional
        The causal effect per participant and period (``.estimate`` and ``.std_error``), e.g.
        ``callaway_santanna(panel).aggregate("simple")`` or :func:`impactlab.roi.exposure`. Without one
        (no comparison group), the result carries the credited effect alone, with no bias.
    improvement, attributed, confidence : str
        Column names.
    participants : int, optional
        Number of participants asked. Non-respondents count as no improvement (Phillips' "no data, no
        improvement"), so the mean credited change is taken over all of them.

    Returns
    -------
    SelfEstimateResult
        ``credited`` and ``raw`` effects, ``bias`` with ``bias_conf_int()``, ``ratio``; pass the result
        to :func:`impactlab.roi` for the estimate-based ROI (it takes the credited, error-adjusted effect).

    Raises
    ------
    DataError
        Missing columns, non-numeric improvements, shares outside [0, 1] (or percentages outside [0, 100]).
    """
    if not isinstance(estimates, pd.DataFrame):
        raise TypeError(f"self_estimates expects a DataFrame. Got {type(estimates).__name__} instead.")
    missing = [c for c in (improvement, attributed, confidence) if c not in estimates]
    if missing:
        raise DataError(f"The self-estimates lack the column(s) {', '.join(missing)}.",
                        hint="Name them with improvement=, attributed=, confidence=; columns seen: "
                             f"{', '.join(map(str, estimates.columns))}.")
    if effect is not None and not (hasattr(effect, "estimate") and hasattr(effect, "std_error")):
        raise TypeError("The 'effect' parameter must be a result with .estimate and .std_error, or None. "
                        f"Got {type(effect).__name__} instead.")
    where = estimates["source_row"] if "source_row" in estimates else pd.Series(estimates.index)
    failures: list[Failure] = []
    imp = pd.to_numeric(estimates[improvement], errors="coerce")
    for i in np.flatnonzero(imp.isna().to_numpy()):
        failures.append(Failure(where.iloc[i], improvement, estimates[improvement].iloc[i], "not a number"))
    att = _shares(estimates, attributed, where, failures)
    conf = _shares(estimates, confidence, where, failures)
    if failures:
        raise DataError(f"{len(failures)} problem(s) in the self-estimates.", failures=failures,
                        hint="Fix the rows listed; shares are 0-1 or 0-100 within one column.")
    n_resp = len(estimates)
    n_all = n_resp if participants is None else int(participants)
    if n_all < n_resp or n_resp < 2:
        raise ValueError(f"Need at least 2 respondents and participants >= respondents ({n_resp}). "
                         f"Got participants={participants!r}.")
    credited = np.concatenate([(imp * att * conf).to_numpy(dtype="float64"), np.zeros(n_all - n_resp)])
    raw = imp.to_numpy(dtype="float64")

    def mean_result(x: np.ndarray, label: str) -> EffectResult:
        return EffectResult(estimate=float(x.mean()), std_error=float(x.std(ddof=1) / math.sqrt(len(x))),
                            term="credited change" if "credited" in label else "claimed change",
                            method="self_estimates", label=label, n_obs=len(x), df=float(len(x) - 1))

    cred = mean_result(credited, "Phillips self-estimates (credited)")
    claim = mean_result(raw, "participants' claimed improvement")
    effect_df = getattr(effect, "df", None)
    causal = None if effect is None else EffectResult(
        estimate=float(effect.estimate), std_error=float(effect.std_error),
        method=str(getattr(effect, "method", "")), label=str(getattr(effect, "label", "") or "causal effect"),
        df=float(effect_df) if isinstance(effect_df, (int, float)) and effect_df > 0 else None)
    bias = se = ratio = math.nan
    if causal is not None:
        bias = cred.estimate - causal.estimate
        se = math.hypot(cred.std_error, causal.std_error)
        ratio = cred.estimate / causal.estimate if causal.estimate != 0 else math.nan
    spec = {"columns": (improvement, attributed, confidence), "participants": participants}
    return SelfEstimateResult(credited=cred, raw=claim, causal=causal, bias=bias, bias_std_error=se,
                              ratio=ratio, n_respondents=n_resp, n_participants=n_all, spec=spec)
