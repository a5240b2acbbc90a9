"""Charts as inline SVG, rendered on the server with matplotlib's SVG backend.

Each function takes plain counts and returns one ``<svg>`` element as text, ready to be placed
into the HTML page: no files, no scripts, no web fonts. Text stays text (``svg.fonttype =
none``), so charts print sharply and are searchable; every bar carries its number, so a chart
printed in black and white still reads. Output is deterministic (fixed hash salt, no date).
Label text is never interpreted: mathtext is off (``text.parse_math``), so a label with ``$``
draws as written instead of failing the report. The settings apply inside ``rc_context`` only
and never leak into the process's matplotlib defaults.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("svg")

# imported after choosing the backend
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# Colour-blind safe (Okabe–Ito), and distinct in grey when printed.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "kim-hub",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # labels are data (a district's name, a source's): "$x^$" is text, never mathtext to parse
    "text.parse_math": False,
}


def _svg(figure: Figure, title: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # drop the XML declaration and DOCTYPE: inline SVG in HTML
    # drawn size becomes the largest size: a small matrix is not blown up to the page width
    text = re.sub(
        r'<svg([^>]*?) width="([\d.]+)pt" height="[^"]*"',
        r'<svg\1 class="chart" role="img" preserveAspectRatio="xMidYMid meet" style="max-width: min(100%, \2pt)"',
        text,
        count=1,
    )
    return text.replace(">", f"><title>{escape(title)}</title>", 1)


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def bar_chart(labels: Sequence[str], values: Sequence[int], title: str, xlabel: str = "", horizontal: bool = True) -> str:
    """Bars with their numbers written on them."""
    with matplotlib.rc_context(RC):
        height = max(1.6, 0.32 * len(labels) + 0.8) if horizontal else 2.6
        figure = _figure(6.4, height)
        axes = figure.add_subplot()
        positions = range(len(labels))
        if horizontal:
            bars = axes.barh(list(positions), list(values), color=PALETTE[0])
            axes.set_yticks(list(positions), [str(x) for x in labels])
            axes.invert_yaxis()
            axes.set_xlabel(xlabel)
        else:
            bars = axes.bar(list(positions), list(values), color=PALETTE[0])
            axes.set_xticks(list(positions), [str(x) for x in labels])
            axes.set_xlabel(xlabel)
        axes.bar_label(bars, labels=[str(v) for v in values], padding=2)
        (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))
        axes.margins(x=0.12) if horizontal else axes.margins(y=0.15)
        axes.set_title(title, loc="left", fontweight="bold")
        return _svg(figure, title)


def heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    matrix: Sequence[Sequence[int]],
    title: str,
    xlabel: str = "",
    ylabel: str = "",
) -> str:
    """A matrix of counts as shaded cells, each with its number."""
    with matplotlib.rc_context(RC):
        figure = _figure(max(3.6, 0.75 * len(column_labels) + 1.8), max(2.2, 0.42 * len(row_labels) + 1.2))
        axes = figure.add_subplot()
        data = [list(map(int, row)) for row in matrix]
        peak = max((v for row in data for v in row), default=0) or 1
        axes.imshow(data, cmap="Blues", vmin=0, vmax=peak, aspect="auto")
        axes.set_xticks(range(len(column_labels)), [str(x) for x in column_labels], rotation=30, ha="right")
        axes.set_yticks(range(len(row_labels)), [str(x) for x in row_labels])
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        for spine in axes.spines.values():
            spine.set_visible(False)
        for i, row in enumerate(data):
            for j, value in enumerate(row):
                axes.text(j, i, str(value), ha="center", va="center", color="white" if value > peak * 0.55 else "black")
        axes.set_title(title, loc="left", fontweight="bold")
        return _svg(figure, title)


__all__ = ["bar_chart", "heatmap"]
