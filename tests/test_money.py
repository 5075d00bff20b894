"""Money parsing and formatting: exact fen, ¥ and 万 at the edges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.money import MoneyError, fen_to_yuan, format_yuan, parse_fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("¥58,920.00", 5_892_000),
        ("￥58920", 5_892_000),
        ("58920", 5_892_000),
        ("2.3万", 2_300_000),
        ("1.2亿", 12_000_000_000),
        (" 39.9 ", 3990),
        ("39.90元", 3990),
        ("(12.50)", -1250),
        ("0.005", 1),
        ("１２．５", 1250),  # full-width digits (NFKC)
        (12, 1200),
        (12.34, 1234),
        (Decimal("0.1"), 10),
    ],
)
def test_parse_fen_reads_export_styles(text, fen) -> None:  # type: ignore[no-untyped-def]
    assert parse_fen(text) == fen


@pytest.mark.parametrize("text", ["", "-", "—", "  ", None, float("nan")])
def test_empty_markers_are_missing_not_zero(text) -> None:  # type: ignore[no-untyped-def]
    assert parse_fen(text) is None
    assert parse_fen(text, empty=0) == 0


@pytest.mark.parametrize("text", ["abc", "1.2.3", "¥", "12元5", "1,2e5", True])
def test_garbage_is_refused_with_a_bilingual_reason(text) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MoneyError) as err:
        parse_fen(text)
    assert "不是金额" in str(err.value) and "not an amount" in str(err.value)


def test_format_yuan_uses_wan_in_chinese_only() -> None:
    assert format_yuan(5_892_000, lang="zh") == "¥5.89万"
    assert format_yuan(5_892_000, lang="en") == "¥58,920.00"
    assert format_yuan(123_456, lang="zh") == "¥1,234.56"
    assert format_yuan(-2_300_000_0, lang="zh") == "-¥23.00万"
    assert format_yuan(None) == "—"


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_fen_round_trips_through_text(fen: int) -> None:
    text = format_yuan(fen, lang="en")
    assert parse_fen(text.replace("-¥", "-")) == fen
    assert parse_fen(str(fen_to_yuan(fen))) == fen


@given(st.integers(min_value=-(10**13), max_value=10**13), st.sampled_from(["zh", "en"]), st.booleans())
def test_whole_fen_format_as_the_decimal_path_does(fen: int, lang: str, wan: bool) -> None:
    """Whole fen take an integer path; it writes what the Decimal path writes for the same amount (given as a
    float, exact at these sizes), 万 and 亿 rounded half up included."""
    assert format_yuan(fen, lang=lang, wan=wan) == format_yuan(float(fen), lang=lang, wan=wan)


def test_whole_fen_round_half_up_at_the_wan_and_yi_steps() -> None:
    assert format_yuan(1_234_5000, lang="zh") == "¥12.35万" and format_yuan(1_234_4999, lang="zh") == "¥12.34万"
    assert format_yuan(999_999, lang="zh") == "¥9,999.99" and format_yuan(1_000_000, lang="zh") == "¥1.00万"
    assert format_yuan(12_345_000_000, lang="zh") == "¥1.23亿" and format_yuan(-12_350_000_000, lang="zh") == "-¥1.24亿"
    assert format_yuan(0) == "¥0.00" and format_yuan(-5, lang="en") == "-¥0.05"
