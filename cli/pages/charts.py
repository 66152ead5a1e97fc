"""Charts as inline SVG, drawn by matplotlib.

Why matplotlib: it is maintained, renders entirely offline (no JavaScript,
no CDN), and its SVG backend with ``svg.fonttype = 'none'`` writes labels as
``<text>`` elements: the text stays searchable and selectable in the page,
and the browser's own fonts (Noto CJK for Japanese) draw it, so a Japanese
policy name needs no font embedded in the file. It costs about 0.7 s to
import, so it is imported here, inside the drawing functions, only when a
page is being made; ``seekers --help`` and every other command never load it.
The figures are built on ``matplotlib.figure.Figure`` directly (no pyplot,
no global figure registry, no GUI backend).
"""

from __future__ import annotations

import io
import logging
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.i18n import _, language

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FONTS = ["DejaVu Sans", "Noto Sans CJK JP", "Noto Sans", "sans-serif"]
"""DejaVu Sans ships with matplotlib (so layout is measured the same
everywhere); Noto Sans CJK JP covers Japanese where it is installed, and the
browser falls back through the same list."""

JAPANESE_FONT = "Noto Sans CJK JP"
JAPANESE_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
"""Debian's ``fonts-noto-cjk`` (``make fonts`` installs it): matplotlib
measures Japanese labels with it. Its font list is cached on first use, so
a font installed after that is added by file here."""

INK = "#1f2933"
MUTED = "#5f6b7a"
GRID = "#e3e7ec"

WIDTH = 9.6
"""Inches; charts scale to the page width, this sets their proportions."""


@dataclass(frozen=True)
class Series:
    """One coloured set of values, one value per category (``None``: no point)."""

    label: str
    values: Sequence[float | None]
    colour: str


def _style(key: str) -> dict[str, Any]:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": f"seekers-{key}",
        "font.family": FONTS,
        "font.size": 9,
        "axes.edgecolor": "#9aa5b1",
        "axes.labelcolor": INK,
        "axes.titlesize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.axisbelow": True,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "text.color": INK,
        "legend.frameon": False,
        "legend.fontsize": 8.5,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
    }


def _matplotlib() -> Any:
    """Import matplotlib quietly: a glyph missing from the first font is drawn
    by the browser's fallback, not an error worth a warning on stderr."""
    import matplotlib

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
    if language() == "ja":
        _japanese_font()
    return matplotlib


def _japanese_font() -> None:
    """Make sure matplotlib knows the Japanese font, so labels in Japanese are
    measured (and laid out) with the glyphs the browser will draw: its font
    cache, built the first time matplotlib ran, may predate the font."""
    from matplotlib import font_manager

    try:
        font_manager.findfont(
            font_manager.FontProperties(family=JAPANESE_FONT),
            fallback_to_default=False,
        )
    except ValueError:
        for path in JAPANESE_FONT_FILES:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue


def _figure(height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH, height))


_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_SIZE = re.compile(r'<svg([^>]*?) width="[^"]+" height="[^"]+"')


def _svg(figure: Figure, key: str, label: str) -> str:
    """The figure as an ``<svg>`` element for inline use: no XML prologue, no
    RDF metadata, sized by CSS (the viewBox keeps its proportions)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    text = _METADATA.sub("", text, count=1)
    text = _SIZE.sub(r"<svg\1", text, count=1)
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace(
        "<svg",
        f'<svg class="chart-svg" data-chart="{key}" role="img" aria-label="{label}"',
        1,
    ).strip()


def _month_ticks(axes: Axes, categories: Sequence[str], *, horizontal: bool) -> None:
    positions = list(range(len(categories)))
    step = max(1, math.ceil(len(categories) / 24))
    shown = [p for p in positions if p % step == 0]
    labels = [categories[p] for p in shown]
    if horizontal:
        axes.set_yticks(shown, labels)
        return
    rotate = len(shown) > 8
    axes.set_xticks(shown, labels, rotation=45 if rotate else 0)
    if rotate:
        for tick in axes.get_xticklabels():
            tick.set_horizontalalignment("right")
            tick.set_rotation_mode("anchor")


def _stack(
    positions: Sequence[int],
    values: Sequence[float],
    base: Sequence[float],
    width: float,
    item: Series,
    *,
    horizontal: bool,
) -> Any:
    """One series' segments as a single collection of rectangles.

    One artist per series, not one ``Rectangle`` per bar as ``Axes.bar``
    makes: about four times faster to build and draw, which is what a chart
    of ten years of months by six reasons needs. Zeros draw nothing.
    """
    from matplotlib.collections import PolyCollection

    half = width / 2
    shapes = []
    for position, value, start in zip(positions, values, base, strict=True):
        if not value:
            continue
        low, high = position - half, position + half
        end = start + value
        if horizontal:
            shapes.append([(start, low), (end, low), (end, high), (start, high)])
        else:
            shapes.append([(low, start), (low, end), (high, end), (high, start)])
    return PolyCollection(
        shapes, facecolors=item.colour, linewidths=0, label=item.label
    )


def _inches(text: str, size: float = 9.0) -> float:
    """A label's approximate width: DejaVu Sans averages 0.6 em a character;
    a CJK character is a full em."""
    ems = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.6 for c in text)
    return ems * size / 72


def _margins(
    figure: Figure,
    categories: Sequence[str],
    legend: Sequence[str],
    *,
    horizontal: bool,
    values: float,
    right_axis: bool = False,
) -> None:
    """Fixed margins sized to the labels, in place of ``bbox_inches='tight'``
    (which draws every figure twice): room for the tick labels on the left
    and below, for the legend (and a second axis) on the right."""
    width, height = figure.get_size_inches()
    number = _inches(f"{int(values):,}0")
    if horizontal:
        left = max(_inches(c) for c in categories) + 0.3
        bottom = 0.55
    else:
        left = number + 0.45
        rotated = len(categories[:: max(1, math.ceil(len(categories) / 24))]) > 8
        longest = max(_inches(c) for c in categories)
        bottom = (longest * 0.72 + 0.2) if rotated else 0.38
    right = max((_inches(t, 8.5) for t in legend), default=0.0) + 0.55
    if right_axis:
        right += 0.75
    figure.subplots_adjust(
        left=min(left / width, 0.3),
        right=1 - min(right / width, 0.45),
        bottom=min(bottom / height, 0.5),
        top=1 - 0.12 / height,
    )


def _gaps(values: Sequence[float | None]) -> list[float]:
    """``None`` as NaN, which matplotlib leaves as a gap in a line."""
    return [math.nan if v is None else float(v) for v in values]


def empty_chart(key: str, message: str) -> str:
    """A chart frame that says there is nothing to draw (still a drawn SVG)."""
    with _matplotlib().rc_context(_style(key)):
        figure = _figure(1.1)
        axes = figure.add_subplot()
        axes.set_axis_off()
        figure.subplots_adjust(left=0.01, right=0.99, bottom=0.05, top=0.95)
        axes.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=10)
        axes.add_patch(
            _rectangle((0.0, 0.0), 1.0, 1.0, transform=axes.transAxes, colour=GRID)
        )
        return _svg(figure, key, message)


def _rectangle(
    xy: tuple[float, float], width: float, height: float, *, transform: Any, colour: str
) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        xy,
        width,
        height,
        transform=transform,
        fill=False,
        edgecolor=colour,
        linestyle="--",
        linewidth=1,
    )


def bars(
    key: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    value_label: str,
    horizontal: bool = False,
    totals: bool = False,
    share: Series | None = None,
    share_label: str = "",
    overall: float | None = None,
    mark: str | None = None,
    mark_label: str = "",
    empty: str = "",
) -> str:
    """Stacked bars, one per category, one segment per series.

    ``share`` adds a percentage line on a second axis (e.g. the last-minute
    share of declines), ``overall`` its level over the whole period as a
    dotted line; ``mark`` draws a dashed line at one category (e.g.
    this month); ``totals`` writes each bar's total at its end.
    """
    if not categories or not any(any(s.values) for s in series):
        return empty_chart(key, empty or _("No data for this period"))
    with _matplotlib().rc_context(_style(key)):
        height = max(1.6, 0.42 * len(categories) + 0.9) if horizontal else 3.3
        figure = _figure(height)
        axes = figure.add_subplot()
        positions = list(range(len(categories)))
        base = [0.0] * len(categories)
        width = 0.62 if horizontal else min(0.8, 0.55 + len(categories) / 200)
        for item in series:
            values = [float(v or 0) for v in item.values]
            if any(values):
                axes.add_collection(
                    _stack(positions, values, base, width, item, horizontal=horizontal)
                )
                base = [b + v for b, v in zip(base, values, strict=True)]
        axes.autoscale_view()
        from matplotlib.ticker import MaxNLocator

        locator = MaxNLocator(integer=True, nbins=6)
        if horizontal:
            axes.xaxis.set_major_locator(locator)
            axes.grid(axis="x", color=GRID, linewidth=0.8)
            axes.set_xlabel(value_label)
            axes.invert_yaxis()
            axes.set_ylim(len(categories) - 0.5, -0.5)
        else:
            axes.yaxis.set_major_locator(locator)
            axes.grid(axis="y", color=GRID, linewidth=0.8)
            axes.set_ylabel(value_label)
            axes.set_xlim(-0.6, len(categories) - 0.4)
        _month_ticks(axes, categories, horizontal=horizontal)
        if totals:
            top = max(base) or 1.0
            for position, total in zip(positions, base, strict=True):
                text = f"{int(total):,}"
                if horizontal:
                    axes.text(
                        total + top * 0.01, position, text, va="center", fontsize=8.5
                    )
                else:
                    axes.text(
                        position, total + top * 0.01, text, ha="center", fontsize=8.5
                    )
            if horizontal:
                axes.set_xlim(0, top * 1.1)
            else:
                axes.set_ylim(0, top * 1.12)
        handles, labels = axes.get_legend_handles_labels()
        if mark is not None and mark in categories:
            where = categories.index(mark)
            line = (axes.axhline if horizontal else axes.axvline)(
                where, color=INK, linestyle="--", linewidth=1, label=mark_label
            )
            handles.append(line)
            labels.append(mark_label)
        if share is not None:
            twin = axes.twinx()
            (line,) = twin.plot(
                positions,
                _gaps(share.values),
                color=share.colour,
                marker="o",
                markersize=3.5,
                linestyle="none",
                label=share.label,
            )
            if overall is not None:
                level = twin.axhline(
                    overall, color=share.colour, linestyle=":", linewidth=1
                )
                handles.append(level)
                labels.append(
                    _("overall share {share}").format(share=f"{overall:.1f}%")
                )
            twin.set_ylim(0, 105)
            twin.set_ylabel(share_label)
            twin.spines["right"].set_visible(True)
            twin.spines["top"].set_visible(False)
            handles.append(line)
            labels.append(share.label)
        axes.legend(
            handles,
            labels,
            loc="upper right",
            bbox_to_anchor=(1.0, 1.0),
            bbox_transform=figure.transFigure,
            borderaxespad=0.2,
        )
        _margins(
            figure,
            categories,
            labels,
            horizontal=horizontal,
            values=max(base),
            right_axis=share is not None,
        )
        return _svg(figure, key, label)


def lines(
    key: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    label: str,
    value_label: str,
    empty: str = "",
) -> str:
    """One line per series over the categories; a month without a value
    breaks the line (a line never bridges months with nothing in them)."""
    if not categories or not any(v is not None for item in series for v in item.values):
        return empty_chart(key, empty or _("No data for this period"))
    with _matplotlib().rc_context(_style(key)):
        figure = _figure(2.8)
        axes = figure.add_subplot()
        for item in series:
            axes.plot(
                range(len(categories)),
                _gaps(item.values),
                color=item.colour,
                marker="o",
                markersize=4,
                linewidth=1.2,
                label=item.label,
            )
        axes.grid(axis="y", color=GRID, linewidth=0.8)
        axes.set_ylabel(value_label)
        axes.set_ylim(bottom=0)
        axes.set_xlim(-0.6, len(categories) - 0.4)
        _month_ticks(axes, categories, horizontal=False)
        axes.legend(
            loc="upper right",
            bbox_to_anchor=(1.0, 1.0),
            bbox_transform=figure.transFigure,
            borderaxespad=0.2,
        )
        top = max(
            (v for item in series for v in item.values if v is not None), default=0
        )
        _margins(
            figure,
            categories,
            [item.label for item in series],
            horizontal=False,
            values=top,
        )
        return _svg(figure, key, label)
