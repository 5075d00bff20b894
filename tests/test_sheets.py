"""The CSV writer of exports meant for people (``sheets.csv_text``): byte for byte what the csv module writes."""

from __future__ import annotations

import csv
import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.sheets import csv_text


def _csv_module(rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


#: text with what CSV must quote (commas, quotes, CR, LF), spaces, tabs and Chinese
_TEXT = st.text(alphabet=st.sampled_from([",", '"', "\r", "\n", " ", "\t", "'", "=", "a", "Z", "1", "苹", "；", "¥"]))
_CELL = st.one_of(
    _TEXT,
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@given(st.lists(st.lists(_CELL, max_size=6), max_size=6))
@settings(max_examples=400, deadline=None)
def test_csv_text_writes_what_the_csv_module_writes(rows: list[list[Any]]) -> None:
    assert csv_text(rows) == _csv_module(rows)


def test_csv_text_quotes_only_what_must_be_quoted() -> None:
    rows = [
        ["plain", "苹果 礼县", "a,b", 'say "hi"', "two\nlines", "cr\rhere", None, 12, 1.5, True, ""],
        [""],  # a row of one empty cell is written as "" (an empty line would read back as no row)
        [None],
        [],
    ]
    expected = 'plain,苹果 礼县,"a,b","say ""hi""","two\nlines","cr\rhere",,12,1.5,True,\r\n""\r\n""\r\n\r\n'
    assert csv_text(rows) == expected == _csv_module(rows)
    assert list(csv.reader(io.StringIO(csv_text(rows[:1]), newline=""))) == [
        ["plain", "苹果 礼县", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "", "12", "1.5", "True", ""]
    ]
