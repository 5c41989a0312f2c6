"""The picture of the trust graph: me at the centre, one ring per hop, drawn as SVG.

Layout (computed here, simply, instead of pulling in a graph library): the
member at hop ``h`` sits on the circle of radius ``h * RING`` (rings beyond
:data:`MAX_RINGS` share the outermost). Ring 1 is spread evenly in key order;
each later ring is ordered by the angle of each member's parent (the
member before it on its shortest chain, the one ``trust list`` shows), then
by key, and spread evenly, so a friend of a friend sits beside the friend
through whom it is reached and edges stay short. Each member's dot has a
``<title>`` (its id and hop count, shown on hover); members with an open
help request are drawn as larger red dots. Labels are written only on
ring 1 (and for fewer than :data:`LABEL_ALL` members), so that 500 members
stay legible. The picture is computed from the rows of ``GET /trust/list``
and the edge list of the trust view, in time linear in the members and
edges shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup, escape

SIZE: Final = 800
MAX_RINGS: Final = 6
MAX_GAP: Final = 110.0
"""Pixels between two rings at most (fewer rings are not drawn huge)."""
MARGIN: Final = 40.0
LABEL_ALL: Final = 40
MAX_EDGES: Final = 5000
"""Edges drawn at most (the first in key order); the dots are always all drawn."""


@dataclass(frozen=True, slots=True)
class Dot:
    """One member's place in the picture."""

    ident: str
    hop: int
    x: float
    y: float


def _gap(rings: int) -> float:
    """The distance between two rings when ``rings`` are drawn."""
    return min(MAX_GAP, (SIZE / 2 - MARGIN) / max(1, min(MAX_RINGS, rings)))


def layout(rows: Sequence[Mapping[str, Any]]) -> dict[str, Dot]:
    """Place the members of trust-list ``rows`` (``id``, ``distance``, ``chain``) on rings."""
    rings: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row["distance"] is not None:
            rings.setdefault(min(row["distance"], MAX_RINGS), []).append(row)
    ring_gap = _gap(max(rings, default=0))
    angle: dict[str, float] = {}
    dots: dict[str, Dot] = {}
    centre = SIZE / 2
    for hop in sorted(rings):
        members = rings[hop]
        if hop == 0:
            for row in members:
                angle[row["id"]] = 0.0
                dots[row["id"]] = Dot(row["id"], 0, centre, centre)
            continue

        def parent_angle(row: Mapping[str, Any]) -> tuple[float, str]:
            chain = row["chain"]
            parent = chain[-2] if len(chain) >= 2 else ""
            return angle.get(parent, 0.0), row["id"]

        ordered = sorted(members, key=parent_angle if hop > 1 else lambda r: ("", r["id"]))
        step = 2 * math.pi / len(ordered)
        offset = step / 2 if hop % 2 == 0 else 0.0
        for i, row in enumerate(ordered):
            a = offset + i * step
            angle[row["id"]] = a
            radius = hop * ring_gap
            x = centre + radius * math.sin(a)
            y = centre - radius * math.cos(a)
            dots[row["id"]] = Dot(row["id"], row["distance"], x, y)
    return dots


def _tail(ident: str) -> str:
    return ident[-6:]


def svg(
    rows: Sequence[Mapping[str, Any]],
    edges: Iterable[tuple[str, str]],
    helped: frozenset[str],
    labels: Mapping[str, str],
    name_of: Callable[[str], str] | None = None,
) -> Markup:
    """The SVG of the trust graph (``labels``: the texts of the legend and titles).

    ``name_of`` gives a dot's label from its peer id (the page's names), else
    the id's last characters.
    """
    dots = layout(rows)
    rings = max((d.hop for d in dots.values()), default=0)
    gap = _gap(rings)
    # Only the drawn disc is shown (a small graph is not lost in an empty square).
    reach = max(min(MAX_RINGS, rings) * gap + MARGIN, 2.5 * MARGIN)
    corner = SIZE / 2 - reach
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="{corner:.0f} {corner:.0f} {2 * reach:.0f} {2 * reach:.0f}" '
        f'class="trust-graph" role="img" aria-label="{escape(labels["title"])}">',
        f"<title>{escape(labels['title'])}</title>",
    ]
    out += [
        f'<circle class="ring" cx="{SIZE / 2}" cy="{SIZE / 2}" r="{h * gap:.1f}"/>'
        for h in range(1, min(MAX_RINGS, rings) + 1)
    ]
    drawn = 0
    for a, b in edges:
        if drawn >= MAX_EDGES:
            break
        da, db = dots.get(a), dots.get(b)
        if da is None or db is None:
            continue
        out.append(
            f'<line class="edge" x1="{da.x:.1f}" y1="{da.y:.1f}" x2="{db.x:.1f}" y2="{db.y:.1f}"/>'
        )
        drawn += 1
    many = len(dots) > LABEL_ALL
    ring_one = sum(1 for d in dots.values() if d.hop == 1)
    radius = 3.0 if len(dots) > 200 else 5.0
    for dot in sorted(dots.values(), key=lambda d: (d.hop, d.ident)):
        is_helped = dot.ident in helped
        css = "me" if dot.hop == 0 else ("helped" if is_helped else f"hop{min(dot.hop, 3)}")
        r = 8.0 if dot.hop == 0 else (radius * 1.8 if is_helped else radius)
        tip = labels["me"] if dot.hop == 0 else labels["hops"].format(n=dot.hop)
        if is_helped:
            tip += " · " + labels["helped"]
        out.append(
            f'<circle class="dot {css}" cx="{dot.x:.1f}" cy="{dot.y:.1f}" r="{r:.1f}" '
            f'data-id="{escape(dot.ident)}"><title>{escape(dot.ident)} ({escape(tip)})</title>'
            "</circle>"
        )
        if dot.hop == 0 or not many or (dot.hop == 1 and ring_one <= LABEL_ALL):
            text = labels["me"] if dot.hop == 0 else (name_of or _tail)(dot.ident)
            out.append(
                f'<text class="label" x="{dot.x + r + 2:.1f}" y="{dot.y + 4:.1f}">'
                f"{escape(text)}</text>"
            )
    out.append("</svg>")
    # Every member-supplied value above went through escape().
    return Markup("".join(out))  # noqa: S704
