"""Kraken frames to events: v2 numbers as exact decimals, v1 arrays, malformed and ignored."""

from __future__ import annotations

import pytest

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.venues.kraken.protocol import KrakenBook, KrakenParser
from tests.engine.venues.protocol_checks import assert_ignored, assert_refused

V2 = Instrument(
    venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.00000001", instrument_id=3
)
V1 = Instrument(
    venue="kraken", symbol="XMR/USD", tick_size="0.00000001", lot_size="0.00000001", instrument_id=4
)


def test_v2_numbers_become_exact_ticks_and_lots():
    """JSON numbers are read as decimals: 45283.5 and 0.10000000 are exact, never floats."""
    raw = (
        b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":4'
        b'5283.5,"qty":0.10000000}],"asks":[],"checksum":7,"timestamp":"2023-07-30T15:29:5'
        b'8.343415Z"}]}'
    )
    (msg,) = KrakenParser([V2]).parse(raw, 5)
    assert isinstance(msg, KrakenBook)
    assert isinstance(msg.event, BookDelta)
    assert msg.event.bid_px.tolist() == [452835]
    assert msg.event.bid_sz.tolist() == [10000000]
    assert msg.checksum == 7
    assert msg.event.exch_ts == 1690730998343415000


def test_v1_snapshot_has_no_checksum_and_names_its_depth():
    """as/bs levels; depth from book-<n>; exch_ts the latest level time."""
    raw = (
        b'[992,{"as":[["354.15000000","5.00000000","1618678133.365913"]],"bs":[["354.10000'
        b'000","1.00000000","1618678134.5"]]},"book-100","XMR/USD"]'
    )
    (msg,) = KrakenParser([V1]).parse(raw, 5)
    assert isinstance(msg, KrakenBook)
    assert isinstance(msg.event, BookSnapshot)
    assert (msg.checksum, msg.depth) == (None, 100)
    assert msg.event.ask_px.tolist() == [35415000000]
    assert msg.event.exch_ts == 1618678134500000000


def test_v2_and_v1_trades():
    """v2 trade_id and side; v1 trades counted per pair, side b/s."""
    v2 = (
        b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","pr'
        b'ice":45283.5,"qty":0.5,"ord_type":"market","trade_id":42,"timestamp":"2023-07-30'
        b'T15:29:58Z"}]}'
    )
    (trade,) = KrakenParser([V2]).parse(v2, 1)
    assert trade == Trade(
        instrument=3,
        trade_id=42,
        price=452835,
        size=50000000,
        aggressor=Side.SELL,
        exch_ts=1690730998_000_000_000,
        recv_ts=1,
    )
    v1 = (
        b'[993,[["354.11000000","0.89594024","1618678142.557535","s","l",""],["354.1200000'
        b'0","1.00000000","1618678142.6","b","m",""]],"trade","XMR/USD"]'
    )
    trades = KrakenParser([V1]).parse(v1, 1)
    assert [(t.trade_id, t.aggressor) for t in trades if isinstance(t, Trade)] == [
        (1, Side.SELL),
        (2, Side.BUY),
    ]


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (
            b'[992,{"b":[["354.15000000","5.00000000","1618678133.365913"]]},"book-10","XMR/USD"]',
            "checksum c=None is missing",
        ),
        (
            b'[992,{"b":[["354.151111111","5","1.0"]],"c":"1"},"book-10","XMR/USD"]',
            "not a multiple",
        ),
        (b'[992,{"b":"x"},"book-10","XMR/USD"]', "at `$.b`"),
        (
            b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":-1,"qty":1}],"asks":[],"checksum":1}]}',
            "not a size/price",
        ),
        (
            b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[]}]}',
            "checksum",
        ),
        (b'{"channel":"book","type":"delta","data":[]}', "unknown type"),
        (b"[992,", "truncated"),
    ],
)
def test_malformed_frames_name_the_venue_the_stream_and_an_excerpt(raw: bytes, words: str):
    """Each bad frame raises MalformedMessage with venue kraken, what is wrong and the raw start."""
    assert_refused(KrakenParser([V1, V2]).parse, raw, "kraken", words)


def test_control_frames_and_other_channels_are_counted_and_ignored():
    """Heartbeats, statuses, pongs, other channels and pairs give no events and are counted."""
    parser = KrakenParser([V1, V2])
    assert_ignored(
        parser,
        [
            b'{"event":"heartbeat"}',
            b'{"channel":"heartbeat"}',
            b'{"method":"pong","req_id":1}',
            b'{"channel":"status","type":"update","data":[]}',
            b'[1,[["1","2","3","4","5","6"]],"ohlc-1","XMR/USD"]',
            b'[992,{"b":[["354.15","5","1.0"]],"c":"1"},"book-10","XBT/USD"]',
            b'{"channel":"book","type":"update","data":[{"symbol":"ETH/USD","checksum":1}]}',
        ],
        {
            "event:heartbeat": 1,
            "channel:heartbeat": 1,
            "method:pong": 1,
            "channel:status": 1,
            "channel:ohlc-1": 1,
            "unsubscribed:XBT/USD": 1,
            "unsubscribed:ETH/USD": 1,
        },
    )
