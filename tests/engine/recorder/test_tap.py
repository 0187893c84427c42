"""Raw frames of the feeds on the shared stream loop reach the recorder, exact and in order.

The Bybit feed on the local venue, tapped: every frame it read is handed on before it is parsed,
each under its symbol, and replaying the handed-on frames rebuilds the very books the feed holds.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.recorder.tap import OTHER_SYMBOL, FrameTap, TappedParser, tap_feed
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff
from engine.venues.binance.feed import BinanceSpotFeed
from engine.venues.binance.sync import SyncPhase
from engine.venues.bybit.feed import BybitPublicFeed
from engine.venues.bybit.replay import BybitReplay
from tests.engine.venues.feed_harness import Recorder, until

BTC = Instrument(
    venue="bybit-linear", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
ETH = Instrument(
    venue="bybit-linear", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)
DEPTH = 50

Row = tuple[str, str, int, str, bytes]


def _tap(symbols: list[str]) -> tuple[FrameTap, list[Row]]:
    rows: list[Row] = []
    instruments = [
        Instrument(venue="v", symbol=s, tick_size="0.1", lot_size="1", instrument_id=n)
        for n, s in enumerate(symbols)
    ]
    return FrameTap("v", instruments, lambda *row: rows.append(row)), rows


@pytest.mark.parametrize(
    ("frame", "symbol"),
    [
        (
            b'{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT"}}',
            "BTCUSDT",
        ),
        (b'{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"},"data":[]}', "BTC-USDT-SWAP"),
        (b'{"arg":{"channel":"books","instId":"BTC-USDT"},"data":[]}', "BTC-USDT"),
        (b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD"}]}', "BTC/USD"),
        (b'{"channel":"l2Book","data":{"coin":"BTC","levels":[]}}', "BTC"),
        (b'{"op":"pong","success":true}', OTHER_SYMBOL),
        (b'{"channel":"heartbeats","events":[]}', OTHER_SYMBOL),
    ],
)
def test_a_frame_goes_under_the_symbol_its_head_names(frame: bytes, symbol: str):
    """The longest symbol named as a value or a topic's last part; none named: ``_all``."""
    tap, rows = _tap(["BTCUSDT", "BTC-USDT", "BTC-USDT-SWAP", "BTC/USD", "BTC"])
    tap(7, frame)
    assert rows == [("v", symbol, 7, "v", frame)]


def test_binance_feeds_keep_the_parser_that_also_records_rest_snapshots():
    """A Binance feed is tapped through its parser (snapshot bodies too), not ``on_raw``."""
    inst = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
    feed = BinanceSpotFeed(
        [inst], {0: OrderBook("BTCUSDT")}, Recorder(), ws_url="ws://x", rest_url="http://x"
    )
    assert tap_feed(feed, lambda *row: None)
    assert isinstance(feed._parser, TappedParser)
    assert feed.on_raw is None


@pytest.mark.integration
async def test_the_bybit_feed_hands_on_every_frame_and_they_replay_to_its_books():
    """Every frame read is recorded, in order, with the socket's URL; replayed, the same books."""
    sim = SimVenue([BTC, ETH], seed=23, events_per_second=1500.0, depth_interval_ms=20)
    await sim.start()
    rows: list[Row] = []
    books = {i.instrument_id: OrderBook(i.symbol) for i in (BTC, ETH)}
    listener = Recorder()
    feed = BybitPublicFeed(
        [BTC, ETH],
        books,
        listener,
        ws_url=sim.ws_url,
        category="linear",
        depth=DEPTH,
        backoff=Backoff(base_s=0.05, cap_s=0.5, rng=random.Random(1)),
    )
    assert tap_feed(feed, lambda *row: rows.append(row))
    task = asyncio.create_task(feed.run())
    try:
        await until(
            lambda: all(feed.sync_of(i).phase is SyncPhase.LIVE for i in books), "books live"
        )
        await until(lambda: min(listener.book_updates.values(), default=0) >= 20, "updates")
        sim.pause()
        for inst in (BTC, ETH):
            bids, asks, _ = sim.true_book(inst.symbol)
            book = books[inst.instrument_id]
            want = (bids[:DEPTH], asks[:DEPTH])
            await until(lambda b=book, w=want: b.top(DEPTH) == w, f"{inst.symbol} equal")
        assert len(rows) == feed.stats.frames
        assert {r[0] for r in rows} == {"bybit-linear"}
        assert {r[3] for r in rows} == {f"{sim.ws_url}/v5/public/linear"}
        assert [r[2] for r in rows] == sorted(r[2] for r in rows)
        assert {r[1] for r in rows} >= {"BTCUSDT", "ETHUSDT", OTHER_SYMBOL}  # acks under _all
        replay = BybitReplay([BTC, ETH])
        for _, _, recv_ts, _, payload in rows:
            replay.feed(recv_ts, payload)
        for inst in (BTC, ETH):
            rebuilt = replay.syncs[inst.instrument_id].book
            assert rebuilt.top(DEPTH) == books[inst.instrument_id].top(DEPTH)
        assert not replay.stats.resyncs
        sim.resume()
    finally:
        await feed.stop()
        await asyncio.wait_for(task, 5.0)
        await sim.stop()
