"""Binance spot order requests: exact parameter text from our integer commands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import OrderRejected, VenueGarbage
from engine.venues.binance.orders import (
    BinanceMarket,
    cancel_all_query,
    cancel_query,
    fee_units,
    new_order_query,
    order_kind,
    replace_query,
    split_symbol,
    trade_id,
)
from tests.strategies import lot_sizes, tick_prices

BTC = Instrument(
    venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
MARKET = BinanceMarket(BTC)


def order(**fields) -> SubmitOrder:
    """A limit buy of 0.00100 BTC at 65000.01 unless told otherwise."""
    base = {
        "client_order_id": "desk-1",
        "instrument": 0,
        "side": Side.BUY,
        "size_lots": 100,
        "price_ticks": 6_500_001,
    }
    return SubmitOrder(**(base | fields))


def params(query: str) -> dict[str, str]:
    """A query string as a dict."""
    return dict(pair.split("=", 1) for pair in query.split("&"))


def test_a_gtc_limit_order_is_exact_text_in_binances_order():
    """A limit order becomes Binance's parameters, numbers as exact grid text."""
    assert new_order_query(MARKET, order()) == (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100&price=65000.01"
        "&newClientOrderId=desk-1&newOrderRespType=FULL"
    )


@pytest.mark.parametrize(
    ("tif", "expected"),
    [
        (TimeInForce.IOC, {"type": "LIMIT", "timeInForce": "IOC"}),
        (TimeInForce.FOK, {"type": "LIMIT", "timeInForce": "FOK"}),
        (TimeInForce.POST_ONLY, {"type": "LIMIT_MAKER"}),
    ],
)
def test_time_in_force_maps_to_binances_types(tif, expected):
    """IOC and FOK are limit time-in-force values; post-only is the LIMIT_MAKER type."""
    got = params(new_order_query(MARKET, order(time_in_force=tif, side=Side.SELL)))
    assert {k: got[k] for k in expected} == expected
    assert got["side"] == "SELL"
    if tif is TimeInForce.POST_ONLY:
        assert "timeInForce" not in got


def test_a_market_order_has_no_price_and_no_time_in_force():
    """A market order sends only its quantity."""
    got = params(new_order_query(MARKET, order(order_type=OrderType.MARKET, price_ticks=0), "ACK"))
    assert got["type"] == "MARKET"
    assert "price" not in got
    assert "timeInForce" not in got
    assert got["newOrderRespType"] == "ACK"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"reduce_only": True}, "reduce-only"),
        (
            {"order_type": OrderType.MARKET, "time_in_force": TimeInForce.POST_ONLY},
            "post-only",
        ),
        ({"size_lots": 0}, "size must be positive"),
        ({"price_ticks": 0}, "price must be positive"),
        ({"client_order_id": "has space"}, "client order id"),
        ({"client_order_id": "x" * 37}, "client order id"),
    ],
)
def test_orders_binance_cannot_take_are_refused_before_sending(fields, words):
    """Impossible orders raise OrderRejected saying why; nothing is built."""
    with pytest.raises(OrderRejected, match=words):
        new_order_query(MARKET, order(**fields))


def test_a_cancel_goes_by_our_client_order_id():
    """A cancel names the symbol and our client order id."""
    assert cancel_query(MARKET, "desk-7") == "symbol=BTCUSDT&origClientOrderId=desk-7"
    assert cancel_all_query(MARKET) == "symbol=BTCUSDT"


def test_a_replace_places_what_is_left_under_the_same_client_id():
    """Cancel-replace keeps side, type and id, and sends the new size less what filled."""
    replace = ReplaceOrder(
        client_order_id="desk-1", instrument=0, price_ticks=6_499_000, size_lots=300
    )
    got = params(replace_query(MARKET, order(time_in_force=TimeInForce.POST_ONLY), replace, 120))
    assert got == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT_MAKER",
        "quantity": "0.00180",
        "price": "64990.00",
        "cancelReplaceMode": "STOP_ON_FAILURE",
        "cancelOrigClientOrderId": "desk-1",
        "newClientOrderId": "desk-1",
        "newOrderRespType": "FULL",
    }


def test_a_replace_not_above_the_filled_lots_is_refused():
    """A new size at or below the filled lots leaves nothing to place: refused."""
    replace = ReplaceOrder(client_order_id="desk-1", instrument=0, price_ticks=1, size_lots=50)
    with pytest.raises(OrderRejected, match="already filled"):
        replace_query(MARKET, order(), replace, 50)


@settings(max_examples=60)
@given(price=tick_prices(max_ticks=10**11), size=lot_sizes(max_lots=10**12, allow_zero=False))
def test_request_numbers_read_back_to_the_same_ticks_and_lots(price, size):
    """The text sent for any price and size is exactly that many ticks and lots."""
    got = params(new_order_query(MARKET, order(price_ticks=price, size_lots=size)))
    assert MARKET.price.to_int(got["price"]) == price
    assert MARKET.size.to_int(got["quantity"]) == size


@pytest.mark.parametrize(
    ("symbol", "assets"),
    [("BTCUSDT", ("BTC", "USDT")), ("ETHBTC", ("ETH", "BTC")), ("SOLFDUSD", ("SOL", "FDUSD"))],
)
def test_symbols_split_into_base_and_quote(symbol, assets):
    """A spot symbol's base and quote asset come from its known quote suffix."""
    assert split_symbol(symbol) == assets


def test_fees_in_the_quote_asset_are_exact_fee_units():
    """A USDT commission is 10**8 fee units per USDT, exactly."""
    assert fee_units(MARKET, "0.06500001", "USDT", 6_500_001, 100) == 6_500_001


def test_fees_in_the_base_asset_are_valued_at_the_fill_price_rounded_up():
    """A BTC commission is priced at the fill and rounded up to a whole fee unit."""
    # 0.00000100 BTC at 65000.01 = 0.0650001 USDT = 6500001 units; 0.00000001 more rounds up
    assert fee_units(MARKET, "0.00000100", "BTC", 6_500_001, 100) == 6_500_001
    assert fee_units(MARKET, "0.00000001", "BTC", 6_500_001, 100) == 65_001


def test_fees_in_a_third_asset_are_booked_as_zero():
    """A BNB commission has no price here: 0, with a warning."""
    assert fee_units(MARKET, "0.0001", "BNB", 6_500_001, 100) == 0
    assert fee_units(MARKET, "0", None, 6_500_001, 100) == 0


def test_a_commission_that_is_not_a_number_is_garbage():
    """Commission text that is not a number is VenueGarbage."""
    with pytest.raises(VenueGarbage, match="commission"):
        fee_units(MARKET, "lots", "USDT", 1, 1)


def test_trade_ids_carry_symbol_and_side():
    """The two halves of one venue trade have different fill ids."""
    assert trade_id("BTCUSDT", 42, Side.BUY) == "BTCUSDT:42:B"
    assert trade_id("BTCUSDT", 42, Side.SELL) != trade_id("BTCUSDT", 42, Side.BUY)


@pytest.mark.parametrize(
    ("type_text", "tif_text", "ours"),
    [
        ("LIMIT", "IOC", (OrderType.LIMIT, TimeInForce.IOC)),
        ("LIMIT_MAKER", "GTC", (OrderType.LIMIT, TimeInForce.POST_ONLY)),
        ("MARKET", "GTC", (OrderType.MARKET, TimeInForce.GTC)),
        ("STOP_LOSS_LIMIT", "FOK", (OrderType.LIMIT, TimeInForce.FOK)),
    ],
)
def test_binance_types_read_back_as_ours(type_text, tif_text, ours):
    """Binance's type and time in force map back to ours."""
    assert order_kind(type_text, tif_text) == ours


def test_the_market_repr_names_symbol_and_assets():
    """A market shows its symbol and assets."""
    assert repr(MARKET) == "BinanceMarket('BTCUSDT', BTC/USDT)"
    assert BinanceMarket(BTC, "XBT", "USD").quote_asset == "USD"


@settings(max_examples=30)
@given(cid=st.from_regex(r"[A-Za-z0-9._:/-]{1,36}", fullmatch=True))
def test_every_binance_client_id_character_is_sent_as_is(cid):
    """Client ids within Binance's alphabet go out verbatim (signed bytes = sent bytes)."""
    assert params(new_order_query(MARKET, order(client_order_id=cid)))["newClientOrderId"] == cid
