"""Pictures the node draws itself as SVG: cycles of debt and the distribution of utility.

Each function returns a whole ``<svg>`` element as :class:`~markupsafe.Markup`
(the templates insert it as it is). Every piece of text in it (ids,
amounts, labels) goes through :func:`markupsafe.escape`, so a picture can
never carry markup of anyone else's. Coordinates are integers or fixed
decimals, so the same data draws the same bytes. Sizes are bounded: a cycle
shows at most :data:`MAX_CYCLE_MEMBERS` members by name (longer cycles are
drawn, their labels thinned), and the distribution at most :data:`MAX_BARS`
bars (members are grouped into bars beyond that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

MAX_CYCLE_MEMBERS: Final = 12
"""Members of one cycle drawn with their label; a longer cycle labels every k-th."""
MAX_BARS: Final = 60
CYCLE_SIZE: Final = 260
CHART_WIDTH: Final = 640
CHART_HEIGHT: Final = 220


def _num(value: float) -> str:
    """A coordinate with at most one decimal (``12``, ``12.5``)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True, slots=True)
class CycleDrawing:
    """What one netting cycle shows: its members' labels (in order) and the amount."""

    labels: Sequence[str]
    """One label per member, ``m[0] -> m[1] -> ... -> m[0]``."""
    amount: str
    """The amount each owes the next less, as text (``"20.00 EUR"``)."""
    title: str = ""
    """An accessible title (``<title>``) for the picture."""
    ident: str = "0"
    """Unique on the page: names the picture's arrow marker."""


def cycle_svg(cycle: CycleDrawing) -> Markup:
    """One cycle of debt: members on a circle, an arrow from each debtor to its creditor."""
    size = CYCLE_SIZE
    centre = size / 2
    count = len(cycle.labels)
    radius = centre - 52
    step = max(1, math.ceil(count / MAX_CYCLE_MEMBERS))
    points = [
        (
            centre + radius * math.sin(2 * math.pi * i / count),
            centre - radius * math.cos(2 * math.pi * i / count),
        )
        for i in range(count)
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cycle" role="img" '
        f'width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
        f"<title>{escape(cycle.title or cycle.amount)}</title>",
        f'<defs><marker id="arrow-{escape(cycle.ident)}" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="currentColor"/></marker></defs>',
    ]
    node_radius = 7
    for i, (x1, y1) in enumerate(points):
        x2, y2 = points[(i + 1) % count]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        dx, dy = (x2 - x1) / length, (y2 - y1) / length
        start = (x1 + dx * node_radius, y1 + dy * node_radius)
        end = (x2 - dx * (node_radius + 2), y2 - dy * (node_radius + 2))
        parts.append(
            f'<line class="debt" x1="{_num(start[0])}" y1="{_num(start[1])}" '
            f'x2="{_num(end[0])}" y2="{_num(end[1])}" stroke="currentColor" '
            f'stroke-width="1.5" marker-end="url(#arrow-{escape(cycle.ident)})"/>'
        )
    for i, ((x, y), label) in enumerate(zip(points, cycle.labels, strict=True)):
        parts.append(
            f'<circle class="member" cx="{_num(x)}" cy="{_num(y)}" r="{node_radius}" '
            f'fill="#3b6ea5"/>'
        )
        if i % step == 0:
            # Labels outside the circle, anchored away from the centre.
            lx, ly = centre + (x - centre) * 1.22, centre + (y - centre) * 1.22 + 4
            anchor = "middle" if abs(lx - centre) < 12 else "start" if lx > centre else "end"
            parts.append(
                f'<text x="{_num(lx)}" y="{_num(ly)}" text-anchor="{anchor}" '
                f'font-size="11">{escape(label)}</text>'
            )
    parts.append(
        f'<text class="amount" x="{_num(centre)}" y="{_num(centre + 5)}" text-anchor="middle" '
        f'font-size="13" font-weight="bold">{escape(cycle.amount)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text in it is escaped


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the distribution: a member (or a group of members) and its share."""

    label: str
    value: int
    """The bar's height in the chart's units (utility in fixed point)."""
    note: str
    """What a tooltip says (``"12D3KooW… 12.5000 %"``)."""


def bars_of(values: Sequence[tuple[str, int, str]]) -> list[Bar]:
    """Bars for ``(label, value, note)`` rows (highest first); groups rows beyond :data:`MAX_BARS`.

    A group's bar is the mean of its rows, labelled with the range of ranks
    it covers (``"61-120"``), so the shape of a long tail stays visible.
    """
    if len(values) <= MAX_BARS:
        return [Bar(label, value, note) for label, value, note in values]
    size = math.ceil(len(values) / MAX_BARS)
    bars = []
    for start in range(0, len(values), size):
        group = values[start : start + size]
        mean = sum(v for _, v, _ in group) // len(group)
        rank = f"{start + 1}-{start + len(group)}"
        bars.append(Bar(rank, mean, f"#{rank}"))
    return bars


def distribution_svg(bars: Sequence[Bar], title: str, axis: str) -> Markup:
    """A bar chart of ``bars`` (already ordered), scaled to the highest one."""
    width, height = CHART_WIDTH, CHART_HEIGHT
    left, bottom, top = 8, 22, 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="distribution" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" '
        f'stroke="#888"/>',
        f'<text x="{width - left}" y="{height - 6}" text-anchor="end" font-size="11">'
        f"{escape(axis)}</text>",
    ]
    highest = max((b.value for b in bars), default=0)
    if bars and highest > 0:
        slot = (width - 2 * left) / len(bars)
        gap = min(4.0, slot / 5)
        usable = height - bottom - top
        for i, bar in enumerate(bars):
            h = usable * bar.value / highest
            x = left + i * slot + gap / 2
            y = height - bottom - h
            parts.append(
                f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(slot - gap)}" '
                f'height="{_num(h)}" fill="#3b6ea5"><title>{escape(bar.note)}</title></rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text in it is escaped


def progress_percent(part: int, whole: int) -> int:
    """``part / whole`` as a whole percentage for a progress bar, 0 to 100 (floor)."""
    if whole <= 0:
        return 0
    return max(0, min(100, part * 100 // whole))
