"""The pictures web2's pages draw: well-formed SVG, text escaped, sizes bounded."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from samoorg.node.web.charts import (
    MAX_BARS,
    Bar,
    CycleDrawing,
    bars_of,
    cycle_svg,
    distribution_svg,
    progress_percent,
)

SVG = "{http://www.w3.org/2000/svg}"


def test_a_cycle_has_one_arrow_per_debt_and_escapes_its_labels() -> None:
    drawing = CycleDrawing(["you", "<script>alert(1)</script>", "bob"], "20.00 EUR", ident="7")
    svg = str(cycle_svg(drawing))
    root = ET.fromstring(svg)
    assert len(root.findall(f"{SVG}line")) == 3
    assert len(root.findall(f"{SVG}circle")) == 3
    assert "<script>" not in svg
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<script>alert(1)</script>" in texts  # shown as text
    assert "20.00 EUR" in texts
    assert 'id="arrow-7"' in svg


def test_a_long_cycle_thins_its_labels() -> None:
    labels = [f"m{i}" for i in range(40)]
    root = ET.fromstring(str(cycle_svg(CycleDrawing(labels, "1.00 EUR"))))
    assert len(root.findall(f"{SVG}line")) == 40
    assert len(list(root.iter(f"{SVG}text"))) <= 14


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=300))
def test_the_distribution_is_at_most_max_bars(values: list[int]) -> None:
    ordered = sorted(values, reverse=True)
    bars = bars_of([(str(i), v, f"#{i}") for i, v in enumerate(ordered)])
    assert len(bars) <= MAX_BARS
    svg = str(distribution_svg(bars, "title & <b>", "axis"))
    root = ET.fromstring(svg)
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == (len(bars) if ordered and max(ordered) > 0 else 0)
    assert "<b>" not in svg
    for rect in rects:
        assert 0 <= float(rect.get("height", "0")) <= 220


def test_bars_group_a_long_tail_by_rank() -> None:
    bars = bars_of([(str(i), 1000 - i, "") for i in range(120)])
    assert len(bars) == 60
    assert bars[0] == Bar("1-2", 999, "#1-2")


def test_progress_is_a_whole_percentage_capped_at_100() -> None:
    assert progress_percent(0, 0) == 0
    assert progress_percent(1, 3) == 33
    assert progress_percent(5, 4) == 100
