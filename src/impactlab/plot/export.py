"""Write charts as deck-ready files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from impactlab.errors import check_option
from impactlab.plot.theme import DPI

#: File formats :func:`save` writes.
FORMATS = ("png", "svg", "pdf")


def save(fig: Figure | Axes, path: str | Path, *, formats: Sequence[str] = ("png", "svg"),
         dpi: int = DPI) -> list[Path]:
    """Write a chart in each format, at the figure's size (16:9 slide size for impactlab charts).

    Parameters
    ----------
    fig : Figure or Axes
        The chart (an Axes is saved with its figure).
    path : str or Path
        Destination without extension (``reports/roi``); an extension among ``formats`` is replaced.
        Missing parent folders are created.
    formats : sequence of {"png", "svg", "pdf"}
        One file per format.
    dpi : int
        Resolution of raster output (PNG): 150 gives 2000 x 1125 pixels for a 13.333 x 7.5 in figure.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Notes
    -----
    The figure is saved as it is, without ``bbox_inches="tight"``, so every file keeps the slide's
    aspect ratio and drops onto a 16:9 slide without rescaling.
    """
    if isinstance(fig, Axes):
        fig = fig.figure  # type: ignore[assignment]
    if not isinstance(fig, Figure):
        raise TypeError(f"save expects a matplotlib Figure or Axes. Got {type(fig).__name__} instead.")
    if isinstance(formats, str):
        formats = (formats,)
    if not formats:
        raise ValueError("The 'formats' parameter must name at least one format, e.g. ('png', 'svg').")
    for f in formats:
        check_option("formats", f, FORMATS)
    base = Path(path)
    if base.suffix.lstrip(".").lower() in FORMATS:
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for f in formats:
        target = base.with_name(f"{base.name}.{f}")
        fig.savefig(target, format=f, dpi=dpi, facecolor="white")
        written.append(target)
    return written
