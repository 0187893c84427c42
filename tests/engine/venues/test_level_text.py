"""Venue text styles: exact steps, and level text rebuilt from integers for checksums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.core.instruments import DecimalGrid
from engine.errors import MalformedMessage
from engine.venues.level_text import (
    LevelTexts,
    StyledGrid,
    TextStyle,
    decimal_steps,
    follows,
    steps,
)

TICK = DecimalGrid("0.01", "price")


@pytest.mark.parametrize(
    ("text", "style", "decimals", "expected"),
    [
        ("30316", TextStyle.SHORTEST, 1, True),
        ("5.16", TextStyle.SHORTEST, 3, True),
        ("5.160", TextStyle.SHORTEST, 3, False),
        ("05.1", TextStyle.SHORTEST, 1, False),
        ("0.08", TextStyle.SHORTEST, 2, True),
        ("354.15000000", TextStyle.FIXED, 8, True),
        ("354.15", TextStyle.FIXED, 8, False),
        ("354", TextStyle.FIXED, 0, True),
        ("354.", TextStyle.FIXED, 0, False),
    ],
)
def test_follows_tells_the_venues_own_form(text, style, decimals, expected):
    """SHORTEST has no trailing zeros; FIXED has exactly the grid's decimals; no leading zeros."""
    assert follows(text, style, decimals) is expected


def test_styled_grids_write_the_venues_text():
    """OKX-style drops trailing zeros and the bare point; Kraken-style keeps the decimals."""
    grid = DecimalGrid("0.001", "price")
    assert StyledGrid(grid, TextStyle.SHORTEST).text(5160) == "5.16"
    assert StyledGrid(grid, TextStyle.SHORTEST).text(30316000) == "30316"
    assert StyledGrid(grid, TextStyle.FIXED).text(5160) == "5.160"


def test_steps_are_exact_or_malformed():
    """Text off the grid, negative or not a number names the venue, stream and side."""
    assert steps("65000.01", TICK, "v", "s", "bid") == 6500001
    for bad in ("65000.001", "-1", "1e5", "abc", "\uff11"):
        with pytest.raises(MalformedMessage) as caught:
            steps(bad, TICK, "v", "s", "bid", b"raw")
        assert "bid" in str(caught.value)
        assert caught.value.raw == b"raw"
    assert decimal_steps(Decimal("45283.50"), TICK, "v", "s", "ask") == 4528350
    with pytest.raises(MalformedMessage):
        decimal_steps(Decimal("1.001"), TICK, "v", "s", "ask")


def test_level_texts_keep_only_what_the_integers_cannot_give_back():
    """Odd texts are kept per side and price, replaced or forgotten as levels change."""
    price = StyledGrid(TICK, TextStyle.SHORTEST)
    size = StyledGrid(DecimalGrid("1", "size"), TextStyle.SHORTEST)
    texts = LevelTexts(price, size)
    assert texts.empty
    texts.note([(0, 100, 7, "1.00", "7"), (1, 101, 9, "1.01", "09")])
    assert (texts.price_text(0, 100), texts.size_text(0, 100, 7)) == ("1.00", "7")
    assert (texts.price_text(1, 101), texts.size_text(1, 101, 9)) == ("1.01", "09")
    assert texts.kept == 2
    texts.update([100], [], [])  # the bid changed to text in the venue's form
    assert texts.price_text(0, 100) == "1"
    texts.note([(1, 101, 0, "1.01", "0")])  # deleted
    assert texts.empty
