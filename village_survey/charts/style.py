"""How every chart looks and how it becomes an inline SVG: font, palette, size, rendering.

Pure: matplotlib's object API only (``Figure`` + ``FigureCanvasSVG``, never pyplot), no Flask.
"""

from __future__ import annotations

import functools
import io
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from html import escape
from typing import Callable, Sequence

import matplotlib
from matplotlib import colormaps
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure

from village_survey.charts.presentation import without_inline_styles

# The CJK font the app ships with (Debian's fonts-noto-cjk); the SVG keeps its text as text, so
# the page or PDF that shows it needs the same family: it is set on the root element too.
FONT_FAMILY = "Noto Sans CJK SC"
FONT_STACK = f"'{FONT_FAMILY}', 'Noto Sans CJK', sans-serif"

# Palette: matplotlib's "cividis", made for colour-blind readers and monotonic in lightness, so
# its steps stay in order in grey print. Categories also get a hatch (in the same order) and the
# values are written beside the marks, so neither colour nor grey level carries meaning alone.
PALETTE_NAME = "cividis"
# (no dot or circle hatches: matplotlib writes each dot of their tile, ~150 KB per pattern)
HATCHES = ("", "///", "\\\\\\", "xxx", "---", "|||", "+++", "//")
INK = "#222222"  # text and reference lines
MUTED = "#767676"  # axes, grid; 4.5:1 on white
GOOD, BAD = 0.15, 0.85  # cividis positions: dark blue for "meets / improved", light for not

_RC = {
    "svg.fonttype": "none",  # text stays text: searchable, selectable, in the caller's font
    "svg.hashsalt": "village_survey",  # ids derived from content: the same data, the same SVG
    "font.family": "sans-serif",
    "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"],
    "font.size": 10,
    "axes.unicode_minus": False,  # the CJK font has no U+2212 in every weight
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "text.color": INK,
    "hatch.color": INK,
    "hatch.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

# rcParams are process-wide: a figure's settings are read while it is built and again while it is
# saved, so one lock around both keeps concurrent requests from seeing each other's settings.
_LOCK = threading.Lock()

# Lay the figure out with the constrained layout engine, then save it with the engine off (one
# draw instead of two); False: savefig's own way (tests compare the two).
_LAYOUT_ONCE = True

# inches; 1 in = 72 user units in the viewBox. Narrow enough that a 390 px phone shows the 9–10
# unit text at about its size; pages and PDFs cap the width so that it grows at most ~1.3×.
WIDTH_IN = 5.0
MAP_WIDTH_IN = 7.2  # maps keep more room: their marks and labels are small
LABEL_WIDTH = 20  # columns (a CJK character is two) before an axis label wraps
_AUTO_ID = re.compile(r' id="[A-Za-z][\w.]*_\d+"')
_ROOT = re.compile(r"<svg\b[^>]*>")


def _measured_once(measure):
    """The SVG renderer's text measurement, kept for the process.

    matplotlib keeps a text's size per renderer, and saving one SVG with the constrained layout
    makes two renderers (one to lay out, one to draw); each chart makes its own. The SVG
    renderer measures with the font's metrics alone (no dpi, no device), so a size depends only
    on the text, the font properties and whether it is math: the same for every renderer. Each
    CJK string costs about 0.6 ms to measure; the labels, ticks and legends of a report's charts
    repeat. Bounded (least recently used out)."""

    @functools.lru_cache(maxsize=8192)
    def cached(text, prop, ismath):
        return measure(None, text, prop, ismath)

    @functools.wraps(measure)
    def get_text_width_height_descent(self, s, prop, ismath):
        if ismath == "TeX":
            return measure(self, s, prop, ismath)
        return cached(s, prop.copy(), ismath)  # a copy: FontProperties hash their mutable state

    get_text_width_height_descent.measured_once = True
    get_text_width_height_descent.cache = cached
    return get_text_width_height_descent


def _svg_text_size(_renderer, text, prop, ismath):
    return _TEXT_TO_PATH.get_text_width_height_descent(text, prop, ismath)


if not getattr(RendererSVG.get_text_width_height_descent, "measured_once", False):
    from matplotlib.textpath import TextToPath

    _TEXT_TO_PATH = TextToPath()  # what RendererSVG measures with (its own copy of the same)
    _measured = _measured_once(_svg_text_size)
    _measured.original = RendererSVG.get_text_width_height_descent
    RendererSVG.get_text_width_height_descent = _measured


def colours(n: int) -> list[tuple[float, float, float, float]]:
    """n colours from the palette, dark to light, evenly spaced inside its readable range."""
    cmap = colormaps[PALETTE_NAME]
    if n == 1:
        return [cmap(0.2)]
    return [cmap(0.05 + 0.85 * i / (n - 1)) for i in range(n)]


def text_colour_on(rgba) -> str:
    """Black or white, whichever reads better on a fill (relative luminance)."""
    r, g, b = rgba[:3]
    return INK if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#ffffff"


def tone(position: float):
    return colormaps[PALETTE_NAME](position)


@dataclass(frozen=True)
class Numbers:
    """How the caller wants numbers written (e.g. Babel's format_decimal for the locale).

    ``decimal(value)`` writes any number; ``percent(fraction)`` writes a share given as 0..1.
    """

    decimal: Callable[[float], str] = field(default=lambda value: f"{value:,.1f}".rstrip("0").rstrip("."))
    percent: Callable[[float], str] = field(default=lambda share: f"{share * 100:.0f} %")


@dataclass(frozen=True)
class Table:
    """The chart's data as text, for a ``<details>`` table beside it."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """One drawn chart: ``svg`` to inline (no XML prolog), ``alt`` text, and its data ``table``."""

    svg: str
    alt: str
    table: Table


def render(draw: Callable[[Figure], None], height_in: float, alt: str, width_in: float = WIDTH_IN) -> str:
    """Build a figure with ``draw`` and return it as an inline SVG element.

    The root keeps matplotlib's viewBox (fixed by the figure size, so the same data gives the same
    geometry), takes the container's width, names the font family and carries the alt text.
    """
    with _LOCK, matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasSVG(figure)
        draw(figure)
        if _LAYOUT_ONCE:
            # with a layout engine, savefig first draws every artist with the drawing turned off
            # to run the engine, then draws them again with it off; run here on its own, the
            # engine places the axes the same, and the figure is drawn once (~10 ms a chart)
            figure.get_layout_engine().execute(figure)
            figure.set_layout_engine(None)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    # matplotlib numbers its groups (figure_1, patch_3, …): two charts on one page would repeat them
    svg = _AUTO_ID.sub("", svg)
    match = _ROOT.search(svg)
    root = match.group(0)
    view_box = re.search(r'viewBox="[^"]*"', root).group(0)
    new_root = (f'<svg xmlns:xlink="http://www.w3.org/1999/xlink" xmlns="http://www.w3.org/2000/svg" '
                f'version="1.1" {view_box} width="100%" preserveAspectRatio="xMidYMid meet" '
                f'font-family="{escape(FONT_STACK)}" role="img" aria-label="{escape(alt)}">'
                f"<title>{escape(alt, quote=False)}</title>")
    return without_inline_styles(svg[:match.start()] + new_root + svg[match.end():])


def fill_texts(template: str, **values: str) -> str:
    """The caller's translated sentence with the chart's figures put in (``str.format`` names)."""
    return template.format(**values)


def bar_height(count: int, per_bar: float = 0.42, minimum: float = 2.4) -> float:
    """Figure height for ``count`` horizontal bars: grows with the data, so bars keep their size."""
    return max(minimum, 1.3 + per_bar * count)


def _columns(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def wrap_label(label: str, width: int = LABEL_WIDTH) -> str:
    """A long axis label on two or more lines of at most `width` columns (a CJK character counts
    two), broken at a space or bracket where one is near, else between characters."""
    lines, line, used = [], "", 0
    for char in label:
        if used + _columns(char) > width and line:
            cut = max(line.rfind(" "), line.rfind("（"), line.rfind("("))
            if cut > len(line) // 2:
                lines.append(line[:cut].rstrip())
                line = line[cut:].lstrip()
            else:
                lines.append(line)
                line = ""
            used = sum(_columns(c) for c in line)
        line += char
        used += _columns(char)
    return "\n".join(lines + [line])


def label_axis(axis, labels: Sequence[str]) -> None:
    axis.set_yticks(range(len(labels)), labels=[wrap_label(label) for label in labels])
    axis.invert_yaxis()  # first item on top, as read
    axis.tick_params(axis="y", length=0)
