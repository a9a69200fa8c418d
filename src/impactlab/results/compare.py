"""The result of :func:`impactlab.compare`: naive and causal estimates side by side, the comparison the
library exists to show (the function, which runs the estimators, is in :mod:`impactlab.analysis`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.results.base import TIDY_COLUMNS, EffectResult, _fmt, frame_html, inference_frame

#: Whether each method identifies a causal effect under its stated assumption, for display.
CAUSAL = {"naive_difference": False, "pre_post": False, "regression": False, "twfe": False,
          "callaway_santanna": True, "imputation": True}


@dataclass(frozen=True, repr=False, eq=False)
class CompareResult:
    """Several estimates of the same effect, one row each, with the truth when it is known.

    The headline (``estimate``, ``std_error``, ``conf_int``) is the causal estimate (``causal_method``);
    ``tidy(level)`` has its row first, then the other methods in display order.

    Attributes
    ----------
    results : mapping of str to EffectResult
        The individual results, keyed by method, in display order.
    truth : float or None
        The true effect (simulated data only).
    causal_method : str
        The method whose estimate is the headline (``.estimate``, ``.std_error``).
    """

    results: Mapping[str, EffectResult]
    truth: float | None = None
    causal_method: str = "callaway_santanna"
    outcome: str = ""
    spec: Mapping[str, Any] = field(default_factory=dict)

    @property
    def causal(self) -> EffectResult:
        return self.results[self.causal_method]

    @property
    def naive(self) -> EffectResult:
        return self.results["naive_difference"]

    @property
    def estimate(self) -> float:
        return self.causal.estimate

    @property
    def std_error(self) -> float:
        return self.causal.std_error

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        return self.causal.conf_int(level)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per method, the causal one first: the tidy columns, then ``method``, ``label``, ``causal``,
        ``truth`` and ``bias_in_se``."""
        results = sorted(self.results.items(), key=lambda kv: kv[0] != self.causal_method)
        rows = []
        for key, res in results:
            lo, hi = res.conf_int(level)
            rows.append({"term": res.term, "estimate": res.estimate, "std_error": res.std_error,
                         "conf_low": lo, "conf_high": hi, "method": key, "label": res.label,
                         "causal": CAUSAL.get(key, False), "df": res.df})
        out = pd.DataFrame(rows)
        inf = inference_frame(out["estimate"], out["std_error"], level)
        # p-values and statistics follow each result's own reference distribution
        out["statistic"] = inf["statistic"]
        out["p_value"] = [res.p_value for _, res in results]
        out["truth"] = np.nan if self.truth is None else self.truth
        out["bias_in_se"] = (out["estimate"] - out["truth"]) / out["std_error"]
        return out[list(TIDY_COLUMNS) + ["method", "label", "causal", "truth", "bias_in_se"]]

    def summary(self, level: float = 0.95) -> str:
        t = self.tidy(level).set_index("method", drop=False).loc[list(self.results)]  # display order
        lines = [f"Estimates of the training effect on {self.outcome or 'the outcome'} ({level:.0%} CI):"]
        for _, r in t.iterrows():
            tag = "causal" if r["causal"] else "not causal"
            lines.append(f"  {r['label']:<38} {_fmt(r['estimate']):>10}  [{_fmt(r['conf_low'])}, "
                         f"{_fmt(r['conf_high'])}]  ({tag})")
        if self.truth is not None:
            lines.append(f"  {'Truth (simulated data)':<38} {_fmt(self.truth):>10}")
        return "\n".join(lines)

    def explain(self, level: float = 0.95, event_study: EffectResult | None = None) -> Any:
        """What the comparison lets you claim: the causal effect, how far the naive number is from it, why.

        Parameters
        ----------
        level : float
            Confidence level of the intervals quoted.
        event_study : EffectResult, optional
            The dynamic aggregation of the same design (``callaway_santanna(...).aggregate("dynamic")``);
            when given, its pre-training effects are tested jointly and the test is reported.

        Returns
        -------
        Explanation
            See :class:`impactlab.results.explain.Explanation`; ``str()`` of it is plain text.
        """
        from impactlab.results.explain import explain_compare

        return explain_compare(self, level, event_study)

    def _repr_html_(self) -> str:
        lines = [] if self.truth is None else [f"True effect (simulated data): {_fmt(self.truth)}"]
        cols = ["label", "estimate", "std_error", "conf_low", "conf_high", "p_value", "causal"]
        return frame_html(self.tidy()[cols], f"Naive vs causal: effect on {self.outcome}", lines)

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v.estimate:.4g}" for k, v in self.results.items())
        return f"CompareResult({parts}{'' if self.truth is None else f', truth={self.truth:.4g}'})"

