"""USD-M request text: exact decimals, GTX for post-only, reduceOnly, modify, what is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import assume, given, settings

from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import OrderRejected
from engine.sim.usdm_params import modify, new_order
from engine.sim.wire import MAX_PRICE_TICKS, MAX_QUANTITY_LOTS
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance_usdm.orders import (
    VENUE,
    cancel_all_query,
    cancel_query,
    modify_query,
    new_order_query,
    order_kind,
    update,
    user_trades_query,
)
from tests.strategies import submit_orders

BTC = Instrument(venue="binance-usdm", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
MARKET = BinanceMarket(BTC)


def order(**fields: object) -> SubmitOrder:
    """A LIMIT GTC buy of 0.250 at 65000.1 unless ``fields`` say otherwise."""
    base: dict[str, object] = {
        "client_order_id": "c-1",
        "instrument": 0,
        "side": Side.BUY,
        "size_lots": 250,
        "price_ticks": 650_001,
        **fields,
    }
    return SubmitOrder(**base)  # type: ignore[arg-type]


def test_a_limit_order_is_binance_text_in_binance_order():
    """symbol, side, type, timeInForce, quantity, price, the client id, the answer wanted."""
    assert new_order_query(MARKET, order()) == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.250&price=65000.1"
        "&newClientOrderId=c-1&newOrderRespType=RESULT"
    )


def test_post_only_is_gtx_and_reduce_only_is_sent():
    """POST_ONLY becomes ``timeInForce=GTX``; reduce-only adds ``reduceOnly=true``."""
    query = new_order_query(MARKET, order(time_in_force=TimeInForce.POST_ONLY, reduce_only=True))
    assert "&timeInForce=GTX&" in query
    assert "&reduceOnly=true&" in query


def test_a_market_order_has_no_price_nor_time_in_force():
    """MARKET sends side, type and quantity only."""
    query = new_order_query(MARKET, order(order_type=OrderType.MARKET, price_ticks=0), "ACK")
    assert query == (
        "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.250&newClientOrderId=c-1&newOrderRespType=ACK"
    )


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"order_type": OrderType.MARKET, "time_in_force": TimeInForce.POST_ONLY}, "post-only"),
        ({"size_lots": 0}, "size must be positive"),
        ({"price_ticks": 0}, "price must be positive"),
        ({"client_order_id": "has space"}, "not usable"),
        ({"client_order_id": "x" * 37}, "not usable"),
    ],
)
def test_orders_usdm_cannot_take_are_refused_before_sending(fields, words):
    """Each is OrderRejected naming the problem; nothing would be sent."""
    with pytest.raises(OrderRejected, match=words) as refused:
        new_order_query(MARKET, order(**fields))
    assert refused.value.venue == VENUE


def test_modify_sends_side_new_total_size_and_price():
    """PUT names the order by our client id, with its side and the new values."""
    replace = ReplaceOrder(client_order_id="c-1", instrument=0, price_ticks=649_990, size_lots=300)
    assert modify_query(MARKET, Side.SELL, replace) == (
        "symbol=BTCUSDT&origClientOrderId=c-1&side=SELL&quantity=0.300&price=64999.0"
    )
    with pytest.raises(OrderRejected, match="positive"):
        modify_query(
            MARKET,
            Side.SELL,
            ReplaceOrder(client_order_id="c-1", instrument=0, price_ticks=0, size_lots=1),
        )


def test_cancels_and_trade_queries():
    """Cancel by client id, cancel-all by symbol, userTrades by window or by order."""
    assert cancel_query(MARKET, "c-1") == "symbol=BTCUSDT&origClientOrderId=c-1"
    assert cancel_all_query(MARKET) == "symbol=BTCUSDT"
    assert user_trades_query(MARKET, start_ms=1, end_ms=2) == (
        "symbol=BTCUSDT&startTime=1&endTime=2&limit=1000"
    )
    assert user_trades_query(MARKET, order_id="9", limit=5) == "symbol=BTCUSDT&orderId=9&limit=5"


def test_order_kinds_and_updates():
    """GTX reads back as post-only; updates carry the USD-M venue name."""
    assert order_kind("LIMIT", "GTX") == (OrderType.LIMIT, TimeInForce.POST_ONLY)
    assert order_kind("MARKET", "GTC")[0] is OrderType.MARKET
    assert order_kind("LIMIT", "GTD") == (OrderType.LIMIT, TimeInForce.GTC)
    got = update(MARKET, "c-1", OrderUpdateKind.ACCEPTED, venue_order_id="5")
    assert (got.venue, got.venue_order_id, got.instrument) == (VENUE, "5", 0)


@settings(max_examples=80, deadline=None)
@given(submit_orders())
def test_the_local_venue_reads_every_order_back_exactly(submitted):
    """Any order's query is read by the local venue as the same side, size, price, TIF and id."""
    assume(submitted.price_ticks <= MAX_PRICE_TICKS and submitted.size_lots <= MAX_QUANTITY_LOTS)
    try:
        query = new_order_query(MARKET, submitted)
    except OrderRejected:
        return  # refused here, before sending (e.g. a client id USD-M would not take)
    params = dict(parse_qsl(query))
    reference = 650_000 if submitted.order_type is OrderType.MARKET else 0
    read = new_order(params, {"BTCUSDT": BTC}, reference)  # BTC has no minimum notional
    assert (read.side, read.quantity, read.client_order_id) == (
        submitted.side,
        submitted.size_lots,
        submitted.client_order_id,
    )
    assert read.reduce_only is submitted.reduce_only
    if submitted.order_type is OrderType.MARKET:
        assert (read.order_type, read.price) == ("MARKET", 0)
    else:
        tif = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "POST_ONLY": "GTX"}
        assert (read.order_type, read.price) == ("LIMIT", submitted.price_ticks)
        assert read.time_in_force == tif[submitted.time_in_force.name]


def test_a_modify_reads_back_at_the_local_venue():
    """The modify query is read by the venue as the same side, size and price."""
    replace = ReplaceOrder(client_order_id="c-9", instrument=0, price_ticks=650_010, size_lots=1)
    got = modify(dict(parse_qsl(modify_query(MARKET, Side.BUY, replace))), {"BTCUSDT": BTC})
    assert (got.ref.orig_client_order_id, got.side, got.quantity, got.price) == (
        "c-9",
        Side.BUY,
        1,
        650_010,
    )
