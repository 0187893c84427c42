"""The Bybit public parser: book pushes by key, trades, op answers, unknown topics counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine.core.events import BookDelta, BookSnapshot, Side
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.binance import protocol
from engine.venues.bybit.protocol import BybitPublicParser, OpAnswer

BTC = Instrument(venue="bybit-linear", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")


def push(kind: str, *, ts_first: bool = False, **data: Any) -> bytes:
    """An orderbook.50.BTCUSDT push; ``ts_first`` puts ``ts`` ahead of ``type``, as spot does."""
    body: dict[str, Any] = {"s": "BTCUSDT", "b": [["65114.20", "6.054"]], "a": [], "u": 7}
    body.update(data)
    head = {"ts": 1786310818129, "type": kind} if ts_first else {"type": kind, "ts": 1786310818129}
    return json.dumps({"topic": "orderbook.50.BTCUSDT", **head, "data": body}).encode()


@pytest.fixture(autouse=True, scope="module", params=["general", "compiled"])
def readers(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs on the general path alone, then with the compiled level reader."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "compiled":
            protocol.use_compiled_readers()
        else:
            patch.setattr(protocol, "_book_sides", protocol._decline_sides)
            patch.setattr(protocol, "_levels_only", protocol._decline_levels)
        yield str(request.param)


@pytest.fixture
def parser() -> BybitPublicParser:
    """A linear parser for BTCUSDT."""
    return BybitPublicParser([BTC])


@pytest.mark.parametrize("ts_first", [False, True])
def test_snapshot_and_delta_parse_by_key(parser: BybitPublicParser, ts_first: bool):
    """Key order does not matter; u becomes the snapshot id and both ids of a delta."""
    snap = parser.parse_frame(push("snapshot", ts_first=ts_first), 1)
    assert isinstance(snap, BookSnapshot)
    assert (snap.update_id, snap.bid_px.tolist(), snap.bid_sz.tolist()) == (7, [651142], [6054])
    assert snap.exch_ts == 1786310818129 * 1_000_000
    delta = parser.parse_frame(push("delta", ts_first=ts_first, u=8, a=[["65116.60", "0"]]), 2)
    assert isinstance(delta, BookDelta)
    assert (delta.first_id, delta.last_id, delta.prev_id) == (8, 8, -1)
    assert delta.ask_sz.tolist() == [0]


def test_public_trades_keep_the_taker_side_and_an_integer_id(parser: BybitPublicParser):
    """S is the taker's side; a UUID id becomes an integer, the same every time."""
    frame = json.dumps(
        {
            "topic": "publicTrade.BTCUSDT",
            "type": "snapshot",
            "ts": 1,
            "data": [
                {"T": 5, "s": "BTCUSDT", "S": "Sell", "v": "0.004", "p": "65114.20", "i": "a9-1f"},
                {
                    "T": 6,
                    "s": "BTCUSDT",
                    "S": "Buy",
                    "v": "0.010",
                    "p": "65114.30",
                    "i": "2280000001739247417",
                },
            ],
        }
    ).encode()
    trades = parser.parse_frame(frame, 1)
    assert isinstance(trades, list)
    assert [(t.aggressor, t.price, t.size) for t in trades] == [
        (Side.SELL, 651142, 4),
        (Side.BUY, 651143, 10),
    ]
    assert trades[1].trade_id == 2280000001739247417
    again = parser.parse_frame(frame, 2)
    assert isinstance(again, list)
    assert again[0].trade_id == trades[0].trade_id == 0xA91F


def test_op_answers_and_unknown_topics(parser: BybitPublicParser):
    """Pongs and acks are op answers; tickers are counted and ignored."""
    pong = parser.parse_frame(b'{"success":true,"ret_msg":"pong","op":"ping","req_id":"3"}', 1)
    assert pong == OpAnswer(op="ping", req_id="3", success=True, ret_msg="pong")
    ticker = b'{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT"},"ts":1}'
    assert parser.parse_frame(ticker, 1) is None
    assert parser.parse_frame(push("snapshot").replace(b"BTCUSDT", b"XRPUSDT"), 1) is None
    assert parser.unknown == 2


def test_bad_frames_name_the_topic(parser: BybitPublicParser):
    """Cut-off JSON, a missing u and an off-grid price are refused, naming the topic."""
    with pytest.raises(MalformedMessage) as cut:
        parser.parse_frame(push("delta")[:60], 1)
    assert cut.value.stream == "orderbook.50.BTCUSDT"
    with pytest.raises(MalformedMessage, match="u"):
        parser.parse_frame(push("delta", u=0), 1)
    with pytest.raises(MalformedMessage) as off:
        parser.parse_frame(push("delta", b=[["65114.25", "1"]]), 1)
    assert off.value.stream == "orderbook.50.BTCUSDT"
    assert off.value.venue == "bybit-linear"
