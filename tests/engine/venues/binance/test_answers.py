"""Binance spot REST answers to orders, cancels and queries, as events."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from engine.core.commands import OrderType, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import VenueGarbage
from engine.venues.base import VenueOrder, VenuePosition
from engine.venues.binance.answers import (
    cancel_all_events,
    cancel_event,
    new_order_events,
    open_orders_answer,
    positions_answer,
)
from engine.venues.binance.orders import BinanceMarket

BTC = Instrument(
    venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
ETH = Instrument(
    venue="binance", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)
MARKET = BinanceMarket(BTC)
MARKETS = {"BTCUSDT": MARKET, "ETHUSDT": BinanceMarket(ETH)}
RECV = 1_700_000_000_123_000_000


def encode(body: Any) -> bytes:
    """JSON bytes of a body."""
    return msgspec.json.encode(body)


def full_answer(**fields: Any) -> dict[str, Any]:
    """A FULL answer to a buy of 0.003 BTC at 65000.01 that took two levels."""
    body: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "orderId": 28,
        "orderListId": -1,
        "clientOrderId": "desk-1",
        "transactTime": 1_700_000_000_100,
        "price": "65000.01000000",
        "origQty": "0.00300000",
        "executedQty": "0.00300000",
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "194.99999000",
        "status": "FILLED",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
        "workingTime": 1_700_000_000_100,
        "selfTradePreventionMode": "NONE",
        "fills": [
            {
                "price": "64999.99000000",
                "qty": "0.00100000",
                "commission": "0.00006500",
                "commissionAsset": "USDT",
                "tradeId": 501,
            },
            {
                "price": "65000.00000000",
                "qty": "0.00200000",
                "commission": "0.00013000",
                "commissionAsset": "USDT",
                "tradeId": 502,
            },
        ],
    }
    return body | fields


def kinds(events: list[OrderUpdate | Fill]) -> list[str]:
    """The kind of each event: an update's kind, or ``fill``."""
    return ["fill" if isinstance(e, Fill) else e.kind.value for e in events]


def test_a_full_answer_is_the_ack_then_every_fill_in_order():
    """A FULL answer is ACCEPTED, then one taker fill per level with exact prices and fees."""
    events = new_order_events(MARKET, encode(full_answer()), Side.BUY, RECV, 6_500_001, 300)
    assert kinds(events) == ["accepted", "fill", "fill"]
    ack, first, second = events
    assert isinstance(ack, OrderUpdate)
    assert (ack.venue_order_id, ack.price_ticks, ack.size_lots) == ("28", 6_500_001, 300)
    assert ack.exch_ts == 1_700_000_000_100_000_000
    assert ack.recv_ts == RECV
    assert isinstance(first, Fill)
    assert isinstance(second, Fill)
    assert (first.price, first.size, first.fee, first.liquidity) == (6_499_999, 100, 6_500, "taker")
    assert (second.price, second.size, second.fee) == (6_500_000, 200, 13_000)
    assert first.trade_id == "BTCUSDT:501:B"
    assert first.client_order_id == "desk-1"
    assert first.venue_order_id == "28"


def test_an_ioc_that_ran_out_of_liquidity_expires_after_its_fills():
    """An IOC answer with status EXPIRED ends with EXPIRED carrying the filled lots."""
    body = full_answer(
        status="EXPIRED", timeInForce="IOC", executedQty="0.00300000", origQty="0.00500000"
    )
    events = new_order_events(MARKET, encode(body), Side.BUY, RECV, 6_500_001, 500)
    assert kinds(events) == ["accepted", "fill", "fill", "expired"]
    last = events[-1]
    assert isinstance(last, OrderUpdate)
    assert (last.filled_lots, last.size_lots) == (300, 500)
    assert "IOC" in last.reason


def test_a_self_trade_expiry_says_so():
    """Status EXPIRED_IN_MATCH is EXPIRED with the reason self-trade prevention."""
    body = full_answer(status="EXPIRED_IN_MATCH", fills=[], executedQty="0.00000000")
    events = new_order_events(MARKET, encode(body), Side.BUY, RECV, 6_500_001, 300)
    assert kinds(events) == ["accepted", "expired"]
    assert events[-1].reason == "self-trade prevention"  # type: ignore[union-attr]


def test_a_resting_order_is_just_accepted():
    """A RESULT answer for an order now working is one ACCEPTED."""
    body = full_answer(status="NEW", executedQty="0.00000000")
    del body["fills"]
    events = new_order_events(MARKET, encode(body), Side.SELL, RECV, 6_500_001, 300)
    assert kinds(events) == ["accepted"]


def test_an_ack_answer_takes_price_and_size_from_the_order_sent():
    """An ACK carries only ids: the update has the price and size we sent."""
    body = {
        "symbol": "BTCUSDT",
        "orderId": 3,
        "orderListId": -1,
        "clientOrderId": "desk-2",
        "transactTime": 5,
    }
    (ack,) = new_order_events(MARKET, encode(body), Side.BUY, RECV, 6_400_000, 7)
    assert isinstance(ack, OrderUpdate)
    assert (ack.kind, ack.price_ticks, ack.size_lots) == (OrderUpdateKind.ACCEPTED, 6_400_000, 7)


def test_a_missing_field_is_garbage_naming_it():
    """An answer without ``orderId`` is VenueGarbage that says ``orderId``."""
    body = full_answer()
    del body["orderId"]
    with pytest.raises(VenueGarbage, match="orderId"):
        new_order_events(MARKET, encode(body), Side.BUY, RECV, 1, 1)


def test_a_price_off_the_grid_is_garbage_naming_the_field():
    """A fill price between ticks is VenueGarbage naming ``fills[].price``."""
    body = full_answer()
    body["fills"][0]["price"] = "64999.995"
    with pytest.raises(VenueGarbage, match=r"fills\[\]\.price"):
        new_order_events(MARKET, encode(body), Side.BUY, RECV, 1, 1)


def test_an_unknown_status_is_garbage():
    """A status Binance never sends is VenueGarbage naming ``status``."""
    with pytest.raises(VenueGarbage, match="status"):
        new_order_events(MARKET, encode(full_answer(status="DONE")), Side.BUY, RECV, 1, 1)


def test_an_answer_that_is_not_json_is_garbage():
    """Bytes that are not JSON are VenueGarbage with the bytes kept."""
    with pytest.raises(VenueGarbage) as caught:
        new_order_events(MARKET, b"<html>oops</html>", Side.BUY, RECV, 1, 1)
    assert caught.value.raw == b"<html>oops</html>"


def cancel_body(client: str = "desk-1", order_id: int = 28, symbol: str = "BTCUSDT") -> dict:
    """A cancel answer for a half-filled order."""
    return {
        "symbol": symbol,
        "origClientOrderId": client,
        "orderId": order_id,
        "orderListId": -1,
        "clientOrderId": "cancel-9",
        "transactTime": 1_700_000_000_200,
        "price": "65000.01000000",
        "origQty": "0.00300000",
        "executedQty": "0.00100000",
        "cummulativeQuoteQty": "65.00001000",
        "status": "CANCELED",
        "timeInForce": "GTC",
        "type": "LIMIT",
        "side": "BUY",
    }


def test_a_cancel_answer_is_canceled_for_the_original_client_id():
    """The cancel's own client id is ignored: the update is for the order canceled."""
    update = cancel_event(MARKET, encode(cancel_body()), RECV)
    assert (update.kind, update.client_order_id, update.venue_order_id) == (
        OrderUpdateKind.CANCELED,
        "desk-1",
        "28",
    )
    assert (update.size_lots, update.filled_lots) == (300, 100)


def test_cancel_all_reports_every_order_including_order_lists():
    """Each canceled order, plain or inside an order list, is one CANCELED."""
    body = [
        cancel_body("desk-1", 28),
        {
            "orderListId": 4,
            "contingencyType": "OCO",
            "orders": [],
            "orderReports": [cancel_body("desk-2", 29), cancel_body("desk-3", 30)],
        },
    ]
    updates = cancel_all_events(MARKETS, encode(body), RECV)
    assert [u.client_order_id for u in updates] == ["desk-1", "desk-2", "desk-3"]
    assert all(u.kind is OrderUpdateKind.CANCELED for u in updates)


def test_cancel_all_for_a_symbol_we_do_not_trade_is_garbage():
    """A cancel-all answer naming another symbol is VenueGarbage."""
    with pytest.raises(VenueGarbage, match="SOLUSDT"):
        cancel_all_events(MARKETS, encode([cancel_body(symbol="SOLUSDT")]), RECV)


def open_order(symbol: str, client: str, order_type: str = "LIMIT") -> dict[str, Any]:
    """One entry of ``GET /api/v3/openOrders``."""
    return {
        "symbol": symbol,
        "orderId": 77,
        "orderListId": -1,
        "clientOrderId": client,
        "price": "3000.50000000",
        "origQty": "1.50000000",
        "executedQty": "0.25000000",
        "cummulativeQuoteQty": "750.12500000",
        "status": "PARTIALLY_FILLED",
        "timeInForce": "GTC",
        "type": order_type,
        "side": "SELL",
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": 1,
        "updateTime": 2,
        "isWorking": True,
    }


def test_open_orders_become_venue_orders_for_our_symbols_only():
    """Open orders are read in ticks and lots; other symbols are left out."""
    body = [open_order("ETHUSDT", "desk-5", "LIMIT_MAKER"), open_order("SOLUSDT", "other")]
    assert open_orders_answer(MARKETS, encode(body)) == [
        VenueOrder(
            instrument=1,
            client_order_id="desk-5",
            venue_order_id="77",
            side=Side.SELL,
            price_ticks=300_050,
            size_lots=15_000,
            filled_lots=2_500,
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.POST_ONLY,
        )
    ]


def test_an_open_order_with_a_bad_side_is_garbage():
    """A side other than BUY or SELL is VenueGarbage naming ``side``."""
    body = [open_order("ETHUSDT", "desk-5") | {"side": "LONG"}]
    with pytest.raises(VenueGarbage, match="side"):
        open_orders_answer(MARKETS, encode(body))


def test_positions_are_base_balances_free_plus_locked_in_whole_lots():
    """Each market's position is its base asset's free plus locked balance, dust cut off."""
    body = {
        "canTrade": True,
        "balances": [
            {"asset": "BTC", "free": "1.00000000", "locked": "0.50000009"},
            {"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"},
        ],
    }
    by_id = {m.instrument_id: m for m in MARKETS.values()}
    assert positions_answer(by_id, encode(body)) == [
        VenuePosition(instrument=0, net_lots=150_000, inventory=True),
        VenuePosition(instrument=1, net_lots=0, inventory=True),
    ]


def test_a_balance_that_is_not_a_number_is_garbage():
    """A balance text that is not a number is VenueGarbage naming the asset."""
    body = {"balances": [{"asset": "BTC", "free": "lots", "locked": "0"}]}
    with pytest.raises(VenueGarbage, match="BTC"):
        positions_answer({0: MARKET}, encode(body))
