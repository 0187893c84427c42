"""Snapshots of the trade screen at 80x24 on fixed data and a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.pilot import Pilot

from engine.core.clock import SimClock
from engine.ipc.protocol import EventKind, Flag, pack
from engine.ipc.publisher import EnginePublisher
from hft_tui.app import TradingApp, UiSettings
from tests.hft_tui.conftest import SYMBOL, LocalSession, book_view, engine_view
from tests.hft_tui.pilot import ladder_lines, tape_lines, wait_until

#: a fixed name: the instance shows in the banner
INSTANCE = "snapshot"
TRADES = 24


@pytest.fixture
def seeded(sim_clock: SimClock) -> Iterator[EnginePublisher]:
    """An engine side with a seeded book, a running engine and a tape of trades."""
    pub = EnginePublisher.create(INSTANCE, [SYMBOL], clock=sim_clock)
    try:
        pub.heartbeat(sim_clock.time_ns())
        pub.publish_engine(engine_view(sim_clock, INSTANCE))
        pub.publish_book(book_view(seed=42))
        for n in range(TRADES):
            buy = n % 3 != 0
            pub.emit(
                pack(
                    EventKind.TRADE,
                    Flag.BUY if buy else Flag.SELL,
                    0,
                    exch_ts=sim_clock.time_ns() + n * 137_000_000,
                    price=6_500_001 if buy else 6_500_000,
                    size=1_000 + 357 * n,
                    aux=n + 1,
                )
            )
        yield pub
    finally:
        pub.close()


async def _drawn(pilot: Pilot[None]) -> None:
    await wait_until(pilot, lambda: "65000.01" in "\n".join(ladder_lines(pilot)), "the book")
    await wait_until(pilot, lambda: len([t for t in tape_lines(pilot) if t.strip()]) > 20, "trades")


def test_trade_screen_80x24(seeded, sim_clock, snap_compare):
    """The trade screen at 80x24: ladder, spread and mid, tape and status bar."""
    app = TradingApp(LocalSession(INSTANCE), UiSettings(ansi=False), sim_clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_drawn)


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
    app = TradingApp(LocalSession(INSTANCE), UiSettings(ansi=True), sim_clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_drawn)
