"""The result protocol every public result answers (:class:`Result`), the helpers that build its tidy
rows (:class:`ReportedRows`), and :class:`EffectResult`, the frozen result of every effect estimator.
Fitting returns a new result; nothing is changed in place. Results are frozen to the bottom (see
:mod:`impactlab.results._frozen`): their arrays are read-only views and their tables are read as
copy-on-write copies, so ``result.influence[:] = 0`` raises and ``result.elements.loc[0, "estimate"] = 5``
edits only the copy, never what a deck or a later aggregation reads.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.results._frozen import freeze, freeze_array, freeze_fields, restore_frozen

__all__ = ["TIDY_COLUMNS", "EffectResult", "ReportedRows", "Result", "critical_value", "freeze",
           "freeze_array", "freeze_fields", "frame_html", "inference_frame", "normal_row", "rescaled",
           "restore_frozen", "tidy_frame"]

#: Columns of every ``tidy()`` frame, in this order (keys such as cohort or event_time follow).
TIDY_COLUMNS = ("term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")


def critical_value(level: float, df: float | None = None) -> float:
    """Two-sided critical value of the normal (``df=None``) or Student t distribution."""
    if not 0 < level < 1:
        raise ValueError(f"The 'level' parameter must be between 0 and 1 (e.g. 0.95). Got {level!r} instead.")
    q = 0.5 + level / 2
    return float(stats.norm.ppf(q) if df is None else stats.t.ppf(q, df))


def inference_frame(estimate: Any, std_error: Any, level: float = 0.95, df: float | None = None,
                    crit: Any = None) -> pd.DataFrame:
    """statistic, p_value, conf_low, conf_high for arrays of estimates and standard errors.

    ``crit`` overrides the critical value (e.g. a uniform band's); p-values stay pointwise.
    """
    est = np.atleast_1d(np.asarray(estimate, dtype="float64"))
    se = np.atleast_1d(np.asarray(std_error, dtype="float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 0, est / se, np.nan)
    if df is None:
        p = 2 * stats.norm.sf(np.abs(stat))
    else:
        p = 2 * stats.t.sf(np.abs(stat), df)
    c = critical_value(level, df) if crit is None else np.asarray(crit, dtype="float64")
    return pd.DataFrame({"statistic": stat, "p_value": p, "conf_low": est - c * se,
                         "conf_high": est + c * se})


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "—"
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if not np.isfinite(x):
        return "—"
    if x.is_integer() and abs(x) < 1e7:
        return str(int(x))
    return f"{x:,.{digits}g}" if abs(x) >= 1e5 or (0 < abs(x) < 1e-3) else f"{x:,.{digits}f}"


def frame_html(df: pd.DataFrame, title: str, lines: list[str]) -> str:
    """Small, dependency-free HTML block: a title, some lines and a table."""
    head = f"<h4 style='margin:0.2em 0'>{html.escape(title)}</h4>"
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    table = df.to_html(index=False, float_format=lambda v: _fmt(v), border=0, na_rep="—")
    return f"<div class='impactlab-result'>{head}{body}{table}</div>"


# --------------------------------------------------------------------------------------- the protocol
@runtime_checkable
class Result(Protocol):
    """What every public result answers: a headline number, its uncertainty, a tidy table and prose.

    ``estimate`` is the result's headline (each class says which number that is), ``std_error`` its
    standard error (NaN when the quantity has none), ``conf_int(level)`` the interval the result really
    has for it ((nan, nan) when none), ``tidy(level)`` one row per reported quantity with the columns of
    :data:`TIDY_COLUMNS` first and the headline row first, ``summary()`` plain text, ``explain(level)``
    a plain-language :class:`~impactlab.results.explain.Explanation` and ``_repr_html_()`` the notebook
    view. Tables that are not effects are ``.table``.

    A :class:`typing.Protocol` rather than an abstract base class: results are frozen dataclasses with
    their own fields and bases (``EffectResult`` and its subclasses, the Callaway–Sant'Anna fit, ROI,
    the Kirkpatrick levels), and an abstract base would add a class to every hierarchy without adding
    behaviour, while a structural type is checked by mypy where a result is consumed and, being
    runtime-checkable, by ``isinstance`` (which sees that the members exist; the contract test in
    ``tests/contract`` checks what they return). Shared behaviour comes from :class:`ReportedRows`.
    """

    @property
    def estimate(self) -> float: ...

    @property
    def std_error(self) -> float: ...

    def conf_int(self, level: float = 0.95) -> tuple[float, float]: ...

    def tidy(self, level: float = 0.95) -> pd.DataFrame: ...

    def summary(self) -> str: ...

    def explain(self, level: float = 0.95) -> Any: ...

    def _repr_html_(self) -> str: ...


Row = dict[str, Any]

_NUMERIC = TIDY_COLUMNS[1:]


def tidy_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The tidy frame of ``rows`` (mappings, headline first): the columns of :data:`TIDY_COLUMNS` first,
    NaN where a row has no such value, then every other key in the order it first appears."""
    frame = pd.DataFrame([dict(r) for r in rows])
    for c in TIDY_COLUMNS:
        if c not in frame:
            frame[c] = np.nan
    for c in _NUMERIC:
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    keys = [c for c in frame.columns if c not in TIDY_COLUMNS]
    for k in keys:
        present = [r[k] for r in rows if k in r and r[k] is not None and not pd.isna(r[k])]
        if present and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                           for v in present):
            frame[k] = integer_keys(frame[k])
    return frame[list(TIDY_COLUMNS) + keys].reset_index(drop=True)


def integer_keys(column: pd.Series) -> pd.Series:
    """An integer key column (event time, a cohort given as a year) that a headline row left empty, as
    nullable integers: shown as ``-3``, not ``-3.0``."""
    return column.astype("Int64")


def normal_row(term: str, estimate: float, std_error: float, level: float = 0.95, df: float | None = None,
               *, test: bool = True, **keys: Any) -> Row:
    """One tidy row whose interval is ``estimate ± c · std_error`` (normal, or Student t with ``df``).

    With ``test`` the row also carries the statistic and p-value of ``estimate = 0``; leave it off for a
    quantity whose zero is no hypothesis anyone holds (a mean rating, a minimum detectable effect).
    """
    inf = inference_frame(estimate, std_error, level, df).iloc[0]
    row: Row = {"term": term, "estimate": float(estimate), "std_error": float(std_error),
                "conf_low": float(inf["conf_low"]), "conf_high": float(inf["conf_high"])}
    if test:
        row.update(statistic=float(inf["statistic"]), p_value=float(inf["p_value"]))
    return {**row, **keys}


def rescaled(estimate: float, low: float, high: float, from_level: float,
             to_level: float) -> tuple[float, float]:
    """A symmetric normal interval computed at ``from_level``, restated at ``to_level`` (same centre)."""
    if np.isclose(from_level, to_level):
        return float(low), float(high)
    ratio = critical_value(to_level) / critical_value(from_level)
    return float(estimate - (estimate - low) * ratio), float(estimate + (high - estimate) * ratio)


class ReportedRows:
    """``conf_int``, ``tidy`` and ``_repr_html_`` of a result that reports a few quantities (a mixin).

    A result class defines ``estimate``, ``std_error``, ``summary()``, ``explain()`` and ``_rows(level)``:
    one mapping per reported quantity, the headline first, each with ``term``, ``estimate`` and whichever
    of ``std_error``, ``statistic``, ``p_value``, ``conf_low``, ``conf_high`` it really has, then its key
    columns. It gets the headline interval, the tidy frame (:func:`tidy_frame`) and an HTML view of that
    frame titled :meth:`_title`; any of them may be overridden.
    """

    def _rows(self, level: float) -> list[Row]:
        raise NotImplementedError

    def _title(self) -> str:
        return type(self).__name__

    def _html_lines(self) -> list[str]:
        summary = getattr(self, "summary", None)
        return str(summary()).splitlines()[:2] if callable(summary) else []

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the headline at ``level``; (nan, nan) when the headline has none."""
        critical_value(level)
        row = self._rows(level)[0]
        return float(row.get("conf_low", np.nan)), float(row.get("conf_high", np.nan))

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per reported quantity, the headline first (see :func:`tidy_frame`)."""
        critical_value(level)
        return tidy_frame(self._rows(level))

    def _repr_html_(self) -> str:
        return frame_html(self.tidy(), self._title(), self._html_lines())


@dataclass(frozen=True, repr=False, eq=False)
class EffectResult:
    """One estimated effect, optionally with the elements it aggregates (cohorts, event times…).

    Answers the :class:`Result` protocol: the headline (``estimate``) is the estimator's effect, and
    ``tidy(level)`` has its row first, then one row per element.

    Frozen: fields cannot be reassigned, arrays are read-only views and each read of a table gives a
    copy-on-write copy, which may be edited without changing the result. Freezing copies no data
    (subclasses inherit it through ``__post_init__``).

    Attributes
    ----------
    estimate, std_error : float
        The headline effect and its standard error.
    term : str
        What the estimate is (e.g. ``"ATT"``, ``"trained"``).
    method : str
        Short name of the estimator (``"callaway_santanna"``, ``"twfe"``...).
    label : str
        Human description, used in tables, charts and decks.
    outcome : str
        Name of the outcome.
    n_obs, n_units : int or None
        Observations and units used.
    df : float or None
        Degrees of freedom for t-based inference; ``None`` means normal.
    elements : DataFrame or None
        Per-element estimates (key columns, ``estimate``, ``std_error``, optional ``crit`` for bands).
    influence : ndarray or None
        Per-unit influence function of ``estimate`` (length ``n_units``), when the estimator has one.
    element_influence : ndarray or None
        Per-unit influence functions of the elements, shape ``(n_units, len(elements))``, same scaling.
    element_vcov : ndarray or None
        Covariance matrix of the element estimates (analytic, clustered as the estimator's standard errors),
        what joint tests and sensitivity analyses need.
    excluded : DataFrame
        Ledger of units or cells the estimator left out, with ``reason``.
    spec : mapping
        The arguments that produced the result.
    notes : tuple of str
        Caveats worth reading.
    """

    estimate: float
    std_error: float
    term: str = "ATT"
    method: str = ""
    label: str = ""
    outcome: str = ""
    n_obs: int | None = None
    n_units: int | None = None
    df: float | None = None
    elements: pd.DataFrame | None = None
    influence: np.ndarray | None = None
    element_influence: np.ndarray | None = None
    element_vcov: np.ndarray | None = None
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["what", "id", "reason"]))
    spec: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        freeze_fields(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)  # still frozen after pickle (multiprocessing, caches)

    # -- inference
    @property
    def statistic(self) -> float:
        return float(self.estimate / self.std_error) if self.std_error > 0 else float("nan")

    @property
    def p_value(self) -> float:
        return float(inference_frame(self.estimate, self.std_error, df=self.df)["p_value"].iloc[0])

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Confidence interval of the headline estimate at ``level``."""
        c = critical_value(level, self.df)
        return (float(self.estimate - c * self.std_error), float(self.estimate + c * self.std_error))

    # -- tables
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """Headline row first, then one row per element, with the columns of :data:`TIDY_COLUMNS`.

        Key columns (cohort, time, event_time…) follow, then ``method``. A uniform band (``crit`` in
        ``elements``) holds only at the level it was computed at (``spec["band_level"]``); at any other
        ``level`` the element intervals are pointwise.
        """
        head = pd.DataFrame({"term": [self.term], "estimate": [self.estimate], "std_error": [self.std_error]})
        head = pd.concat([head, inference_frame(head["estimate"], head["std_error"], level, self.df)], axis=1)
        frames = [head]
        keys: list[str] = []
        if self.elements is not None and len(self.elements):
            el = self.elements.reset_index(drop=True)
            keys = [c for c in el.columns if c not in ("estimate", "std_error", "crit", "term")]
            crit = el.get("crit", None)
            band_level = self.spec.get("band_level")
            if crit is not None and band_level is not None and not np.isclose(level, float(band_level)):
                crit = None  # the sup-t value belongs to band_level; pointwise at any other level
            part = pd.concat([el[["estimate", "std_error"]],
                              inference_frame(el["estimate"], el["std_error"], level, self.df, crit)], axis=1)
            if "term" in el:
                part.insert(0, "term", el["term"])
            else:
                part.insert(0, "term", [f"{self.term}(" + ", ".join(f"{k}={_fmt(r[k])}" for k in keys) + ")"
                                        for _, r in el.iterrows()])
            for k in keys:
                part[k] = el[k]
            frames.append(part)
        out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        for k in keys:
            if k not in out:
                out[k] = np.nan
            elif self.elements[k].dtype.kind in "iu":  # type: ignore[index]
                out[k] = integer_keys(out[k])
        out["method"] = self.method
        return out[list(TIDY_COLUMNS) + keys + ["method"]]

    def summary(self, level: float = 0.95) -> str:
        """Plain-text summary: the estimate, its interval and the elements."""
        lo, hi = self.conf_int(level)
        lines = [
            f"{self.label or self.method}: {self.term} on {self.outcome or 'the outcome'}",
            (f"  estimate {_fmt(self.estimate)}  (std. error {_fmt(self.std_error)}, "
            f"{level:.0%} CI {_fmt(lo)} to {_fmt(hi)}, p = {_fmt(self.p_value, 3)})"),
            f"  {_fmt(self.n_obs)} observations, {_fmt(self.n_units)} units",
        ]
        if len(self.excluded):
            lines.append(f"  excluded: {len(self.excluded)} (see .excluded)")
        lines += [f"  note: {n}" for n in self.notes]
        if self.elements is not None and len(self.elements):
            lines.append(self.tidy(level).iloc[1:].drop(columns=["method"]).to_string(index=False))
        return "\n".join(lines)

    def explain(self, level: float = 0.95) -> Any:
        """What this result lets you claim, and what it does not, in plain language.

        Covers the effect and its interval, the identifying assumption of the method, the comparison group,
        the joint pre-training test when the result has pre-training event times (an event study), and the
        caveats the estimator recorded. ``str(result.explain())`` is ready for speaker notes; in a notebook
        it renders as HTML.

        Parameters
        ----------
        level : float
            Confidence level of the interval quoted.

        Returns
        -------
        Explanation
            See :class:`impactlab.results.explain.Explanation`.
        """
        from impactlab.results.explain import explain_effect

        return explain_effect(self, level)

    def _html_lines(self) -> list[str]:
        """The lines above the table of :meth:`_repr_html_`: headline, exclusions, notes."""
        lo, hi = self.conf_int()
        lines = [(f"{self.term} = {_fmt(self.estimate)} (SE {_fmt(self.std_error)}, 95% CI {_fmt(lo)} to "
                 f"{_fmt(hi)}); {_fmt(self.n_obs)} observations, {_fmt(self.n_units)} units")]
        if len(self.excluded):
            lines.append(f"{len(self.excluded)} excluded (see .excluded)")
        return lines + [f"Note: {n}" for n in self.notes]

    def _repr_html_(self) -> str:
        return frame_html(self.tidy().drop(columns=["method"]), self.label or self.method, self._html_lines())

    def __repr__(self) -> str:
        return (f"EffectResult(method={self.method!r}, term={self.term!r}, estimate={self.estimate:.6g}, "
                f"std_error={self.std_error:.6g})")
