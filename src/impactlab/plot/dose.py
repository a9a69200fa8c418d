"""The dose-response chart: the effect of training by dose (hours, modules), with its bands."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from impactlab.errors import check_option
from impactlab.plot.charts import _method_note, _thousands, effect_unit
from impactlab.plot.theme import COLORS, deck_theme, figure_axes, finish, fmt_number
from impactlab.results.base import critical_value


def dose_response(result: Any, *, curve: Literal["ATT", "ACRT"] = "ATT", ax: Axes | None = None,
                  title: str | None = None, footnote: str | None = None, currency: str | None = None) -> Axes:
    """Effect by dose of training ("effect by hours of training"), with pointwise intervals and the band.

    Parameters
    ----------
    result : DoseResponseResult
        From :func:`impactlab.dose_response`.
    curve : {"ATT", "ACRT"}
        ``"ATT"``: the effect of taking dose ``d`` rather than none, ATT(d); ``"ACRT"``: the effect of one
        more unit of dose at ``d``, ACRT(d).
    ax : Axes, optional
        Where to draw; by default a new 16:9 figure.
    title : str, optional
        Replaces the default title, which states ATT^o (or ACRT^o) and its interval.
    footnote : str, optional
        Replaces the default footnote (method, units, observations, data window, what the bands are).
    currency : str, optional
        The currency of the outcome when it is money (e.g. ``"USD"``), named on the axis.

    Returns
    -------
    Axes

    Notes
    -----
    The dark band is pointwise (one dose at a time), the light band uniform over the doses shown (built to
    hold the whole curve at the same level; on simulated organisations it held it somewhat less often, see
    docs/validation.md); both at the level the result was fitted with
    (``spec["band_level"]``). Without bootstrap draws (``n_draws=None``) only the pointwise band is drawn.
    """
    check_option("curve", curve, ("ATT", "ACRT"))
    curves = getattr(result, "curves", None)
    if curves is None:
        raise TypeError("plot.dose_response expects the result of impactlab.dose_response. "
                        f"Got {type(result).__name__} instead.")
    frame = curves.loc[curves["curve"] == curve].sort_values("dose")
    spec = result.spec
    dose = str(spec.get("dose", "dose"))
    level = float(spec.get("band_level", 0.95))
    d = frame["dose"].to_numpy(dtype="float64")
    est = frame["estimate"].to_numpy(dtype="float64")
    unit = effect_unit(spec, currency)
    outcome = result.outcome or "the outcome"
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        has_band = bool(np.isfinite(frame["band_low"].to_numpy(dtype="float64")).all())
        if has_band:
            ax.fill_between(d, frame["band_low"], frame["band_high"], color=COLORS["pre"], alpha=0.25,
                            linewidth=0, label=f"Uniform {level:.0%} band")
        ax.fill_between(d, frame["conf_low"], frame["conf_high"], color=COLORS["causal"], alpha=0.35,
                        linewidth=0, label=f"Pointwise {level:.0%} interval")
        name = (f"ATT(d): effect of d {dose} vs none" if curve == "ATT"
                else f"ACRT(d): one more unit of {dose}")
        ax.plot(d, est, color=COLORS["causal"], linewidth=3, label=name)
        ax.axhline(0, color=COLORS["truth"], linewidth=1.2)
        ax.set_xlabel(f"{dose.capitalize()} of training (per employee, before training)")
        per = unit if curve == "ATT" else f"{unit}, per unit of {dose}"
        ax.set_ylabel(f"Effect on {outcome} ({per})")
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.legend(loc="upper left")
        if title is None:
            if curve == "ATT":
                lo, hi = result.conf_int(level)
                title = (f"Effect by {dose} of training: trained employees gained "
                         f"{fmt_number(result.estimate)} on average ({level:.0%} CI {fmt_number(lo)} to "
                         f"{fmt_number(hi)})")
            else:
                z = critical_value(level)
                lo, hi = result.acrt - z * result.acrt_std_error, result.acrt + z * result.acrt_std_error
                title = (f"Each extra unit of {dose} added {fmt_number(result.acrt)} on average "
                         f"({level:.0%} CI {fmt_number(lo)} to {fmt_number(hi)})")
        if footnote is None:
            note = _method_note(result)
            footnote = (f"{note + '. ' if note else ''}Curve at the 10th to 99th percentiles of the trained "
                        f"employees' {dose}; comparison: never-trained employees. Comparing doses assumes "
                        "no one chose their dose for the gain (strong parallel trends).")
        finish(ax, title, footnote, new=new)
    return ax
