"""Ladder: level order, partial books, the state badge, size bars, levels by height, our orders."""

from __future__ import annotations

import msgspec
from textual.app import App, ComposeResult

from hft_tui.format import book_text
from hft_tui.widgets.ladder import HEIGHT, Ladder, levels_for, our_mark, size_bar, with_ours
from tests.hft_tui.conftest import book_view


class LadderHost(App[None]):
    """A bare app holding one ladder, 44 columns wide."""

    CSS = "Ladder { width: 44; height: 21; }"

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
        assert all(line == "" for line in lines[0:7])
        assert [line.split()[0] for line in lines[7:10]] == ["65000.03", "65000.02", "65000.01"]
        assert "spread" in lines[10]
        assert [line.split()[0] for line in lines[11:13]] == ["65000.00", "64999.99"]
        assert all(line == "" for line in lines[13:])


async def test_one_sided_book_shows_no_spread():
    """With no bids there is no spread or mid to show, and the ladder says so."""
    app = LadderHost()
    async with app.run_test() as pilot:
        ladder = app.query_one(Ladder)
        ladder.book = msgspec.structs.replace(book_view(), bids=[])
        ladder.book_state = "live"
        await pilot.pause()
        assert "one side of the book is empty" in _lines(app)[10]


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
        assert "CROSSED" in lines[10]
        assert "not valid" in lines[10]
        assert "mid" not in lines[10]


async def test_no_book_yet_says_waiting():
    """Before the first book the ladder is empty and says it is waiting."""
    app = LadderHost()
    async with app.run_test() as pilot:
        await pilot.pause()
        lines = _lines(app)
        assert "WAITING" in lines[10]
        assert "waiting for the first book" in lines[10]


class TallLadderHost(App[None]):
    """A bare app holding one ladder 31 lines high."""

    CSS = "Ladder { width: 44; height: 31; }"

    def compose(self) -> ComposeResult:
        """Just the ladder."""
        yield Ladder()


async def test_a_taller_ladder_shows_more_levels():
    """With 31 lines the ladder shows 15 levels a side around the spread line."""
    assert levels_for(21) == 10
    assert levels_for(31) == 15
    assert levels_for(200) == 20  # a book page holds 20
    app = TallLadderHost()
    async with app.run_test(size=(80, 40)) as pilot:
        ladder = app.query_one(Ladder)
        ladder.book = book_view(levels=20)
        ladder.book_state = "live"
        await pilot.pause()
        lines = [ladder.render_line(y).text.rstrip() for y in range(31)]
        assert lines[0].split()[0] == "65000.15"
        assert "spread" in lines[15]
        assert lines[30].split()[0] == "64999.86"


async def test_our_resting_orders_are_marked_on_their_levels():
    """Our lots replace the size bar on their level, with a count when there are several."""
    app = LadderHost()
    async with app.run_test() as pilot:
        ladder = app.query_one(Ladder)
        ladder.book = book_view(levels=20)
        ladder.book_state = "live"
        ladder.ours = {(1, 6_500_000): (300, 2, -1), (2, 6_500_003): (100, 1, -1)}
        await pilot.pause()
        lines = _lines(app)
        assert lines[11].split()[0] == "65000.00"
        assert lines[11].endswith("● 0.00300 x2")
        assert lines[7].split()[0] == "65000.03"
        assert lines[7].endswith("● 0.00100")
        assert "●" not in lines[9]  # the best ask is not ours


async def test_the_queue_ahead_of_our_orders_is_marked_and_fits_the_ladder():
    """The public lots queued ahead follow our lots; a narrow ladder drops spaces, then our lots."""
    app = LadderHost()
    async with app.run_test() as pilot:
        ladder = app.query_one(Ladder)
        ladder.book = book_view(levels=20)
        ladder.book_state = "live"
        ladder.ours = {(1, 6_500_000): (300, 2, 120_000), (2, 6_500_003): (100, 1, 0)}
        await pilot.pause()
        lines = _lines(app)
        assert lines[11].endswith("●0.00300x2 q1.20000")
        assert lines[7].endswith("● 0.00100 q 0.00000")


def test_our_mark_keeps_every_number_whole():
    """The widest form that fits wins; numbers are never cut."""
    text = book_text("0.01", "0.00001")
    assert our_mark(text, 300, 2, 120_000, room=30) == "● 0.00300 x2 q 1.20000"
    assert our_mark(text, 300, 2, 120_000, room=20) == "●0.00300x2 q1.20000"
    assert our_mark(text, 300, 2, 120_000, room=15) == "●x2 q1.20000"
    assert our_mark(text, 300, 1, -1, room=5) == "● 0.00300"


def test_our_prices_with_no_public_size_get_their_own_levels():
    """Inside the range shown they are merged in order; beyond its worst level they are not."""
    bids = [(100, 5), (98, 5), (97, 5)]
    assert with_ours(bids, [99], 3, bids=True) == [(100, 5), (99, 0), (98, 5)]
    assert with_ours(bids, [90], 3, bids=True) == [(100, 5), (98, 5), (97, 5)]
    assert with_ours(bids[:2], [90], 3, bids=True) == [(100, 5), (98, 5), (90, 0)]
    asks = [(101, 5), (103, 5)]
    assert with_ours(asks, [102, 101], 2, bids=False) == [(101, 5), (102, 0)]
    assert with_ours(asks, [99], 2, bids=False, other_best=100) == [(101, 5), (103, 5)]  # crosses
