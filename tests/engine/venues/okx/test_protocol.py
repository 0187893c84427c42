"""OKX frames to events: typed decoding, exact integers, malformed input, ignored channels."""

from __future__ import annotations

import json

import pytest

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.venues.okx.protocol import OkxBook, OkxParser
from tests.engine.venues.protocol_checks import assert_ignored, assert_refused

INST = Instrument(
    venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00000001", instrument_id=7
)


def books(action: str, data: dict) -> bytes:
    """A books frame for BTC-USDT."""
    """A books frame for BTC-USDT."""
    return json.dumps(
        {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": action, "data": [data]}
    ).encode()


def test_an_update_becomes_a_delta_with_the_sequence_ids():
    """seqId/prevSeqId land in the delta; prices and sizes are exact ticks and lots."""
    raw = books(
        "update",
        {
            "asks": [["30243.5", "1.44679", "0", "6"]],
            "bids": [],
            "ts": "1652459225464",
            "checksum": -5,
            "seqId": 11,
            "prevSeqId": 10,
        },
    )
    (msg,) = OkxParser([INST]).parse(raw, 99)
    assert isinstance(msg, OkxBook)
    assert isinstance(msg.event, BookDelta)
    delta = msg.event
    assert (delta.first_id, delta.last_id, delta.prev_id) == (11, 11, 10)
    assert delta.ask_px.tolist() == [302435]
    assert delta.ask_sz.tolist() == [144679000]
    assert (delta.exch_ts, delta.recv_ts, delta.instrument) == (1652459225464_000_000, 99, 7)
    assert (msg.checksum, msg.seq_id, msg.prev_seq_id, msg.odd) == (-5, 11, 10, [])


def test_a_snapshot_becomes_a_book_snapshot():
    """Action snapshot: a BookSnapshot at seqId, prevSeqId reported as -1."""
    raw = books(
        "snapshot",
        {"asks": [], "bids": [["30000", "2", "0", "1"]], "ts": "1", "seqId": 5, "prevSeqId": -1},
    )
    (msg,) = OkxParser([INST]).parse(raw, 1)
    assert isinstance(msg, OkxBook)
    assert isinstance(msg.event, BookSnapshot)
    assert msg.event.update_id == 5
    assert msg.prev_seq_id == -1
    assert msg.event.bid_px.tolist() == [300000]
    assert msg.event.bid_sz.tolist() == [200000000]


TRADES = json.dumps(
    {
        "arg": {"channel": "trades", "instId": "BTC-USDT"},
        "data": [
            {
                "instId": "BTC-USDT",
                "tradeId": "7849",
                "px": "30218.8",
                "sz": "0.001",
                "side": "sell",
                "ts": "1652459199958",
            }
        ],
    }
).encode()
"""A trades frame: one sell by the taker, tradeId 7849."""


def test_trades_give_the_taker_side_and_exact_values():
    """trades: tradeId, px, sz, side (the taker's), ts in ms."""
    raw = TRADES
    (trade,) = OkxParser([INST]).parse(raw, 3)
    assert trade == Trade(
        instrument=7,
        trade_id=7849,
        price=302188,
        size=100000,
        aggressor=Side.SELL,
        exch_ts=1652459199958_000_000,
        recv_ts=3,
    )


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (
            b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["1.05","1"]],"bids":[]}]}',
            "not a multiple",
        ),
        (
            b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":"x","bids":[]}]}',
            "Expected `array`",
        ),
        (
            b'{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snap","data":[]}',
            "unknown action",
        ),
        (b'{"arg":{"channel":"books"', "truncated"),
        (
            b'{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"up","ts":"1"}]}',
            "bad side",
        ),
    ],
)
def test_malformed_frames_name_the_venue_the_stream_and_an_excerpt(raw: bytes, words: str):
    """Each bad frame raises MalformedMessage with venue okx, what is wrong, and the raw start."""
    assert_refused(OkxParser([INST]).parse, raw, "okx", words)


def test_control_frames_and_other_channels_are_counted_and_ignored():
    """Acks, errors, pong and unknown channels give no events and are counted by kind."""
    parser = OkxParser([INST])
    assert_ignored(
        parser,
        [
            b'{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a"}',
            b'{"event":"error","code":"60012","msg":"bad"}',
            b"pong",
            b'{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"last":"1"}]}',
            b'{"arg":{"channel":"books","instId":"ETH-USDT"},"action":"update","data":[{"asks":[],"bids":[]}]}',
        ],
        {
            "event:subscribe": 1,
            "event:error": 1,
            "pong": 1,
            "tickers": 1,
            "unsubscribed:ETH-USDT": 1,
        },
    )
