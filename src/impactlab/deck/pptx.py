"""A 16:9 PowerPoint deck of charts and results.

python-pptx is the optional extra ``deck`` (``pip install "impactlab[deck]"``). It is imported only when
:meth:`Deck.save` runs, so building a deck needs nothing beyond matplotlib.
"""

from __future__ import annotations

import io
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impactlab.errors import DataQualityWarning, require

#: Slide size in EMU (English Metric Units, 914,400 per inch): 13.333 x 7.5 in, PowerPoint widescreen.
SLIDE_WIDTH = 12_192_000
SLIDE_HEIGHT = 6_858_000
_EMU_PER_INCH = 914_400
_MARGIN = int(0.3 * _EMU_PER_INCH)
_TITLE_HEIGHT = int(0.9 * _EMU_PER_INCH)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


#: Characters a .pptx (XML 1.0) cannot hold, and other control characters that only garble a slide: C0
#: controls but tab, line feed and carriage return; DEL and C1 controls; surrogates; U+FFFE and U+FFFF.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _clean(value: str, field: str, stacklevel: int = 3) -> str:
    """``value`` without the characters a deck cannot show, with a warning naming ``field`` when any went."""
    found = _ILLEGAL.findall(value)
    if not found:
        return value
    shown = ", ".join(sorted({f"U+{ord(c):04X}" for c in found}))
    seen = value if len(value) <= 60 else value[:57] + "..."
    warnings.warn(f"Deck: the {field} {seen!r} holds {len(found)} control or XML-illegal character(s) "
                  f"({shown}) that a .pptx cannot store; they were removed.", DataQualityWarning,
                  stacklevel=stacklevel)
    return _ILLEGAL.sub("", value)


def _clean_optional(value: str | None, field: str) -> str | None:
    return None if value is None else _clean(value, field, stacklevel=4)


def _money_format(currency: str) -> str:
    """Excel number format of whole amounts of ``currency`` (a sign for the common ones, else the code)."""
    sign = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}.get(currency.upper())
    return f'"{sign}"#,##0' if sign else f'"{currency} "#,##0'


@dataclass(frozen=True)
class _Slide:
    kind: str  # "picture", "text", "prose", "bars" or "waterfall"
    title: str | None
    note: str | None
    image: bytes | None = None
    alt: str | None = None
    text: str | None = None
    bars: tuple[tuple[str, float], ...] = ()
    number_format: str = "#,##0"
    paragraphs: tuple[str, ...] = ()
    steps: tuple[tuple[str, float, float], ...] = ()  # waterfall: label, from, to
    labels: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()  # bars: one hex colour per bar ("" keeps the default)


def notes_for(result: Any, level: float = 0.95) -> str:
    """Speaker notes for a result: its plain-language explanation (method, assumption, caveats), then
    its summary (the numbers behind the slide).

    Works for any object with ``.explain()`` and/or ``.summary()``; returns ``""`` when it has neither.
    """
    parts = []
    explain = getattr(result, "explain", None)
    if callable(explain):
        parts.append(str(explain(level=level)))
    summary = getattr(result, "summary", None)
    if callable(summary):
        parts.append(str(summary()))
    return "\n\n".join(parts)


def _figure_of(item: Any) -> Any:
    """The matplotlib Figure of a Figure or Axes, or ``None``."""
    try:
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a core dependency
        return None
    if isinstance(item, Axes):
        return getattr(item.figure, "figure", item.figure)
    if isinstance(item, Figure):
        return item
    return None


def _figure_title(fig: Any) -> str:
    for ax in fig.axes:
        for loc in ("left", "center", "right"):
            text = ax.get_title(loc)
            if text:
                return " ".join(text.split())
    return ""


class Deck:
    """A slide deck: a title slide, then one chart or result per slide.

    Parameters
    ----------
    title : str
        Title of the deck (first slide).
    subtitle : str, optional
        Shown under the title (e.g. programme, data window, date).

    Examples
    --------
    >>> deck = Deck("Consultative Selling: impact on revenue", subtitle="Causal evaluation and ROI")
    >>> len(deck)   # the title slide
    1

    Then ``deck.add(fig, note="...").add(roi_result).save("impact.pptx")``.
    """

    def __init__(self, title: str, subtitle: str | None = None) -> None:
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"The 'title' parameter must be a non-empty string. Got {title!r} instead.")
        if subtitle is not None and not isinstance(subtitle, str):
            raise ValueError(f"The 'subtitle' parameter must be a string or None. Got {subtitle!r} instead.")
        self.title = _clean(title, "deck title")
        self.subtitle = _clean_optional(subtitle, "deck subtitle")
        self._slides: list[_Slide] = []

    def __len__(self) -> int:
        """Number of slides, the title slide included."""
        return 1 + len(self._slides)

    def __repr__(self) -> str:
        return f"Deck(title={self.title!r}, slides={len(self)})"

    def add(self, item: Any, *, title: str | None = None, note: str | None = None,
            alt: str | None = None, result: Any = None) -> Deck:
        """Add one slide and return the deck (so calls chain).

        Parameters
        ----------
        item : Figure, Axes, path, or result
            A matplotlib Figure or Axes (rendered to PNG now, at its own size and 150 dpi, so later
            changes to the figure do not reach the deck); a path to a PNG or JPEG file; or any result
            with ``.summary()`` (e.g. an EffectResult, CompareResult or RoiResult) for a text slide.
        title : str, optional
            Slide title, editable text above the chart. Charts default to their own title (the takeaway;
            pass a chart drawn with ``title=""`` to keep the words only on the slide); results default to
            their label; a picture file to its name.
        note : str, optional
            Speaker notes (e.g. ``result.summary()``: the numbers behind the chart).
        alt : str, optional
            Alternative text of the picture, read by screen readers. Defaults to the chart's title (or
            the file name, or the slide title).
        result : result, optional
            The result the slide shows. When ``note`` is not given, the notes are built from it with
            :func:`notes_for` (its ``explain()``: method, assumption and caveats; then its ``summary()``).
            A result passed as ``item`` gets such notes by default too.

        Returns
        -------
        Deck
            This deck.

        Raises
        ------
        FileNotFoundError
            A path that does not exist.
        TypeError
            An item of another kind.
        """
        for name, value in (("title", title), ("note", note), ("alt", alt)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"The {name!r} parameter must be a string or None. "
                                f"Got {type(value).__name__} instead.")
        if note is None and result is not None:
            note = notes_for(result) or None
        title, note, alt = (_clean_optional(title, "slide title"), _clean_optional(note, "note"),
                            _clean_optional(alt, "alt text"))
        fig = _figure_of(item)
        if fig is not None:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=150, facecolor="white")
            data = buf.getvalue()
            chart_title = _clean(_figure_title(fig), "chart title")
            alt = alt or chart_title or title or "Chart"
            self._slides.append(_Slide("picture", title or chart_title or "Chart", note, data, alt))
            return self
        if isinstance(item, (str, os.PathLike)):
            path = Path(item)
            if path.suffix.lower() not in _IMAGE_SUFFIXES:
                raise ValueError(f"Deck.add takes pictures as PNG or JPEG files. Got {str(path)!r}; save the "
                                 "chart with impactlab.plot.save(fig, path) and pass the .png path.")
            if not path.is_file():
                raise FileNotFoundError(f"Deck.add: no picture at {str(path)!r}. Check the path (relative "
                                        f"paths start from {Path.cwd().name!r}).")
            data = path.read_bytes()
            name = _clean(path.stem.replace("_", " "), "file name")
            alt = alt or title or name
            self._slides.append(_Slide("picture", title or name[:1].upper() + name[1:], note, data, alt))
            return self
        if callable(getattr(item, "summary", None)):
            text = _clean(str(item.summary()), "result summary")
            heading = title or _clean(str(getattr(item, "label", "") or type(item).__name__), "result label")
            if note is None and callable(getattr(item, "explain", None)):
                note = _clean(str(item.explain()), "note")
            self._slides.append(_Slide("text", heading, note, text=text))
            return self
        raise TypeError("Deck.add takes a matplotlib Figure or Axes, a path to a PNG/JPEG file, or a result "
                        f"with .summary(). Got {type(item).__name__} instead.")

    def add_bars(self, values: Mapping[str, float], *, title: str, note: str | None = None,
                 number_format: str = "#,##0", result: Any = None) -> Deck:
        """Add a native, editable PowerPoint bar chart (the numbers stay editable in PowerPoint).

        Parameters
        ----------
        values : mapping of str to float
            Category -> value, in display order (e.g. ``{"Naive": 1874.0, "Causal": 946.0}``).
        title : str
            Slide title: the takeaway, with its number.
        note : str, optional
            Speaker notes; by default built from ``result`` when given.
        number_format : str
            Excel-style format of the data labels (``"#,##0"``, ``"0.0%"``, ``'"$"#,##0'``).
        result : result, optional
            Source of the default notes (see :meth:`add`).

        Returns
        -------
        Deck
            This deck.
        """
        if not isinstance(values, Mapping) or not values:
            raise ValueError("Deck.add_bars needs a non-empty mapping of category -> number, e.g. "
                             f"{{'Naive': 5.1, 'Causal': 2.3}}. Got {values!r} instead.")
        bars = []
        for k, v in values.items():
            try:
                number = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"Deck.add_bars: the value of {k!r} must be a number. Got {v!r}.") from None
            if not math.isfinite(number):
                raise ValueError(f"Deck.add_bars: the value of {k!r} must be finite. Got {v!r}.")
            bars.append((_clean(str(k), "category"), number))
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"Deck.add_bars: 'title' must be a non-empty string. Got {title!r} instead.")
        if note is None and result is not None:
            note = notes_for(result) or None
        title, note = _clean(title, "slide title"), _clean_optional(note, "note")
        number_format = _clean(number_format, "number format")
        self._slides.append(_Slide("bars", title, note, bars=tuple(bars), number_format=number_format,
                                   alt=title))
        return self

    def add_text(self, text: str | Sequence[str], *, title: str, note: str | None = None) -> Deck:
        """Add a slide of editable prose: one paragraph per item (or per line of a string).

        Parameters
        ----------
        text : str or sequence of str
            The paragraphs. A paragraph starting with ``"- "`` is a bullet point.
        title : str
            Slide title.
        note : str, optional
            Speaker notes.

        Returns
        -------
        Deck
            This deck.
        """
        if isinstance(text, str):
            items = text.splitlines()
        elif isinstance(text, Sequence) and all(isinstance(t, str) for t in text):
            items = list(text)
        else:
            raise TypeError("Deck.add_text takes a string or a sequence of strings (one per paragraph). "
                            f"Got {type(text).__name__} instead.")
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"Deck.add_text: 'title' must be a non-empty string. Got {title!r} instead.")
        if note is not None and not isinstance(note, str):
            raise TypeError(f"The 'note' parameter must be a string or None. Got {type(note).__name__}.")
        paragraphs = tuple(_clean(t, "slide text") for t in items if t.strip())
        self._slides.append(_Slide("prose", _clean(title, "slide title"), _clean_optional(note, "note"),
                                   paragraphs=paragraphs))
        return self

    def add_waterfall(self, r: Any, *, title: str | None = None, note: str | None = None) -> Deck:
        """Add the ROI waterfall (benefit, each cost category, net benefit) as a native PowerPoint chart.

        The bars, their labels and the numbers behind them stay editable in PowerPoint.

        Parameters
        ----------
        r : RoiResult
            From :func:`impactlab.roi`.
        title : str, optional
            Slide title; by default the ROI with its interval.
        note : str, optional
            Speaker notes; by default the ROI's ``explain()``.

        Returns
        -------
        Deck
            This deck.
        """
        from impactlab.plot.charts import roi_default_title, waterfall_steps
        from impactlab.plot.theme import fmt_money

        names, starts, ends = waterfall_steps(r)
        currency = getattr(r, "currency", "USD") or "USD"
        labels = tuple(fmt_money(b - a if i not in (0, len(names) - 1) else b, currency)
                       for i, (a, b) in enumerate(zip(starts, ends, strict=True)))
        title = roi_default_title(r) if title is None else title
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"Deck.add_waterfall: 'title' must be a non-empty string. Got {title!r}.")
        if note is None:
            note = notes_for(r) or None
        steps = tuple((_clean(n, "category"), float(a), float(b))
                      for n, a, b in zip(names, starts, ends, strict=True))
        self._slides.append(_Slide("waterfall", _clean(title, "slide title"), _clean_optional(note, "note"),
                                   steps=steps, labels=labels, alt=_clean(title, "slide title"),
                                   number_format=_money_format(currency)))
        return self

    # ------------------------------------------------------------------ writing
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the deck as a 16:9 ``.pptx`` file and return its path.

        Each chart fills its slide (below the title when there is one), keeping its aspect ratio, with
        the note as speaker notes and alternative text on the picture. Needs python-pptx (extra ``deck``).

        Raises
        ------
        MissingDependencyError
            python-pptx is not installed; the message names ``pip install "impactlab[deck]"``.
        """
        pptx = require("pptx", "deck", "Deck.save")
        from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
        from pptx.util import Pt

        target = Path(path)
        if target.suffix.lower() != ".pptx":
            raise ValueError("Deck.save writes PowerPoint files; the path must end in .pptx. "
                             f"Got {str(target)!r}.")
        prs = pptx.Presentation()
        prs.slide_width = SLIDE_WIDTH
        prs.slide_height = SLIDE_HEIGHT
        layouts = prs.slide_layouts
        _title_slide(prs.slides.add_slide(layouts[0]), self.title, self.subtitle)
        for spec in self._slides:
            slide = prs.slides.add_slide(layouts[5])  # "Title Only": the title stays a title placeholder
            title_shape = slide.shapes.title
            _place(title_shape, _MARGIN, _MARGIN, SLIDE_WIDTH - 2 * _MARGIN, _TITLE_HEIGHT)
            frame = title_shape.text_frame
            frame.word_wrap = True
            frame.text = spec.title or ""
            para = frame.paragraphs[0]
            para.alignment = PP_ALIGN.LEFT
            size = 28 if len(spec.title or "") <= 70 else 24 if len(spec.title or "") <= 110 else 20
            for run in para.runs:
                run.font.size = Pt(size)
                run.font.bold = True
            frame.vertical_anchor = MSO_ANCHOR.MIDDLE
            top = _MARGIN + _TITLE_HEIGHT
            if spec.kind == "picture":
                self._place_picture(slide, spec, top)
            elif spec.kind == "bars":
                self._place_bars(slide, spec, top)
            elif spec.kind == "waterfall":
                _place_waterfall(slide, spec, top)
            elif spec.kind == "prose":
                _place_prose(slide, spec.paragraphs, top)
            else:
                box = slide.shapes.add_textbox(_MARGIN, top, SLIDE_WIDTH - 2 * _MARGIN,
                                               SLIDE_HEIGHT - top - _MARGIN)
                frame = box.text_frame
                frame.word_wrap = True
                for i, line in enumerate((spec.text or "").splitlines() or [""]):
                    para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                    run = para.add_run()
                    run.text = line
                    run.font.name = "Consolas"
                    run.font.size = Pt(12)
            if spec.note:
                slide.notes_slide.notes_text_frame.text = spec.note
        target.parent.mkdir(parents=True, exist_ok=True)
        prs.save(str(target))
        return target

    @staticmethod
    def _place_bars(slide: Any, spec: _Slide, top: int) -> None:
        from pptx.chart.data import CategoryChartData
        from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_TICK_LABEL_POSITION
        from pptx.util import Pt

        data = CategoryChartData(number_format=spec.number_format)
        data.categories = [k for k, _ in spec.bars]
        data.add_series("Value", [v for _, v in spec.bars])
        frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, _MARGIN, top, SLIDE_WIDTH - 2 * _MARGIN,
                                       SLIDE_HEIGHT - top - _MARGIN, data)
        frame.name = "Chart"
        chart = frame.chart
        chart.has_legend = False
        chart.has_title = False
        chart.font.size = Pt(16)
        chart.value_axis.tick_labels.number_format = spec.number_format  # 2,000, as the bars' labels
        chart.value_axis.tick_labels.number_format_is_linked = False
        chart.value_axis.major_unit = _tick_step([v for _, v in spec.bars])  # about five labelled ticks
        if spec.text:  # the unit of the values, as the value axis' title
            axis = chart.value_axis
            axis.has_title = True
            axis.axis_title.text_frame.text = spec.text
            axis.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
            axis.axis_title.text_frame.paragraphs[0].runs[0].font.bold = False
        plot = chart.plots[0]
        plot.has_data_labels = True
        labels = plot.data_labels
        labels.number_format = spec.number_format
        labels.number_format_is_linked = False
        labels.position = XL_LABEL_POSITION.OUTSIDE_END
        plot.series[0].format.fill.solid()
        from pptx.dml.color import RGBColor

        plot.series[0].format.fill.fore_color.rgb = RGBColor(0x00, 0x72, 0xB2)  # Okabe-Ito blue
        for i, colour in enumerate(spec.colours):
            if colour:
                point = plot.series[0].points[i]
                point.format.fill.solid()
                point.format.fill.fore_color.rgb = RGBColor.from_string(colour.lstrip("#"))
        chart.category_axis.reverse_order = True  # first category on top, as listed
        chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW  # left of any negative bar
        _value_axis_at_bottom(chart)
        # alternative text for screen readers, on the graphic frame
        frame._element.nvGraphicFramePr.cNvPr.set("descr", spec.alt or spec.title or "Bar chart")

    @staticmethod
    def _place_picture(slide: Any, spec: _Slide, top: int) -> None:
        box_w = SLIDE_WIDTH - 2 * _MARGIN
        box_h = SLIDE_HEIGHT - top - _MARGIN
        pic = slide.shapes.add_picture(io.BytesIO(spec.image or b""), 0, 0)  # native size first
        scale = min(box_w / pic.width, box_h / pic.height)
        pic.width, pic.height = int(pic.width * scale), int(pic.height * scale)
        pic.left = (SLIDE_WIDTH - pic.width) // 2
        pic.top = top + (box_h - pic.height) // 2
        pic.name = "Chart"
        # python-pptx has no public setter for alternative text; it is the descr attribute of cNvPr
        pic._element.nvPicPr.cNvPr.set("descr", spec.alt or "")


def _place(shape: Any, left: int, top: int, width: int, height: int) -> None:
    """Position a placeholder on its slide (the default template's layouts are drawn for 4:3)."""
    shape.left, shape.top, shape.width, shape.height = left, top, width, height


def _title_slide(slide: Any, title: str, subtitle: str | None) -> None:
    """The first slide, centred on the 16:9 page: the title wraps inside its own box (anchored at its
    bottom, type smaller for long names) and never runs into the subtitle below it."""
    from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
    from pptx.util import Pt

    side = int(0.9 * _EMU_PER_INCH)
    width = SLIDE_WIDTH - 2 * side
    head = slide.shapes.title
    _place(head, side, int(1.1 * _EMU_PER_INCH), width, int(2.9 * _EMU_PER_INCH))
    frame = head.text_frame
    frame.text = title
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = MSO_ANCHOR.BOTTOM
    size = 40 if len(title) <= 60 else 34 if len(title) <= 100 else 28 if len(title) <= 150 else 22
    for para in frame.paragraphs:
        para.alignment = PP_ALIGN.CENTER
        for run in para.runs:
            run.font.size = Pt(size)
            run.font.bold = True
    if len(slide.placeholders) > 1:
        sub = slide.placeholders[1]
        if subtitle:
            _place(sub, side, int(4.25 * _EMU_PER_INCH), width, int(1.6 * _EMU_PER_INCH))
            sub.text_frame.text = subtitle
            sub.text_frame.word_wrap = True
            sub.text_frame.vertical_anchor = MSO_ANCHOR.TOP
            for para in sub.text_frame.paragraphs:
                para.alignment = PP_ALIGN.CENTER
                for run in para.runs:
                    run.font.size = Pt(22)
        else:
            sub._element.getparent().remove(sub._element)


def _tick_step(values: Sequence[float], ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about ``ticks`` intervals over the values' range
    (zero included), so that the axis' labels never run into each other."""
    span = max(max(values), 0.0) - min(min(values), 0.0)
    if not span > 0:
        return 1.0
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _value_axis_at_bottom(chart: Any) -> None:
    """With the categories listed top to bottom (reversed), the value axis crosses at the last category,
    i.e. stays at the bottom (python-pptx sets this only from the other axis, so the XML is set here)."""
    from pptx.oxml.ns import qn

    crosses = chart.value_axis._element.find(qn("c:crosses"))
    if crosses is not None:
        crosses.set("val", "max")


def _place_prose(slide: Any, paragraphs: tuple[str, ...], top: int) -> None:
    """Editable paragraphs under the title; "- " starts a bullet; type shrinks as the text grows."""
    from pptx.util import Pt

    box = slide.shapes.add_textbox(_MARGIN, top, SLIDE_WIDTH - 2 * _MARGIN, SLIDE_HEIGHT - top - _MARGIN)
    box.name = "Text"
    frame = box.text_frame
    frame.word_wrap = True
    width_pt = (SLIDE_WIDTH - 2 * _MARGIN) / _EMU_PER_INCH * 72 - 30
    height_pt = (SLIDE_HEIGHT - top - _MARGIN) / _EMU_PER_INCH * 72 - 20
    size = 12
    for candidate in (24, 22, 20, 18, 16, 14):  # the largest type whose lines fit the box
        per_line = max(20, int(width_pt / (candidate * 0.52)))
        lines = sum(math.ceil(max(len(p), 1) / per_line) for p in paragraphs)
        if lines * candidate * 1.2 + len(paragraphs) * 8 <= height_pt:
            size = candidate
            break
    for i, text in enumerate(paragraphs or ("",)):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        bullet = text.startswith("- ")
        para.text = ("\u2022 " + text[2:]) if bullet else text
        para.space_after = Pt(8)
        for run in para.runs:
            run.font.size = Pt(size)


def _place_waterfall(slide: Any, spec: _Slide, top: int) -> None:
    """A waterfall as a stacked column chart: an invisible base series, then the visible part above
    and below zero; benefit green, costs vermillion, net benefit blue (vermillion when negative)."""
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE, XL_TICK_LABEL_POSITION
    from pptx.util import Pt

    base: list[float] = []
    up: list[float] = []
    down: list[float] = []
    for _, a, b in spec.steps:
        lo, hi = min(a, b), max(a, b)
        parts = (lo, hi - lo, 0.0) if lo >= 0 else (hi, 0.0, lo - hi) if hi <= 0 else (0.0, hi, lo)
        for column, value in zip((base, up, down), parts, strict=True):
            column.append(value)
    data = CategoryChartData(number_format=spec.number_format)
    data.categories = [f"{name}: {label}"
                       for (name, _, _), label in zip(spec.steps, spec.labels, strict=True)]
    data.add_series("Base", base)
    data.add_series("Amount", up)
    data.add_series("Amount below zero", down)
    frame = slide.shapes.add_chart(XL_CHART_TYPE.BAR_STACKED, _MARGIN, top, SLIDE_WIDTH - 2 * _MARGIN,
                                   SLIDE_HEIGHT - top - _MARGIN, data)
    frame.name = "Chart"
    chart = frame.chart
    chart.has_legend = False
    chart.has_title = False
    chart.font.size = Pt(14)
    plot = chart.plots[0]
    plot.gap_width = 60
    plot.overlap = 100
    chart.value_axis.tick_labels.number_format = spec.number_format
    chart.value_axis.tick_labels.number_format_is_linked = False
    chart.value_axis.has_major_gridlines = True
    chart.category_axis.reverse_order = True  # benefit on top, net benefit at the bottom
    chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW  # left of a net loss, not on it
    _value_axis_at_bottom(chart)
    hidden = plot.series[0].format
    hidden.fill.background()
    hidden.line.fill.background()
    last = len(spec.steps) - 1
    colours = {"gain": RGBColor(0x00, 0x9E, 0x73), "loss": RGBColor(0xD5, 0x5E, 0x00),
               "net": RGBColor(0x00, 0x72, 0xB2)}
    for s_index in (1, 2):
        series = plot.series[s_index]
        for i, (_, _a, b) in enumerate(spec.steps):
            key = "gain" if i == 0 else "loss" if i < last or b < 0 else "net"
            point = series.points[i]
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = colours[key]
    frame._element.nvGraphicFramePr.cNvPr.set("descr", spec.alt or spec.title or "Waterfall chart")
