"""Snapshots of the positions screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from engine.core.clock import SimClock
from engine.ipc.protocol import PositionRow, TradingView
from engine.ipc.publisher import EnginePublisher
from hft_tui.widgets.pnl_chart import PnlChart
from tests.hft_tui.conftest import engine_view, trading_view
from tests.hft_tui.pilot import table_rows, wait_until
from tests.hft_tui.snapshots.conftest import INSTANCE, SECOND, SIZES, on_mode, snapshot_app

READY = on_mode(
    "p", lambda p: len(table_rows(p.app.screen, "#positions-table")) == 2, "the positions"
)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_positions_screen(seeded, sim_clock, snap_compare, size):
    """Positions and PnL: the short position, portfolio totals, the day's loss against its limit."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)


#: the session's net PnL, one trading page every 30 s: up, a drawdown into a loss, back up
SESSION = (0, 12, 31, 55, 48, 70, 64, 20, -15, -42, -30, 5, 26, 18, 44, 61, 58, 83, 77, 90)


def _session_page(net: int) -> TradingView:
    row = PositionRow(
        instrument=0, net_lots=-300, avg_entry="65000", realised=str(net), unrealised="0", fees="0"
    )
    return trading_view(positions=[row], daily=str(net))


def with_session(clock: SimClock, pub: EnginePublisher):
    """A ``run_before`` that publishes :data:`SESSION` page by page on the simulated clock."""

    async def run_before(pilot: Pilot[None]) -> None:
        await READY(pilot)
        chart = pilot.app.screen.query_one(PnlChart)
        for n, net in enumerate(SESSION):
            clock.advance(30 * SECOND)
            pub.heartbeat(clock.time_ns())
            pub.publish_engine(engine_view(clock, INSTANCE))
            pub.publish_trading(_session_page(net))
            await wait_until(pilot, lambda n=n: len(chart.curve.points) >= n + 2, "the point")
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_positions_screen_session_chart(seeded, sim_clock, snap_compare, size):
    """The intraday PnL chart after a session with a drawdown below zero."""
    app = snapshot_app(sim_clock)
    assert snap_compare(app, terminal_size=size, run_before=with_session(sim_clock, seeded))
