"""TradeScreen: the order ticket's keys, our orders on the ladder, position and PnL, cancels."""

from __future__ import annotations

import pytest
from textual.message import Message
from textual.pilot import Pilot

from engine.ipc.protocol import CommandKind, Flag, PositionRow, order_style_of
from hft_tui.app import TradingApp, UiSettings
from hft_tui.messages import CommandAnswered, OrderRequested
from hft_tui.screens.trade import TradeScreen
from hft_tui.widgets import OrderTicket, PositionPanel, QuoteSpark, WorkingOrders
from tests.hft_tui.conftest import BEST_BID, book_view, order_row, trading_view
from tests.hft_tui.pilot import key_bar_text, ladder_lines, wait_until

SECOND = 1_000_000_000


def _trade(pilot: Pilot[None]) -> TradeScreen:
    screen = pilot.app.get_screen_stack("trade")[0]
    assert isinstance(screen, TradeScreen)
    return screen


def _ticket(pilot: Pilot[None]) -> list[str]:
    return _trade(pilot).query_one(OrderTicket).render().plain.splitlines()


def _working(pilot: Pilot[None]) -> list[str]:
    return _trade(pilot).query_one(WorkingOrders).render().plain.splitlines()


async def _ready(pilot: Pilot[None]) -> None:
    await wait_until(pilot, lambda: "65000.01" in "\n".join(ladder_lines(pilot)), "the book")


@pytest.mark.parametrize(
    ("key", "side", "price", "style"),
    [
        ("b", Flag.BUY, BEST_BID, ("limit", "gtc")),
        ("B", Flag.BUY, BEST_BID + 1, ("limit", "gtc")),
        ("s", Flag.SELL, BEST_BID + 1, ("limit", "gtc")),
        ("S", Flag.SELL, BEST_BID, ("limit", "gtc")),
        ("m", Flag.BUY, 0, ("market", "ioc")),
        ("M", Flag.SELL, 0, ("market", "ioc")),
    ],
)
async def test_each_order_key_sends_one_submit(app, publisher, key, side, price, style):
    """b/B buy at bid/ask, s/S sell at ask/bid, m/M at market: one SUBMIT, first preset size."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: "sent" in _ticket(pilot)[3], "the answer")
        [cmd] = publisher.poll_commands()
        assert cmd.kind == CommandKind.SUBMIT
        assert (cmd.instrument, cmd.flags, cmd.price, cmd.size) == (0, side, price, 100)
        assert order_style_of(cmd.aux) == style
        assert cmd.seq == 1  # the UI's request number


async def test_the_ticket_says_what_it_sent_and_shows_the_prices(app, publisher):
    """The ticket lists the price each key would use and confirms what went out."""
    seen: list[Message] = []
    async with app.run_test(message_hook=seen.append) as pilot:
        await _ready(pilot)
        lines = _ticket(pilot)
        assert lines[0].split() == ["size", "1", "0.001", "2", "0.01", "3", "0.1"]
        assert lines[1].split() == ["buy", "b", "65000.00", "B", "65000.01", "m", "mkt"]
        assert lines[2].split() == ["sell", "s", "65000.01", "S", "65000.00", "M", "mkt"]
        await pilot.press("b")
        await wait_until(pilot, lambda: "sent" in _ticket(pilot)[3], "the answer")
        assert _ticket(pilot)[3].strip() == "sent BUY 0.00100 BTCUSDT @ 65000.00 (request 1)"
    requested = {id(m): m for m in seen if isinstance(m, OrderRequested)}  # seen as it bubbles
    assert [(m.buy, m.price, m.size) for m in requested.values()] == [(True, BEST_BID, 100)]
    assert any(isinstance(m, CommandAnswered) and m.ok for m in seen)


async def test_presets_change_the_size(app, publisher):
    """2 then s sells the second preset (0.01 = 1000 lots); 3 then m buys 0.1 at market."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("2", "s", "3", "m")
        await wait_until(pilot, lambda: "request 2" in _ticket(pilot)[3], "two answers")
        sizes = [(c.flags, c.size, c.seq) for c in publisher.poll_commands()]
        assert sizes == [(Flag.SELL, 1_000, 1), (Flag.BUY, 10_000, 2)]
        assert _trade(pilot).chosen == 2


async def test_no_price_from_a_book_that_is_not_live(app, publisher):
    """At bid needs a live book: a syncing one refuses it here; a market order still goes out."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        publisher.publish_book(book_view(state="syncing", update_count=2))
        await wait_until(pilot, lambda: "SYNCING" in ladder_lines(pilot)[10], "SYNCING")
        await pilot.press("b")
        await wait_until(pilot, lambda: "not sent" in _ticket(pilot)[3], "the refusal")
        assert "no bid (book syncing)" in _ticket(pilot)[3]
        assert publisher.poll_commands() == []
        await pilot.press("m")
        await wait_until(pilot, lambda: "sent BUY" in _ticket(pilot)[3], "the market order")
        assert [c.price for c in publisher.poll_commands()] == [0]


async def test_a_rejected_order_shows_its_reason_on_the_ticket(app, publisher, instance):
    """Once the page shows the engine's answer, the ticket's last line gives it, reason and all."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("B")
        await wait_until(pilot, lambda: "sent" in _ticket(pilot)[3], "the answer")
        rejected = order_row(
            7, instance=instance, price=BEST_BID + 1, status="rejected",
            reason="max_order_size: 0.001 > 0.0005", ts_ns=5,
        )  # fmt: skip
        publisher.publish_trading(trading_view(orders=[rejected]))
        await wait_until(pilot, lambda: "REJECTED" in _ticket(pilot)[3], "the rejection")
        assert _ticket(pilot)[3].strip() == (
            "last #7 BUY 0.00100 REJECTED: max_order_size: 0.001 > 0.0005"
        )


async def test_working_orders_are_listed_marked_and_cancelled(app, publisher, instance, sim_clock):
    """Our open orders list beside the ladder, sit on their levels, and x/X cancel them."""
    now = sim_clock.time_ns()
    orders = [
        order_row(3, instance=instance, price=BEST_BID, ts_ns=now - 2 * SECOND),
        order_row(
            4, instance=instance, side=2, price=BEST_BID + 2, size=250, filled=50,
            status="partially_filled", ts_ns=now,
        ),
        order_row(2, instance=instance, status="filled", filled=100, ts_ns=now),
    ]  # fmt: skip
    publisher.publish_trading(trading_view(orders=orders))
    async with app.run_test() as pilot:
        await _ready(pilot)
        await wait_until(pilot, lambda: "working 2" in _working(pilot)[0], "the working orders")
        rows = _working(pilot)
        assert rows[1].split() == [">B", "0.00100", "65000.00", "working", "2.0s"]
        assert rows[2].split() == ["S", "0.00200", "65000.02", "partial", "0.00s"]
        lines = ladder_lines(pilot)
        assert lines[11].rstrip().endswith("● 0.00100")  # best bid: ours
        assert lines[8].rstrip().endswith("● 0.00200")  # 65000.02, the second ask
        await pilot.press("down", "x")
        await wait_until(pilot, lambda: "cancel sent" in _ticket(pilot)[3], "the cancel")
        await pilot.press("X")
        await wait_until(pilot, lambda: "cancel-all" in _ticket(pilot)[3], "the cancel-all")
        commands = [(c.kind, c.seq, c.instrument, c.aux) for c in publisher.poll_commands()]
        assert commands == [(CommandKind.CANCEL, 4, 0, 0), (CommandKind.CANCEL_ALL, 0, 0, 0)]


async def test_the_queue_ahead_of_our_orders_shows_on_their_levels(app, publisher, instance):
    """Two bids at the best bid: their lots, the count and the smaller queue ahead of them."""
    orders = [
        order_row(3, instance=instance, price=BEST_BID, queue_ahead=250_000),
        order_row(5, instance=instance, price=BEST_BID, size=200, queue_ahead=120_000),
        order_row(6, instance=instance, side=2, price=BEST_BID + 2),
    ]
    publisher.publish_trading(trading_view(orders=orders))
    async with app.run_test() as pilot:
        await _ready(pilot)
        await wait_until(pilot, lambda: "x2" in ladder_lines(pilot)[11], "the marks")
        lines = ladder_lines(pilot)
        assert lines[11].rstrip().endswith("x2 q1.20000")
        assert lines[8].rstrip().endswith("● 0.00100")  # no estimate: no queue shown


async def test_the_mid_and_spread_sparklines_follow_the_book(app, publisher, sim_clock):
    """One point a second: the mid line rises with the book, the spread line shows its width."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        spark = _trade(pilot).query_one(QuoteSpark)
        assert "lines once two seconds" in spark.render().plain
        for n in range(1, 6):
            sim_clock.advance(SECOND)
            publisher.heartbeat(sim_clock.time_ns())
            publisher.publish_book(book_view(best_bid=BEST_BID + n, spread=1 + n % 2))
            await wait_until(
                pilot, lambda n=n: len(_trade(pilot).frame.quotes.points) > n, f"point {n}"
            )
        await wait_until(pilot, lambda: "▁" in spark.render().plain, "the lines")
        mid, spread = spark.render().plain.splitlines()
        assert mid.split()[0] == "mid"
        assert mid.split()[1].startswith("▁")
        assert mid.split()[1].endswith("█")
        assert mid.split()[2] == "65000.06"
        assert spread.split()[-1] == "2t"


async def test_nothing_to_cancel_is_said_on_the_ticket(app, publisher):
    """The x key with no working order sends nothing and says so."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: "nothing to cancel" in _ticket(pilot)[3], "the note")
        assert publisher.poll_commands() == []


async def test_position_and_pnl_of_the_instrument(app, publisher):
    """Net size on the lot grid, entry, PnL with signs, and today's loss against the limit."""
    position = PositionRow(
        instrument=0, net_lots=300, avg_entry="64999.5", realised="-0.45", unrealised="1.5015",
        fees="0.0039",
    )  # fmt: skip
    publisher.publish_trading(trading_view(positions=[position], daily="-12.5"))
    async with app.run_test() as pilot:
        await _ready(pilot)
        panel = _trade(pilot).query_one(PositionPanel)
        await wait_until(pilot, lambda: "64999.5" in panel.render().plain, "the position")
        lines = [line.strip() for line in panel.render().plain.splitlines()]
        assert lines == [
            "pos +0.00300 @ 64999.5",
            "unrl +1.5015 real -0.45 fees 0.0039",
            "day -12.5  limit -2000  used 0.6%",
        ]


async def test_the_key_bar_names_the_ticket_keys_and_the_modes(app):
    """At 80 columns the key bar lists the order keys and every mode's letter."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        keys = key_bar_text(_trade(pilot))
        assert keys.startswith(" b/B buy bid/ask s/S sell ask/bid m/M mkt x/X cancel/all │")
        assert keys.rstrip().endswith("t Trade o p r y a h w ?")


async def test_a_preset_off_the_lot_grid_is_refused_here(publisher, session, sim_clock):
    """A preset between lots never leaves the UI; the ticket names the grid."""
    settings = UiSettings(refresh_hz=50.0, size_presets=("0.000001", "0.002"))
    app = TradingApp(session, settings, sim_clock)
    async with app.run_test() as pilot:
        await _ready(pilot)
        assert _ticket(pilot)[0].split() == ["size", "1", "0.000001", "2", "0.002"]
        await pilot.press("b")
        await wait_until(pilot, lambda: "not sent" in _ticket(pilot)[3], "the refusal")
        assert "not a multiple of 0.00001" in _ticket(pilot)[3]
        assert publisher.poll_commands() == []
        await pilot.press("2", "3", "b")  # there is no third preset: 3 keeps the second
        await wait_until(pilot, lambda: "sent BUY 0.00200" in _ticket(pilot)[3], "the order")
        assert [c.size for c in publisher.poll_commands()] == [200]
