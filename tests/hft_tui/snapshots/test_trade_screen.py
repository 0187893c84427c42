"""Snapshots of the trade screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from engine.core.clock import SimClock
from engine.ipc.publisher import EnginePublisher
from hft_tui.screens.trade import TradeScreen
from tests.hft_tui.conftest import BEST_BID, book_view, engine_view
from tests.hft_tui.pilot import wait_until
from tests.hft_tui.snapshots.conftest import INSTANCE, SECOND, SIZES, drawn, snapshot_app

#: the mid's path in ticks above the best bid, one book a second: up, down, up again
PATH = (0, 1, 3, 2, 2, 4, 5, 3, 1, 0, 2, 4, 6, 7, 5, 6, 8, 9, 8, 10)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_trade_screen(seeded, sim_clock, snap_compare, size):
    """Ladder with our orders, position and PnL, ticket, working orders, tape, status, keys."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=drawn)


def test_trade_screen_halted_ansi_80x24(seeded, sim_clock, snap_compare):
    """Halted in 16 colours: the red banner across the top, the book still readable."""
    seeded.publish_engine(
        engine_view(
            sim_clock,
            INSTANCE,
            trading="halted",
            halt_reason="kill switch (ui)",
            halted_at_ns=sim_clock.time_ns(),
        )
    )
    assert snap_compare(
        snapshot_app(sim_clock, ansi=True), terminal_size=(80, 24), run_before=drawn
    )


def _quoted(pub: EnginePublisher, clock: SimClock):
    """A ``run_before`` that publishes one book a second along :data:`PATH`, waiting for each."""

    async def run_before(pilot: Pilot[None]) -> None:
        await drawn(pilot)
        screen = pilot.app.get_screen_stack("trade")[0]
        assert isinstance(screen, TradeScreen)
        for n, step in enumerate(PATH, start=1):
            clock.advance(SECOND)
            pub.heartbeat(clock.time_ns())
            pub.publish_engine(engine_view(clock, INSTANCE))
            pub.publish_book(book_view(seed=42, best_bid=BEST_BID + step, spread=1 + n % 3))

            def got(n: int = n) -> bool:
                frame = screen.frame
                return frame is not None and len(frame.quotes.points) > n

            await wait_until(pilot, got, f"quote {n}")
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_trade_screen_sparklines(seeded, sim_clock, snap_compare, size):
    """Twenty seconds of quotes: the mid and spread sparklines beside the ladder."""
    assert snap_compare(
        snapshot_app(sim_clock), terminal_size=size, run_before=_quoted(seeded, sim_clock)
    )
