"""USD-M REST answers as events and records: exact numbers, every field checked, garbage named."""

from __future__ import annotations

import json

import pytest

from engine.core.commands import OrderType, TimeInForce
from engine.core.events import OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import VenueGarbage
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance_usdm.answers import (
    acked,
    balances_answer,
    cancel_all_answer,
    ending,
    listen_key_answer,
    open_orders_answer,
    order_answer,
    order_state,
    positions_answer,
    user_trades_answer,
    venue_order,
)

BTC = Instrument(venue="binance-usdm", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
ETH = Instrument(
    venue="binance-usdm", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1
)
MARKETS = {0: BinanceMarket(BTC), 1: BinanceMarket(ETH)}
BY_SYMBOL = {m.symbol: m for m in MARKETS.values()}


def order_object(**fields: object) -> dict[str, object]:
    """USD-M's order object (the docs' fields), a resting GTX buy unless ``fields`` say so."""
    return {
        "avgPrice": "0.00000",
        "clientOrderId": "c-1",
        "cumQuote": "0",
        "executedQty": "0",
        "orderId": 283194212,
        "origQty": "0.250",
        "origType": "LIMIT",
        "price": "65000.1",
        "reduceOnly": False,
        "side": "BUY",
        "positionSide": "BOTH",
        "status": "NEW",
        "stopPrice": "0",
        "closePosition": False,
        "symbol": "BTCUSDT",
        "timeInForce": "GTX",
        "type": "LIMIT",
        "updateTime": 1_700_000_000_123,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        **fields,
    }


def encoded(value: object) -> bytes:
    """JSON bytes."""
    return json.dumps(value).encode()


def test_an_order_object_reads_as_ticks_and_lots():
    """Price, sizes, ids, status and time come out exact; unknown fields are ignored."""
    state = order_state(MARKETS[0], order_answer(encoded(order_object(extra="x")), "answer"))
    assert (state.price_ticks, state.size_lots, state.filled_lots) == (650_001, 250, 0)
    assert (state.venue_order_id, state.status, state.side, state.time_in_force) == (
        "283194212",
        "NEW",
        Side.BUY,
        "GTX",
    )
    assert state.exch_ts == 1_700_000_000_123_000_000
    update = acked(MARKETS[0], state, 5)
    assert (update.kind, update.venue, update.filled_lots, update.recv_ts) == (
        OrderUpdateKind.ACCEPTED,
        "binance-usdm",
        0,
        5,
    )


@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({"status": "NEW"}, None, ""),
        ({"status": "FILLED"}, None, ""),
        ({"status": "CANCELED"}, OrderUpdateKind.CANCELED, ""),
        (
            {"status": "EXPIRED", "timeInForce": "IOC"},
            OrderUpdateKind.EXPIRED,
            "IOC remainder expired",
        ),
        (
            {"status": "EXPIRED", "type": "MARKET"},
            OrderUpdateKind.EXPIRED,
            "MARKET remainder expired",
        ),
        ({"status": "EXPIRED_IN_MATCH"}, OrderUpdateKind.EXPIRED, "self-trade prevention"),
        ({"status": "REJECTED"}, OrderUpdateKind.REJECTED, "rejected by the venue"),
    ],
)
def test_how_an_order_ended(fields, kind, reason):
    """Each final status is one end, with filled lots; open and FILLED orders have none."""
    body = encoded(order_object(executedQty="0.100", **fields))
    got = ending(MARKETS[0], order_state(MARKETS[0], order_answer(body, "answer")), 7)
    if kind is None:
        assert got is None
    else:
        assert got is not None
        assert (got.kind, got.reason, got.filled_lots) == (kind, reason, 100)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"price": "65000.15"}, "price"),
        ({"origQty": "0.0005"}, "origQty"),
        ({"executedQty": "lots"}, "executedQty"),
        ({"side": "UP"}, "side"),
        ({"status": "DONE"}, "status"),
        ({"orderId": "x"}, "orderId"),
    ],
)
def test_a_malformed_order_object_is_garbage_naming_the_field(fields, named):
    """Off the grid, not a number or not a value USD-M sends: VenueGarbage naming the field."""
    with pytest.raises(VenueGarbage, match=named):
        order_state(MARKETS[0], order_answer(encoded(order_object(**fields)), "answer"))


def test_a_missing_field_and_a_body_that_is_not_json_are_garbage():
    """``clientOrderId`` missing, or half a body: VenueGarbage saying what."""
    broken = order_object()
    del broken["clientOrderId"]
    with pytest.raises(VenueGarbage, match="clientOrderId"):
        order_answer(encoded(broken), "new order answer")
    with pytest.raises(VenueGarbage, match="new order answer"):
        order_answer(b'{"orderId": 1, "sym', "new order answer")


def test_open_orders_and_order_status_records():
    """Open orders of our symbols only; GTX reads as post-only; a record says whether it is open."""
    body = encoded([order_object(), order_object(symbol="XRPUSDT", orderId=2)])
    (one,) = open_orders_answer(BY_SYMBOL, body)
    assert (one.client_order_id, one.size_lots, one.time_in_force, one.open) == (
        "c-1",
        250,
        TimeInForce.POST_ONLY,
        True,
    )
    done = venue_order(
        MARKETS[0], order_answer(encoded(order_object(status="FILLED", type="MARKET")), "x")
    )
    assert (done.open, done.order_type) == (False, OrderType.MARKET)


def test_positions_are_netted_per_market_and_zero_when_not_listed():
    """One-way and hedge rows add up; a market the venue does not list is flat."""
    rows = [
        {"symbol": "BTCUSDT", "positionSide": "BOTH", "positionAmt": "-0.250"},
        {"symbol": "XRPUSDT", "positionSide": "BOTH", "positionAmt": "5"},
    ]
    btc, eth = positions_answer(MARKETS, encoded(rows))
    assert (btc.net_lots, btc.inventory, eth.net_lots) == (-250, False, 0)
    hedge = [
        {"symbol": "ETHUSDT", "positionSide": "LONG", "positionAmt": "1.000"},
        {"symbol": "ETHUSDT", "positionSide": "SHORT", "positionAmt": "-0.400"},
    ]
    assert positions_answer(MARKETS, encoded(hedge))[1].net_lots == 600
    with pytest.raises(VenueGarbage, match="positionAmt"):
        positions_answer(MARKETS, encoded([{"symbol": "BTCUSDT", "positionAmt": "0.0001"}]))


def test_balances_are_exact_units():
    """The futures wallet's balance, available and unrealised PnL in units of 10**-8."""
    body = encoded(
        [
            {
                "accountAlias": "a",
                "asset": "USDT",
                "balance": "122607.35137903",
                "crossWalletBalance": "23.72469206",
                "crossUnPnl": "-1.5",
                "availableBalance": "23.72469206",
            }
        ]
    )
    (usdt,) = balances_answer(body)
    assert (usdt.asset, usdt.wallet, usdt.available, usdt.unrealized) == (
        "USDT",
        12_260_735_137_903,
        2_372_469_206,
        -150_000_000,
    )
    with pytest.raises(VenueGarbage, match="balance"):
        balances_answer(encoded([{"asset": "USDT", "balance": "1.123456789"}]))


def test_user_trades_are_fills_with_the_streams_trade_ids():
    """Each trade: trade id ``symbol:id:side``, fee units in USDT, maker flag, our client id."""
    trades = [
        {
            "buyer": False,
            "commission": "0.07819010",
            "commissionAsset": "USDT",
            "id": 698759,
            "maker": False,
            "orderId": 25851813,
            "price": "7819.0",
            "qty": "0.002",
            "quoteQty": "15.63802",
            "realizedPnl": "-0.91539999",
            "side": "SELL",
            "positionSide": "BOTH",
            "symbol": "BTCUSDT",
            "time": 1569514978020,
        }
    ]
    (fill,) = user_trades_answer(BY_SYMBOL, encoded(trades), {"25851813": "c-7"}, 9)
    assert (fill.trade_id, fill.client_order_id, fill.side, fill.price, fill.size) == (
        "BTCUSDT:698759:S",
        "c-7",
        Side.SELL,
        78_190,
        2,
    )
    assert (fill.fee, fill.liquidity, fill.exch_ts) == (7_819_010, "taker", 1569514978020 * 10**6)
    with pytest.raises(VenueGarbage, match="userTrades"):
        user_trades_answer(BY_SYMBOL, encoded({"code": 1}), {}, 9)


def test_listen_key_and_cancel_all_answers():
    """A key must be there; cancel-all must say code 200."""
    assert listen_key_answer(b'{"listenKey":"abc"}') == "abc"
    with pytest.raises(VenueGarbage):
        listen_key_answer(b'{"listenKey":""}')
    cancel_all_answer(b'{"code":200,"msg":"The operation of cancel all open order is done."}')
    with pytest.raises(VenueGarbage, match="code 500"):
        cancel_all_answer(b'{"code":500,"msg":"no"}')
