"""The pair page's chart of match weights per field, laid out here and drawn by the template as
plain SVG (no script: the Content-Security-Policy allows none, and no style attribute either:
colours come from the stylesheet's classes).

A field's weight is what it added to the pair's match weight (log2 Bayes factor, stored with the
review item by the linking run that scored it): a bar to the right speaks for one person, to the
left against. The bars share one scale, the largest weight of the pair (at least ``MIN_SCALE``),
so a pair of weak evidence does not look strong. The same numbers stand in a table next to the
chart: the chart's text alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 480  # the drawing's width in SVG units; the stylesheet scales it
LABEL = 170  # left column: the field's name
HALF = (WIDTH - LABEL - 60) // 2  # each side of the zero line; 60 units right for the number
ROW = 22
MIN_SCALE = 4.0


@dataclass(frozen=True)
class Bar:
    field: str
    weight: float
    x: float  # where the bar starts (the zero line, or left of it for a negative weight)
    y: float
    width: float
    positive: bool

    def shown(self, lang: str) -> str:
        """The weight as the reader writes numbers: +3,2 in German, +3.2 in English."""
        text = f"{self.weight:+.1f}"
        return text.replace(".", ",") if lang == "de" else text


@dataclass(frozen=True)
class WeightChart:
    bars: list[Bar]
    zero: float  # x of the zero line
    height: float
    width: int = WIDTH
    label: int = LABEL
    row: int = ROW


def weight_chart(weights: dict[str, float]) -> WeightChart:
    """The bars of a pair's per-field weights, in the stored (``linkage.compare.FIELDS``) order."""
    scale = max([MIN_SCALE, *(abs(w) for w in weights.values())])
    zero = LABEL + HALF
    bars = []
    for index, (field, weight) in enumerate(weights.items()):
        length = HALF * abs(weight) / scale
        bars.append(Bar(field, weight, zero if weight >= 0 else zero - length, index * ROW + 4, length, weight >= 0))
    return WeightChart(bars, zero, len(bars) * ROW + 8)
