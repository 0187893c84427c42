"""OrdersScreen: the orders table by client id, its filters, the fills log, venue ids, cancel."""

from __future__ import annotations

import pytest

from engine.ipc.protocol import CommandKind, EventKind, Flag, pack
from tests.hft_tui.conftest import BEST_BID, order_row, trading_view
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until

SECOND = 1_000_000_000


@pytest.fixture
def seeded(publisher, instance, sim_clock):
    """Two working orders, a rejected one and a filled market order, and two fills.

    The working orders come from strategies mm and grid (the grid's on bybit); the others are
    manual, on sim; the fills are the grid's and the market order's.
    """
    now = sim_clock.time_ns()
    publisher.publish_trading(
        trading_view(
            orders=[
                order_row(3, instance=instance, ts_ns=now - 2 * SECOND, strategy="mm"),
                order_row(4, instance=instance, side=2, price=BEST_BID + 2, size=250,
                          filled=50, status="partially_filled", ts_ns=now, strategy="grid",
                          venue="bybit"),
                order_row(2, instance=instance, status="rejected", reason="daily_loss: halted",
                          ts_ns=now - SECOND),
                order_row(1, instance=instance, side=2, order_type="market", status="filled",
                          filled=100, ts_ns=now - 3 * SECOND),
            ]
        )
    )  # fmt: skip
    publisher.emit(pack(EventKind.FILL, Flag.SELL, 0, engine_ts=now - 3 * SECOND,
                        price=BEST_BID, size=100, seq=1, aux=2))  # fmt: skip
    publisher.emit(pack(EventKind.FILL, Flag.SELL, 0, engine_ts=now, price=BEST_BID + 2,
                        size=50, seq=4, aux=1))  # fmt: skip
    return publisher


async def test_orders_are_listed_by_client_id_with_their_state(app, seeded, instance):
    """Every order on the page is a row: id, side, price, size, filled, state, age, type, reason."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(pilot, lambda: len(table_rows(screen, "#orders-table")) == 4, "4 rows")
        rows = table_rows(screen, "#orders-table")
        assert list(rows) == [f"{instance}-{n}" for n in (3, 4, 2, 1)]
        assert rows[f"{instance}-4"][:9] == [
            f"{instance}-4", "BTCUSDT", "SELL", "65000.02", "0.00250", "0.00050", "partial",
            "0.00s", "LMT GTC",
        ]  # fmt: skip
        assert rows[f"{instance}-1"][3] == "market"
        assert rows[f"{instance}-2"][6] == "REJECTED"
        assert rows[f"{instance}-2"][12] == "daily_loss: halted"
        assert rows[f"{instance}-4"][9:11] == ["grid", "bybit"]
        assert rows[f"{instance}-1"][9:11] == ["manual", "sim"]
        assert "4 of 4 orders · 2 open" in text_of(screen, "#orders-filter")
        assert f"{instance}-3 · venue id not known · BUY 0.00100 LMT GTC 65000.00" in text_of(
            screen, "#order-detail"
        )


async def test_the_state_filter_cycles_through_the_groups(app, seeded, instance):
    """The f key keeps all, then open, filled, canceled and rejected orders only."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(pilot, lambda: len(table_rows(screen, "#orders-table")) == 4, "4 rows")
        shown = []
        for _ in range(5):
            await pilot.press("f")
            await pilot.pause()
            shown.append(sorted(table_rows(screen, "#orders-table")))
        ids = {n: f"{instance}-{n}" for n in range(1, 5)}
        assert shown == [[ids[3], ids[4]], [ids[1]], [], [ids[2]], sorted(ids.values())]
        assert "state all" in text_of(screen, "#orders-filter")


async def test_the_strategy_filter_cycles_through_the_strategies_then_manual(app, seeded, instance):
    """The g key keeps grid's, then mm's, then manual orders and fills, then everything again."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(pilot, lambda: len(table_rows(screen, "#fills-table")) == 2, "2 fills")
        shown = []
        for _ in range(4):
            await pilot.press("g")
            await pilot.pause()
            fills = [row[1] for row in table_rows(screen, "#fills-table").values()]
            shown.append((sorted(table_rows(screen, "#orders-table")), fills))
        ids = {n: f"{instance}-{n}" for n in range(1, 5)}
        assert shown == [
            ([ids[4]], [ids[4]]),
            ([ids[3]], []),
            ([ids[1], ids[2]], [ids[1]]),
            (sorted(ids.values()), [ids[4], ids[1]]),
        ]
        assert "strategy all" in text_of(screen, "#orders-filter")


async def test_the_venue_filter_cycles_through_the_venues(app, seeded, instance):
    """The v key keeps bybit's orders, then sim's, then every venue's; the filter line says so."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(pilot, lambda: len(table_rows(screen, "#orders-table")) == 4, "4 rows")
        await pilot.press("v")
        await wait_until(pilot, lambda: "venue bybit" in text_of(screen, "#orders-filter"), "bybit")
        assert list(table_rows(screen, "#orders-table")) == [f"{instance}-4"]
        await pilot.press("v")
        await wait_until(pilot, lambda: "venue sim" in text_of(screen, "#orders-filter"), "sim")
        assert len(table_rows(screen, "#orders-table")) == 3
        assert "3 of 4 orders" in text_of(screen, "#orders-filter")
        await pilot.press("v")
        await wait_until(pilot, lambda: "venue all" in text_of(screen, "#orders-filter"), "all")
        assert len(table_rows(screen, "#orders-table")) == 4


async def test_the_instrument_filter_names_the_instrument(app, seeded):
    """The i key shows one instrument at a time, then every instrument again."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await pilot.press("i")
        await wait_until(pilot, lambda: "BTCUSDT" in text_of(screen, "#orders-filter"), "filter")
        assert len(table_rows(screen, "#orders-table")) == 4
        await pilot.press("i")
        await wait_until(
            pilot, lambda: "all instruments" in text_of(screen, "#orders-filter"), "all again"
        )


async def test_fills_come_from_fill_events_newest_first(app, seeded, instance):
    """The fills log shows each FILL event: time, client id, side, price, size, maker/taker."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(pilot, lambda: len(table_rows(screen, "#fills-table")) == 2, "2 fills")
        rows = list(table_rows(screen, "#fills-table").values())
        assert rows[0] == ["22:13:20.000", f"{instance}-4", "BTCUSDT", "SELL", "65000.02",
                           "0.00050", "maker"]  # fmt: skip
        assert rows[1][1:] == [f"{instance}-1", "BTCUSDT", "SELL", "65000.00", "0.00100", "taker"]


async def test_venue_ids_come_from_the_control_plane(app, seeded, control, control_desk, instance):
    """GET /orders gives the venue's order ids, shown in their column and the detail line."""
    control_desk.orders = [{"client_order_id": f"{instance}-3", "venue_order_id": "880011"}]
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(
            pilot,
            lambda: (
                table_rows(screen, "#orders-table").get(f"{instance}-3", [""] * 12)[11] == "880011"
            ),
            "the venue id",
        )
        assert "venue id 880011" in text_of(screen, "#order-detail")


async def test_x_cancels_the_selected_open_order_only(app, seeded, instance):
    """The x key sends CANCEL for an open order; on a rejected one it says there is nothing."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "o", "orders")
        await wait_until(pilot, lambda: len(table_rows(screen, "#orders-table")) == 4, "4 rows")
        await pilot.press("down", "x")
        await wait_until(pilot, lambda: "cancel sent" in text_of(screen, "#order-detail"), "sent")
        await pilot.press("down", "x")
        await wait_until(
            pilot, lambda: "nothing to cancel" in text_of(screen, "#order-detail"), "refused"
        )
        assert [(c.kind, c.seq) for c in seeded.poll_commands()] == [(CommandKind.CANCEL, 4)]
