"""USD-M user-stream frames as our events: every execution type, accounts, expiry, garbage."""

from __future__ import annotations

import json

import pytest

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import VenueGarbage
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance_usdm.user_stream import (
    AccountUpdate,
    KeyExpired,
    OtherEvent,
    UsdmStreamParser,
)

BTC = Instrument(venue="binance-usdm", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
PARSER = UsdmStreamParser({"BTCUSDT": BinanceMarket(BTC)})
K = OrderUpdateKind


def report(**fields: object) -> bytes:
    """An ORDER_TRADE_UPDATE as the docs show it, a resting NEW unless ``fields`` say so."""
    order: dict[str, object] = {
        "s": "BTCUSDT",
        "c": "c-1",
        "S": "SELL",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.250",
        "p": "65000.1",
        "ap": "0",
        "sp": "0",
        "x": "NEW",
        "X": "NEW",
        "i": 8886774,
        "l": "0",
        "z": "0",
        "L": "0",
        "T": 1568879465650,
        "t": 0,
        "b": "0",
        "a": "9.91",
        "m": False,
        "R": False,
        "wt": "CONTRACT_PRICE",
        "ot": "LIMIT",
        "ps": "BOTH",
        "cp": False,
        "rp": "0",
        "pP": False,
        "si": 0,
        "ss": 0,
        "V": "EXPIRE_TAKER",
        "pm": "NONE",
        "gtd": 0,
        **fields,
    }
    return json.dumps(
        {"e": "ORDER_TRADE_UPDATE", "E": 1568879465651, "T": 1568879465650, "o": order}
    ).encode()


def one(raw: bytes) -> OrderUpdate | Fill:
    """The only event of a frame."""
    parsed = PARSER.parse(raw, 42)
    assert isinstance(parsed, list)
    (event,) = parsed
    return event


@pytest.mark.parametrize(
    ("x", "status", "kind"),
    [
        ("NEW", "NEW", K.ACCEPTED),
        ("AMENDMENT", "NEW", K.REPLACED),
        ("CANCELED", "CANCELED", K.CANCELED),
        ("EXPIRED", "EXPIRED", K.EXPIRED),
        ("REJECTED", "REJECTED", K.REJECTED),
    ],
)
def test_order_changes_become_updates(x, status, kind):
    """Each execution type that is not a trade is one update with price, size and filled lots."""
    event = one(report(x=x, X=status, z="0.100"))
    assert isinstance(event, OrderUpdate)
    assert (
        event.kind,
        event.venue_order_id,
        event.price_ticks,
        event.size_lots,
        event.filled_lots,
    ) == (
        kind,
        "8886774",
        650_001,
        250,
        100,
    )
    assert (event.venue, event.exch_ts, event.recv_ts) == (
        "binance-usdm",
        1568879465650 * 10**6,
        42,
    )


@pytest.mark.parametrize("x", ["TRADE", "CALCULATED"])
def test_trades_become_fills(x):
    """TRADE (and a liquidation's CALCULATED): price L, lots l, fee n in N, maker m, trade id t."""
    event = one(
        report(
            x=x,
            X="PARTIALLY_FILLED",
            l="0.050",
            z="0.050",
            L="65000.0",
            N="USDT",
            n="0.13",
            t=77,
            m=True,
        )
    )
    assert isinstance(event, Fill)
    assert (event.trade_id, event.side, event.price, event.size, event.fee, event.liquidity) == (
        "BTCUSDT:77:S",
        Side.SELL,
        650_000,
        50,
        13_000_000,
        "maker",
    )


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"X": "EXPIRED_IN_MATCH"}, "self-trade prevention"),
        ({"f": "GTX"}, "post-only order would have taken"),
        ({"f": "IOC"}, "IOC remainder expired"),
        ({"o": "MARKET"}, "market remainder expired"),
        ({"R": True}, "reduce-only order: nothing left to reduce"),
    ],
)
def test_expiries_say_why(fields, reason):
    """An EXPIRED report names its cause."""
    event = one(report(x="EXPIRED", **{"X": "EXPIRED", **fields}))
    assert isinstance(event, OrderUpdate)
    assert event.reason == reason


def test_account_updates_expiry_and_other_events():
    """ACCOUNT_UPDATE gives our net positions; listenKeyExpired ends the key; the rest are left."""
    account = {
        "e": "ACCOUNT_UPDATE",
        "E": 1,
        "T": 1,
        "a": {
            "m": "ORDER",
            "B": [{"a": "USDT", "wb": "1", "cw": "1", "bc": "0"}],
            "P": [{"s": "BTCUSDT", "pa": "-0.250", "ep": "1"}, {"s": "XRPUSDT", "pa": "5"}],
        },
    }
    assert PARSER.parse(json.dumps(account), 1) == AccountUpdate("ORDER", {0: -250})
    expired = {"e": "listenKeyExpired", "E": "1736996475556", "listenKey": "k"}
    assert PARSER.parse(json.dumps(expired), 1) == KeyExpired("k")
    assert PARSER.parse(b'{"e":"TRADE_LITE","E":1}', 1) == OtherEvent("TRADE_LITE")
    assert isinstance(PARSER.parse(report(s="XRPUSDT"), 1), OtherEvent)


def test_a_combined_stream_wrapper_is_opened():
    """``{"stream", "data"}`` frames are read as their event."""
    wrapped = b'{"stream":"k","data":' + report() + b"}"
    assert isinstance(one(wrapped), OrderUpdate)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"BTCUSDT"', "user stream frame"),
        (b"[1, 2]", "user stream frame"),
        (b'{"e":"SOMETHING_NEW","E":1}', "unknown type"),
        (report(x="PARTY"), "x"),
        (report(X="DONE"), "X"),
        (report(p="1.05"), "p"),
        (report(S="UP"), "S"),
        (report(x="TRADE", l="0", t=0), "trade"),
    ],
)
def test_garbage_is_named(raw, named):
    """Cut frames, wrong shapes, unknown values and off-grid numbers are VenueGarbage."""
    with pytest.raises(VenueGarbage, match=named):
        PARSER.parse(raw, 1)
