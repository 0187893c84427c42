"""PositionsScreen: a row per position, the portfolio totals, and the day against its limit."""

from __future__ import annotations

from engine.ipc.protocol import PositionRow, TradingView
from hft_tui.widgets.pnl_chart import PnlChart
from tests.hft_tui.conftest import order_row, trading_view
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until


async def test_positions_and_the_portfolio_with_exact_pnl(app, publisher, instance):
    """Net on the lot grid, entry, realised, unrealised, fees, net PnL, orders; then totals."""
    publisher.publish_trading(
        trading_view(
            orders=[order_row(1, instance=instance)],
            positions=[PositionRow(instrument=0, net_lots=-300, avg_entry="65000.25",
                                   realised="1.25", unrealised="-0.0075", fees="0.039")],
            daily="1.2035",
        )
    )  # fmt: skip
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "p", "positions")
        await wait_until(pilot, lambda: len(table_rows(screen, "#positions-table")) == 2, "rows")
        rows = table_rows(screen, "#positions-table")
        assert rows["BTCUSDT"] == [
            "BTCUSDT", "-0.00300", "65000.25", "+1.25", "-0.0075", "0.039", "+1.2035", "1",
        ]  # fmt: skip
        assert rows["portfolio"][3:] == ["+1.25", "-0.0075", "0.039", "+1.2035", "1"]
        daily = text_of(screen, "#daily-loss")
        assert "net +1.2035" in daily
        assert "daily loss limit 2000" in daily
        assert "loss used " + "░" * 30 + " 0%" in daily  # a day up uses none of the limit


async def test_a_loss_near_the_limit_fills_the_gauge(app, publisher):
    """A loss of 1600 against 2000 shows 80.0% used and a gauge four fifths full."""
    publisher.publish_trading(trading_view(daily="-1600"))
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "p", "positions")
        await wait_until(pilot, lambda: "80.0%" in text_of(screen, "#daily-loss"), "the gauge")
        daily = text_of(screen, "#daily-loss")
        assert "█" * 24 + "░" * 6 in daily
        assert "trading stops at -2000" in daily


async def test_before_the_trading_page_the_screen_waits(app):
    """With no trading page yet the screen says it is waiting for one."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "p", "positions")
        assert "waiting for the trading page" in text_of(screen, "#daily-loss")
        assert table_rows(screen, "#positions-table") == {}


def _net_page(net: str) -> TradingView:
    """A trading page whose portfolio net PnL is ``net`` (all realised)."""
    row = PositionRow(
        instrument=0, net_lots=0, avg_entry="", realised=net, unrealised="0", fees="0"
    )
    return trading_view(positions=[row])


async def test_the_session_pnl_chart_follows_the_pages(app, publisher, sim_clock):
    """Net PnL from each page read goes on the chart: up into profit, then down into a loss."""
    publisher.publish_trading(_net_page("0"))
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "p", "positions")
        chart = screen.query_one(PnlChart)
        for n, net in enumerate(("40", "100", "-50")):
            sim_clock.advance(2_000_000_000)
            publisher.heartbeat(sim_clock.time_ns())
            publisher.publish_trading(_net_page(net))
            await wait_until(pilot, lambda k=n: len(chart.curve.points) == k + 2, f"point {n + 2}")
        assert [str(v) for _, v in chart.curve.points] == ["0", "40", "100", "-50"]
        await pilot.pause()
        text = chart.render().plain
        assert "+0.00 ┤" in text  # the zero line
        assert "█" in text
        caption = text_of(screen, "#pnl-caption")
        assert "now -50   high +100   low -50" in caption
