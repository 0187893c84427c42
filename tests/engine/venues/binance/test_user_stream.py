"""The WebSocket-API user data stream: the signed subscribe, answers and executionReport events."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import AuthError, IpBanned, VenueGarbage
from engine.venues.binance.orders import BinanceMarket, trade_id
from engine.venues.binance.signing import sign_ws, ws_payload
from engine.venues.binance.user_stream import (
    OtherEvent,
    StreamAnswer,
    StreamTerminated,
    UserStreamParser,
    subscribe_request,
)

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
BTC = Instrument(
    venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
PARSER = UserStreamParser({"BTCUSDT": BinanceMarket(BTC)})
RECV = 5


def report(**fields: Any) -> bytes:
    """A user-stream frame carrying an executionReport (a NEW by default)."""
    event = {
        "e": "executionReport",
        "E": 1_700_000_000_000,
        "s": "BTCUSDT",
        "c": "desk-1",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "0.00300000",
        "p": "65000.01000000",
        "P": "0.00000000",
        "F": "0.00000000",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": 28,
        "l": "0.00000000",
        "z": "0.00000000",
        "L": "0.00000000",
        "n": "0",
        "N": None,
        "T": 1_700_000_000_001,
        "t": -1,
        "I": 60,
        "w": True,
        "m": False,
        "M": False,
        "O": 1_700_000_000_001,
        "Z": "0.00000000",
        "Y": "0.00000000",
        "Q": "0.00000000",
        "W": 1_700_000_000_001,
        "V": "EXPIRE_MAKER",
    }
    return msgspec.json.encode({"subscriptionId": 0, "event": event | fields})


def one(raw: bytes) -> OrderUpdate | Fill:
    """The single event a frame gives."""
    events = PARSER.parse(raw, RECV)
    assert isinstance(events, list)
    (event,) = events
    return event


def test_the_subscribe_request_is_signed_over_sorted_params():
    """The subscribe frame's signature is the WebSocket-API HMAC of its sorted params."""
    frame = msgspec.json.decode(
        subscribe_request("sub-1", API_KEY, SECRET, 1_645_423_376_532, 5000)
    )
    assert frame["method"] == "userDataStream.subscribe.signature"
    params = frame["params"]
    text = {k: str(v) for k, v in params.items()}
    assert ws_payload(text) == f"apiKey={API_KEY}&recvWindow=5000&timestamp=1645423376532"
    assert params["signature"] == sign_ws(SECRET, text)
    assert "secret" not in str(frame).lower()


def test_a_subscribe_answer_gives_the_subscription_id():
    """``{"result": {"subscriptionId": N}}`` is an answer with that id."""
    answer = PARSER.parse(b'{"id":"sub-1","status":200,"result":{"subscriptionId":3}}', RECV)
    assert isinstance(answer, StreamAnswer)
    assert (answer.request_id, answer.subscription_id, answer.error) == ("sub-1", 3, None)


def test_an_error_answer_carries_the_gateway_error():
    """A refused subscribe is an answer holding the mapped error (bad signature: AuthError)."""
    raw = (
        b'{"id":"s","status":400,'
        b'"error":{"code":-1022,"msg":"Signature for this request is not valid."}}'
    )
    answer = PARSER.parse(raw, RECV)
    assert isinstance(answer, StreamAnswer)
    assert isinstance(answer.error, AuthError)
    assert answer.error.code == -1022


def test_a_ban_answer_reads_retry_after_against_server_time():
    """A 418 answer's retryAfter and serverTime give the ban's length."""
    raw = msgspec.json.encode(
        {
            "id": "s",
            "status": 418,
            "error": {
                "code": -1003,
                "msg": "IP banned until 1700000060000.",
                "data": {"serverTime": 1_700_000_000_000, "retryAfter": 1_700_000_060_000},
            },
        }
    )
    answer = PARSER.parse(raw, RECV)
    assert isinstance(answer, StreamAnswer)
    assert isinstance(answer.error, IpBanned)
    assert answer.error.retry_after_s == 60


def test_new_is_accepted_with_the_venue_order_id():
    """x=NEW is ACCEPTED with ``i``, price and size."""
    update = one(report())
    assert isinstance(update, OrderUpdate)
    assert update.kind is OrderUpdateKind.ACCEPTED
    assert (update.venue_order_id, update.price_ticks, update.size_lots) == ("28", 6_500_001, 300)
    assert update.exch_ts == 1_700_000_000_001_000_000
    assert update.recv_ts == RECV


def test_a_trade_is_a_fill_with_the_same_id_as_the_rest_answer():
    """x=TRADE is one Fill: last price and size, fee units, maker flag, REST-compatible id."""
    fill = one(
        report(
            x="TRADE",
            X="PARTIALLY_FILLED",
            l="0.00100000",
            z="0.00100000",
            L="65000.00000000",
            n="0.00650000",
            N="USDT",
            t=501,
            m=True,
        )
    )
    assert isinstance(fill, Fill)
    assert (fill.price, fill.size, fill.fee, fill.liquidity) == (6_500_000, 100, 650_000, "maker")
    assert fill.trade_id == trade_id("BTCUSDT", 501, Side.BUY)
    assert fill.side is Side.BUY


def test_a_cancel_is_reported_for_the_original_client_id():
    """x=CANCELED names the order by ``C``, not the cancel request's own ``c``."""
    update = one(report(x="CANCELED", X="CANCELED", c="cancel-77", C="desk-1"))
    assert isinstance(update, OrderUpdate)
    assert (update.kind, update.client_order_id) == (OrderUpdateKind.CANCELED, "desk-1")


@pytest.mark.parametrize(
    ("fields", "kind", "reason"),
    [
        ({"x": "REPLACED", "X": "NEW", "q": "0.00200000"}, OrderUpdateKind.REPLACED, ""),
        (
            {"x": "REJECTED", "X": "REJECTED", "r": "INSUFFICIENT_BALANCE"},
            OrderUpdateKind.REJECTED,
            "INSUFFICIENT_BALANCE",
        ),
        (
            {"x": "EXPIRED", "X": "EXPIRED", "f": "IOC"},
            OrderUpdateKind.EXPIRED,
            "IOC remainder expired",
        ),
        (
            {"x": "EXPIRED", "X": "EXPIRED_IN_MATCH"},
            OrderUpdateKind.EXPIRED,
            "self-trade prevention",
        ),
        (
            {"x": "TRADE_PREVENTION", "X": "EXPIRED_IN_MATCH"},
            OrderUpdateKind.EXPIRED,
            "self-trade prevention",
        ),
    ],
)
def test_every_other_execution_type_maps_to_its_update(fields, kind, reason):
    """REPLACED, REJECTED, EXPIRED and TRADE_PREVENTION map to their update with a reason."""
    update = one(report(**fields))
    assert isinstance(update, OrderUpdate)
    assert (update.kind, update.reason) == (kind, reason)


def test_an_unknown_order_status_is_garbage_naming_x():
    """An ``X`` Binance never sends is VenueGarbage naming the field."""
    with pytest.raises(VenueGarbage, match=r"\$\.X"):
        PARSER.parse(report(X="SLEEPING"), RECV)


def test_a_missing_field_is_garbage_naming_it():
    """A report without ``i`` is VenueGarbage naming ``i``."""
    frame = msgspec.json.decode(report())
    del frame["event"]["i"]
    with pytest.raises(VenueGarbage, match="`i`"):
        PARSER.parse(msgspec.json.encode(frame), RECV)


def test_a_trade_without_a_trade_id_is_garbage():
    """A TRADE with ``t`` = -1 cannot be deduplicated: VenueGarbage."""
    with pytest.raises(VenueGarbage, match="trade id"):
        PARSER.parse(report(x="TRADE", X="FILLED", l="0.001", L="1.00"), RECV)


def test_a_report_for_another_symbol_is_garbage():
    """A report for a symbol we do not trade is VenueGarbage."""
    with pytest.raises(VenueGarbage, match="ETHUSDT"):
        PARSER.parse(report(s="ETHUSDT"), RECV)


def test_stream_termination_and_account_events_are_recognised():
    """A terminated stream ends the subscription; account events are passed over."""
    ended = PARSER.parse(b'{"subscriptionId":4,"event":{"e":"eventStreamTerminated","E":1}}', RECV)
    assert isinstance(ended, StreamTerminated)
    assert ended.subscription_id == 4
    other = PARSER.parse(
        b'{"subscriptionId":4,"event":{"e":"outboundAccountPosition","E":1}}', RECV
    )
    assert isinstance(other, OtherEvent)


@pytest.mark.parametrize(
    "raw", [b"not json", b'{"hello":1}', b'{"subscriptionId":1,"event":{"e":"x"}}']
)
def test_frames_of_no_known_shape_are_garbage(raw):
    """Bytes that are not an answer or a known event are VenueGarbage."""
    with pytest.raises(VenueGarbage):
        PARSER.parse(raw, RECV)
