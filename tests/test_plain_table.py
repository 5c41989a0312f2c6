"""The CLI's plain tables are the text rich prints for them (``cli/output.py``)."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.table import Table

from samoorg.cli.output import plain_table

_CELL = st.text(alphabet=st.sampled_from(list(" abcXYZ019:-./()%…~[]")), max_size=14)


def _rich(columns: list[str], rows: list[list[str]], width: int) -> str:
    table = Table(title=None, show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    out = io.StringIO()
    Console(file=out, soft_wrap=False, width=width, markup=False, emoji=False).print(table)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=7).flatmap(
        lambda n: st.tuples(
            st.lists(_CELL, min_size=n, max_size=n),
            st.lists(st.lists(_CELL, min_size=n, max_size=n), max_size=6),
        )
    ),
    st.integers(min_value=20, max_value=120),
)
def test_plain_table_is_what_rich_prints(
    table: tuple[list[str], list[list[str]]], width: int
) -> None:
    columns, rows = table
    plain = plain_table(columns, rows, width)
    if plain is not None:
        assert plain == _rich(columns, rows, width)


def test_markup_and_emoji_codes_are_printed_as_written() -> None:
    # People's text (an idea titled "[bold]x" or ":X:") is shown as they wrote it.
    for text in ("[bold]x", "yes :thumbs_up: no", ":X:", "[/]"):
        plain = plain_table(["a"], [[text]], 100)
        assert plain is not None
        assert text in plain
        assert plain == _rich(["a"], [[text]], 100)


def test_overflow_and_wide_characters_are_left_to_rich() -> None:
    assert plain_table(["a"], [["x" * 200]], 100) is None
    assert plain_table(["a"], [["é"]], 100) is None
    assert plain_table(["when"], [["2023-12-01 16:01:47"]], 100) is not None
