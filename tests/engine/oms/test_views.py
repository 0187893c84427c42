"""Order documents and the trading page: exact text in, exact text out, bounded in size."""

from __future__ import annotations

import pytest

from engine.core.clock import SimClock
from engine.core.commands import OrderType, TimeInForce
from engine.core.events import Alert, AlertLevel, Fill, Side
from engine.core.instruments import Instrument
from engine.ipc.protocol import decode_trading, encode_view
from engine.oms.order import Order, OrderEventKind
from engine.oms.positions import Portfolio
from engine.oms.views import (
    MAX_ALERT_ROWS,
    MAX_ORDER_ROWS,
    OrderRequestError,
    order_doc,
    parse_order_request,
    portfolio_doc,
    trading_view,
)

BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)


def test_a_limit_order_request_becomes_ticks_and_lots():
    """Exact text converts to integers on the instrument's grid."""
    cmd = parse_order_request(
        {"symbol": "BTCUSDT", "side": "SELL", "size": "0.01", "price": "65000.10"}, [BTC], "c-1"
    )
    assert (cmd.side, cmd.size_lots, cmd.price_ticks) == (Side.SELL, 1000, 6_500_010)
    assert (cmd.order_type, cmd.time_in_force) == (OrderType.LIMIT, TimeInForce.GTC)


def test_a_market_order_request_ignores_no_price_and_keeps_flags():
    """A market order needs no price; post-only and reduce-only flags pass through."""
    cmd = parse_order_request(
        {"symbol": "BTCUSDT", "side": "buy", "size": "0.5", "type": "market", "reduce_only": True},
        [BTC],
        "c-2",
    )
    assert (cmd.order_type, cmd.price_ticks, cmd.reduce_only) == (OrderType.MARKET, 0, True)


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"symbol": "ETHUSDT", "side": "buy", "size": "1", "price": "1"}, "unknown symbol"),
        ({"symbol": "BTCUSDT", "side": "hold", "size": "1", "price": "1"}, "buy or sell"),
        ({"symbol": "BTCUSDT", "side": "buy", "size": 1, "price": "1"}, "decimal text"),
        ({"symbol": "BTCUSDT", "side": "buy", "size": "1"}, "needs a price"),
        ({"symbol": "BTCUSDT", "side": "buy", "size": "1", "price": "1.001"}, "multiple of"),
        ({"symbol": "BTCUSDT", "side": "buy", "size": "0.00001", "price": "1"}, "minimum"),
        (
            {"symbol": "BTCUSDT", "side": "buy", "size": "1", "price": "1", "type": "stop"},
            "not a valid",
        ),
    ],
)
def test_a_bad_order_request_names_the_problem(doc, words):
    """Every bad field is refused with a message that says what is wrong."""
    with pytest.raises(OrderRequestError, match=words):
        parse_order_request(doc, [BTC], "c-3")


def _order(n: int, *, done: bool) -> Order:
    order = Order(f"c-{n}", "sim", 0, Side.BUY, 100, 6_500_000)
    order.apply(OrderEventKind.SUBMIT, n)
    order.apply(OrderEventKind.ACCEPTED, n, venue_order_id=str(n))
    if done:
        order.apply(OrderEventKind.CANCELED, n, reason="user")
    return order


def test_order_doc_is_exact_text():
    """Prices and sizes leave as grid text and the average fill price is exact."""
    order = _order(1, done=False)
    for k, price in enumerate((6_500_000, 6_500_001)):
        order.apply_fill(
            Fill(
                venue="sim",
                instrument=0,
                client_order_id="c-1",
                venue_order_id="1",
                trade_id=str(k),
                side=Side.BUY,
                price=price,
                size=25,
                fee=0,
            )
        )
    doc = order_doc(order, BTC)
    assert (doc["price"], doc["size"], doc["filled"]) == ("65000.00", "0.00100", "0.00050")
    assert doc["avg_price"] == "65000.005"


def test_trading_view_keeps_open_orders_first_and_stays_bounded():
    """Open orders come first; closed ones fill the rest; alerts keep the newest; it decodes."""
    orders = [_order(n, done=n % 2 == 0) for n in range(200)]
    alerts = [
        Alert(ts_ns=n, level=AlertLevel.WARNING, source="oms", message="x" * 500) for n in range(50)
    ]
    view = trading_view(
        [o for o in orders if o.is_open],
        [o for o in orders if not o.is_open],
        Portfolio([BTC], SimClock()).snapshot(),
        alerts,
        daily_loss_limit="2000",
        gateway="PaperGateway",
        stats=None,
        link_healthy=True,
        requests={"c-1": 5},
    )
    assert len(view.orders) == MAX_ORDER_ROWS
    assert view.open_orders == 100
    assert view.orders[0].venue_order_id == "1"
    assert view.orders[0].created_ns == 1
    assert [r.request for r in view.orders[:2]] == [5, 0]
    assert all(row.status == "accepted" for row in view.orders)
    assert [a.ts_ns for a in view.alerts] == list(range(50 - MAX_ALERT_ROWS, 50))
    assert len(view.alerts[0].message) == 200
    encoded = encode_view(view)
    assert len(encoded) < 32 * 1024
    assert decode_trading(encoded) == view


def test_trading_view_names_venue_strategy_and_queue_per_order():
    """Each row carries its venue, the strategy that sent it and the queue ahead when known."""
    orders = [_order(n, done=False) for n in range(3)]
    view = trading_view(
        orders,
        [],
        Portfolio([BTC], SimClock()).snapshot(),
        [],
        daily_loss_limit="2000",
        gateway="PaperGateway",
        stats=None,
        link_healthy=True,
        owners=lambda cid: "mm" if cid == "c-1" else "",
        queue={"c-0": 1500},
    )
    assert [r.venue for r in view.orders] == ["sim", "sim", "sim"]
    assert [r.strategy for r in view.orders] == ["", "mm", ""]
    assert [r.queue_ahead for r in view.orders] == [1500, -1, -1]
    assert decode_trading(encode_view(view)) == view


def test_portfolio_doc_prints_money_exactly():
    """Fees of a fill appear as exact quote text."""
    portfolio = Portfolio([BTC], SimClock())
    portfolio.apply(
        Fill(
            venue="sim",
            instrument=0,
            client_order_id="c",
            venue_order_id="v",
            trade_id="t",
            side=Side.BUY,
            price=6_500_000,
            size=1000,
            fee=13_000_000,
        )
    )
    doc = portfolio_doc(portfolio.snapshot(), {0: BTC})
    assert doc["positions"][0]["net"] == "0.01000"
    assert doc["fees"] == "0.13"
    assert doc["net"] == "-0.13"
