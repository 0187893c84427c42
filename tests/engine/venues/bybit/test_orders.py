"""Bybit linear order requests: exact text from our commands, and the number-text helpers."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings

from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import OrderRejected, VenueGarbage
from engine.sim.bybit_params import create_order
from engine.venues.bybit.orders import (
    TIF_TEXT,
    BybitMarket,
    amend_body,
    cancel_all_body,
    cancel_body,
    create_body,
    fee_units,
    lots,
    ms_text,
    open_orders_query,
    order_kind,
    positions_query,
    query_string,
    settle_coin_of,
    side_of,
    ticks,
    wallet_query,
)
from tests.strategies import submit_orders

BTC = Instrument(venue="bybit", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")


@pytest.fixture
def market() -> BybitMarket:
    """BTCUSDT linear with Bybit's tick 0.10 and lot 0.001."""
    return BybitMarket(BTC)


def order(**kw: Any) -> SubmitOrder:
    """A limit buy of 0.015 BTC at 65000.1 unless ``kw`` says otherwise."""
    base = SubmitOrder(
        client_order_id="mm-1", instrument=0, side=Side.BUY, size_lots=15, price_ticks=650001
    )
    return msgspec.structs.replace(base, **kw)


def test_limit_order_body_is_exact_text(market):
    """A GTC limit order is category linear, exact price and qty text, our id as orderLinkId."""
    body = create_body(market, order())
    assert body == (
        '{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit",'
        '"qty":"0.015","price":"65000.1","timeInForce":"GTC","orderLinkId":"mm-1",'
        '"positionIdx":0}'
    )


@pytest.mark.parametrize(
    ("tif", "text"),
    [(TimeInForce.IOC, "IOC"), (TimeInForce.FOK, "FOK"), (TimeInForce.POST_ONLY, "PostOnly")],
)
def test_time_in_force_text(market, tif, text):
    """IOC, FOK and post-only are Bybit's timeInForce values."""
    assert json.loads(create_body(market, order(time_in_force=tif)))["timeInForce"] == text


def test_market_reduce_only_sell_has_no_price(market):
    """A reduce-only market sell carries no price and says reduceOnly."""
    body = json.loads(
        create_body(market, order(side=Side.SELL, order_type=OrderType.MARKET, reduce_only=True))
    )
    assert body["orderType"] == "Market"
    assert body["side"] == "Sell"
    assert body["reduceOnly"] is True
    assert "price" not in body
    assert "timeInForce" not in body


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"size_lots": 0}, "size must be positive"),
        ({"price_ticks": 0}, "price must be positive"),
        ({"order_type": OrderType.MARKET, "time_in_force": TimeInForce.POST_ONLY}, "post-only"),
        ({"client_order_id": "has space"}, "orderLinkId"),
        ({"client_order_id": "x" * 37}, "orderLinkId"),
    ],
)
def test_orders_bybit_cannot_take_are_refused_before_sending(market, kw, words):
    """Impossible orders are refused locally, saying why."""
    with pytest.raises(OrderRejected, match=words):
        create_body(market, order(**kw))


def test_cancel_amend_and_cancel_all_bodies(market):
    """Cancel and amend name the order by orderLinkId; amend sends only what changes."""
    assert json.loads(cancel_body(market, "mm-1")) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderLinkId": "mm-1",
    }
    assert json.loads(amend_body(market, "mm-1", 650002, None)) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "orderLinkId": "mm-1",
        "price": "65000.2",
    }
    assert json.loads(amend_body(market, "mm-1", None, 20))["qty"] == "0.020"
    assert json.loads(cancel_all_body(market)) == {"category": "linear", "symbol": "BTCUSDT"}


def test_amend_with_nothing_to_change_is_refused(market):
    """An amend that changes neither price nor size is refused locally."""
    with pytest.raises(OrderRejected, match="neither price nor size"):
        amend_body(market, "mm-1", None, None)
    with pytest.raises(OrderRejected, match="positive"):
        amend_body(market, "mm-1", None, 0)


def test_query_strings_are_sorted_and_skip_empty_values(market):
    """GET queries are sorted by key with empty values left out, cursor passed as given."""
    assert query_string([("b", "2"), ("a", "1"), ("c", "")]) == "a=1&b=2"
    assert open_orders_query(market) == "category=linear&limit=50&symbol=BTCUSDT"
    assert open_orders_query(market, cursor="page%3D2", order_link_id="mm-1") == (
        "category=linear&cursor=page%3D2&limit=50&orderLinkId=mm-1&symbol=BTCUSDT"
    )
    assert positions_query(market) == "category=linear&limit=200&symbol=BTCUSDT"
    assert wallet_query() == "accountType=UNIFIED"
    assert wallet_query(("USDT", "USDC")) == "accountType=UNIFIED&coin=USDT,USDC"


def test_number_text_becomes_ticks_lots_and_fee_units(market):
    """Venue text becomes integers exactly; fees round up to the next fee unit."""
    assert ticks(market, "65000.1", "price") == 650001
    assert lots(market, "0.0150", "qty") == 15
    assert fee_units(market, "0.0357552") == 3575520
    assert fee_units(market, "0.000000001") == 1
    assert fee_units(market, "-0.00000001") == -1
    assert ms_text("1672364262444", "t") == 1672364262444_000_000


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda m: ticks(m, "65000.15", "price"), "price"),
        (lambda m: lots(m, "abc", "qty"), "qty"),
        (lambda m: fee_units(m, "NaN"), "execFee"),
        (lambda m: ms_text("soon", "updatedTime"), "updatedTime"),
        (lambda m: side_of("BUY"), "side"),
    ],
)
def test_malformed_text_is_garbage_naming_the_field(market, call, field):
    """Text off the grid or not a number is VenueGarbage naming the field."""
    with pytest.raises(VenueGarbage, match=field):
        call(market)


def test_settle_coin_and_order_kinds():
    """Settle coins come from the symbol; Bybit's order kinds read back as ours."""
    assert settle_coin_of("BTCUSDT") == "USDT"
    assert settle_coin_of("ETHPERP") == "USDC"
    assert BybitMarket(BTC).settle_coin == "USDT"
    assert order_kind("Limit", "PostOnly") == (OrderType.LIMIT, TimeInForce.POST_ONLY)
    assert order_kind("Limit", "IOC") == (OrderType.LIMIT, TimeInForce.IOC)
    assert order_kind("Market", "IOC")[0] is OrderType.MARKET


@settings(max_examples=80, deadline=None)
@given(submit_orders())
def test_the_local_venue_reads_every_create_body_back_exactly(submitted):
    """Any order's create body is read by the local venue as the same side, size, price and id."""
    market = BybitMarket(BTC)
    params = json.loads(create_body(market, submitted))
    reference = 650_000 if submitted.order_type is OrderType.MARKET else 0
    read = create_order(params, {"BTCUSDT": BTC}, reference)  # BTC has no minimum value
    assert read.side is submitted.side
    assert read.qty == submitted.size_lots
    assert read.order_link_id == submitted.client_order_id
    assert read.reduce_only is submitted.reduce_only
    if submitted.order_type is OrderType.MARKET:
        assert (read.order_type, read.price) == ("Market", 0)
    else:
        assert (read.order_type, read.price) == ("Limit", submitted.price_ticks)
        assert read.time_in_force == TIF_TEXT[submitted.time_in_force]
