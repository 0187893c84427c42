"""Coinbase frames to events: envelopes, trades with the taker's side, tickers, bad input."""

from __future__ import annotations

import json

import pytest

from engine.core.events import BookDelta, Side, Trade
from engine.core.instruments import Instrument
from engine.venues.coinbase.protocol import CoinbaseBook, CoinbaseParser, CoinbaseTicker
from tests.engine.venues.protocol_checks import assert_refused

BTC = Instrument(
    venue="coinbase", symbol="BTC-USD", tick_size="0.01", lot_size="0.00000001", instrument_id=2
)


def envelope(channel: str, seq: int, events: list) -> bytes:
    """An Advanced Trade envelope."""
    return json.dumps(
        {
            "channel": channel,
            "timestamp": "2026-08-09T21:05:48.48Z",
            "sequence_num": seq,
            "events": events,
        }
    ).encode()


L2_UPDATE = envelope(
    "l2_data",
    14,
    [
        {
            "type": "update",
            "product_id": "BTC-USD",
            "updates": [
                {
                    "side": "offer",
                    "event_time": "2026-08-09T21:05:48.210883123Z",
                    "price_level": "65062.5",
                    "new_quantity": "0.00583",
                }
            ],
        }
    ],
)
"""An l2_data update of one offer level (sequence_num 14)."""


def test_an_update_becomes_a_delta_numbered_by_the_envelope():
    """Offer is the ask side; the delta's ids are the sequence_num; event_time in ns."""
    raw = L2_UPDATE
    frame = CoinbaseParser([BTC]).parse(raw, 9)
    assert frame.sequence_num == 14
    (book,) = frame.items
    assert isinstance(book, CoinbaseBook)
    assert isinstance(book.event, BookDelta)
    assert (book.event.first_id, book.event.last_id) == (14, 14)
    assert book.event.ask_px.tolist() == [6506250]
    assert book.event.ask_sz.tolist() == [583000]
    assert book.event.exch_ts == 1786309548210883123


def test_trades_carry_the_takers_side_and_snapshots_are_history():
    """SELL is the maker's side, so the taker bought; snapshot trades are counted, not emitted."""
    trade = {
        "product_id": "BTC-USD",
        "trade_id": "1068572091",
        "price": "65083.67",
        "size": "0.01034361",
        "time": "2026-08-09T21:05:48.167634Z",
        "side": "SELL",
    }
    parser = CoinbaseParser([BTC])
    assert (
        parser.parse(
            envelope("market_trades", 0, [{"type": "snapshot", "trades": [trade, trade]}]), 1
        ).items
        == []
    )
    assert parser.history_trades == 2
    (t,) = parser.parse(
        envelope("market_trades", 1, [{"type": "update", "trades": [trade]}]), 5
    ).items
    assert t == Trade(
        instrument=2,
        trade_id=1068572091,
        price=6508367,
        size=1034361,
        aggressor=Side.BUY,
        exch_ts=1786309548167634000,
        recv_ts=5,
    )


def test_a_ticker_gives_the_venues_top_of_book():
    """best_bid/best_ask and their quantities as ticks and lots."""
    tick = {
        "type": "ticker",
        "product_id": "BTC-USD",
        "price": "1",
        "best_bid": "65083.66",
        "best_ask": "65083.67",
        "best_bid_quantity": "0.2",
        "best_ask_quantity": "0.3",
    }
    (t,) = (
        CoinbaseParser([BTC])
        .parse(envelope("ticker", 6, [{"type": "snapshot", "tickers": [tick]}]), 1)
        .items
    )
    assert isinstance(t, CoinbaseTicker)
    assert (t.bid_px, t.bid_sz, t.ask_px, t.ask_sz) == (6508366, 20000000, 6508367, 30000000)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (
            envelope(
                "l2_data",
                1,
                [
                    {
                        "type": "update",
                        "product_id": "BTC-USD",
                        "updates": [{"side": "ask", "price_level": "1", "new_quantity": "1"}],
                    }
                ],
            ),
            "unknown side 'ask'",
        ),
        (
            envelope(
                "l2_data",
                1,
                [
                    {
                        "type": "update",
                        "product_id": "BTC-USD",
                        "updates": [{"side": "bid", "price_level": "1.001", "new_quantity": "1"}],
                    }
                ],
            ),
            "not a multiple",
        ),
        (
            envelope("l2_data", 1, [{"type": "delta", "product_id": "BTC-USD", "updates": []}]),
            "unknown event type",
        ),
        (envelope("l2_data", 1, [{"product_id": "BTC-USD"}]), "missing required field"),
        (b'{"channel":"l2_data","events":[]}', "sequence_num"),
        (b'{"channel":"l2_', "truncated"),
    ],
)
def test_malformed_frames_name_the_venue_the_channel_and_an_excerpt(raw: bytes, words: str):
    """Each bad frame raises MalformedMessage naming coinbase, what is wrong and the raw start."""
    assert_refused(CoinbaseParser([BTC]).parse, raw, "coinbase", words)


def test_other_channels_are_counted_and_ignored():
    """heartbeats, subscriptions, candles and unknown channels give no items but keep the number."""
    parser = CoinbaseParser([BTC])
    for n, channel in enumerate(("heartbeats", "subscriptions", "candles", "status")):
        frame = parser.parse(envelope(channel, n, [{}]), 1)
        assert (frame.items, frame.sequence_num) == ([], n)
    sol = envelope("l2_data", 4, [{"type": "update", "product_id": "SOL-USD", "updates": []}])
    assert parser.parse(sol, 1).sequence_num == 4  # another product's book still counts
    assert parser.ignored == {
        "heartbeats": 1,
        "subscriptions": 1,
        "candles": 1,
        "status": 1,
        "unsubscribed:SOL-USD": 1,
    }
