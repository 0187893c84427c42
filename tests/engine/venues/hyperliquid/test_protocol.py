"""Hyperliquid frames to events: trades with the taker side, malformed and ignored frames."""

from __future__ import annotations

import json

import pytest

from engine.core.events import Side, Trade
from engine.core.instruments import Instrument
from engine.venues.hyperliquid.protocol import HyperliquidParser
from tests.engine.venues.protocol_checks import assert_ignored, assert_refused

BTC = Instrument(
    venue="hyperliquid", symbol="BTC", tick_size="1", lot_size="0.00001", instrument_id=4
)


def l2(time: int, bids, asks) -> bytes:
    """An l2Book frame from (px, sz) pairs."""

    def side(levels):
        return [{"px": p, "sz": s, "n": 1} for p, s in levels]

    return json.dumps(
        {
            "channel": "l2Book",
            "data": {"coin": "BTC", "time": time, "levels": [side(bids), side(asks)]},
        }
    ).encode()


TRADES = json.dumps(
    {
        "channel": "trades",
        "data": [
            {
                "coin": "BTC",
                "side": "A",
                "px": "105056.0",
                "sz": "0.00219",
                "time": 1737918794873,
                "hash": "0x",
                "tid": 12,
                "users": ["a", "b"],
            }
        ],
    }
).encode()
"""A trades frame: one sell by the taker, tid 12."""


def test_trades_give_the_takers_side():
    """Side B is a buy by the taker, A a sell; tid is the trade id; time in ms."""
    raw = TRADES
    (trade,) = HyperliquidParser([BTC]).parse(raw, 3)
    assert trade == Trade(
        instrument=4,
        trade_id=12,
        price=105056,
        size=219,
        aggressor=Side.SELL,
        exch_ts=1737918794873_000_000,
        recv_ts=3,
    )


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (l2(1, [("100.5", "1")], []), "not a multiple"),
        (l2(1, [("100", "0")], []), "not positive"),
        (
            b'{"channel":"l2Book","data":{"coin":"BTC","time":1,"levels":[[]]}}',
            "l2Book: malformed message: data: Expected `array` of length 2",
        ),
        (
            b'{"channel":"trades","data":[{"coin":"BTC","side":"X","px":"1","sz":"1","time":1,"tid":1}]}',
            "side 'X'",
        ),
        (b'{"channel":', "truncated"),
    ],
)
def test_malformed_frames_name_the_venue_and_an_excerpt(raw: bytes, words: str):
    """Each bad frame raises MalformedMessage naming the venue, what is wrong and the raw start."""
    assert_refused(HyperliquidParser([BTC]).parse, raw, "hyperliquid", words)


def test_the_banner_and_other_channels_are_counted_and_ignored():
    """The connect text, subscription answers, pongs and unknown channels give no events."""
    parser = HyperliquidParser([BTC])
    assert_ignored(
        parser,
        [
            b"Websocket connection established.",
            b'{"channel":"subscriptionResponse","data":{"method":"subscribe"}}',
            b'{"channel":"pong"}',
            b'{"channel":"allMids","data":{"mids":{}}}',
            b'{"channel":"l2Book","data":{"coin":"ETH","time":1,"levels":[[],[]]}}',
        ],
        {
            "banner": 1,
            "subscriptionResponse": 1,
            "pong": 1,
            "allMids": 1,
            "unsubscribed:ETH": 1,
        },
    )
