"""Ladder: level order, partial books, the state badge and size bars."""

from __future__ import annotations

import msgspec
from textual.app import App, ComposeResult

from hft_tui.widgets.ladder import HEIGHT, Ladder, size_bar
from tests.hft_tui.conftest import book_view


class LadderHost(App[None]):
    """A bare app holding one ladder, 44 columns wide."""

    CSS = "Ladder { width: 44; height: 22; }"

    def compose(self) -> ComposeResult:
        """Just the ladder."""
        yield Ladder()


def _lines(app: App[None]) -> list[str]:
    ladder = app.query_one(Ladder)
    return [ladder.render_line(y).text.rstrip() for y in range(HEIGHT)]


def test_size_bar_scales_in_eighths():
    """The largest size fills the bar; smaller sizes get whole and partial cells."""
    assert size_bar(100, 100, 4) == "████"
    assert size_bar(50, 100, 4) == "██"
    assert size_bar(10, 100, 4) == "▍"
    assert size_bar(1, 10_000, 4) == "▏"  # never invisible
    assert size_bar(0, 100, 4) == ""


async def test_partial_book_leaves_blank_rows_toward_the_middle():
    """Three asks sit right above the spread line and two bids right below it."""
    app = LadderHost()
    async with app.run_test() as pilot:
        ladder = app.query_one(Ladder)
        book = book_view(levels=20)
        ladder.book = msgspec.structs.replace(book, asks=book.asks[:3], bids=book.bids[:2])
        ladder.book_state = "live"
        await pilot.pause()
        lines = _lines(app)
        assert all(line == "" for line in lines[1:8])
        assert [line.split()[0] for line in lines[8:11]] == ["65000.03", "65000.02", "65000.01"]
        assert "spread" in lines[11]
        assert [line.split()[0] for line in lines[12:14]] == ["65000.00", "64999.99"]
        assert all(line == "" for line in lines[14:])


async def test_one_sided_book_shows_no_spread():
    """With no bids there is no spread or mid to show, and the ladder says so."""
    app = LadderHost()
    async with app.run_test() as pilot:
        ladder = app.query_one(Ladder)
        ladder.book = msgspec.structs.replace(book_view(), bids=[])
        ladder.book_state = "live"
        await pilot.pause()
        assert "one side of the book is empty" in _lines(app)[11]


async def test_crossed_book_is_dimmed_and_labelled():
    """A crossed book gets the -invalid class, a CROSSED badge and no mid."""
    app = LadderHost()
    async with app.run_test() as pilot:
        ladder = app.query_one(Ladder)
        ladder.book = book_view(state="crossed")
        ladder.book_state = "crossed"
        await pilot.pause()
        lines = _lines(app)
        assert ladder.has_class("-invalid")
        assert "CROSSED" in lines[0]
        assert "not valid" in lines[11]
        assert "mid" not in lines[11]


async def test_no_book_yet_says_waiting():
    """Before the first book the ladder is empty and says it is waiting."""
    app = LadderHost()
    async with app.run_test() as pilot:
        await pilot.pause()
        lines = _lines(app)
        assert "WAITING" in lines[0]
        assert "waiting for the first book" in lines[11]
