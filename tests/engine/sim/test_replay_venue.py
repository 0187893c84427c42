"""The replaying venue: snapshots, cut-offs, speeds and budgets.

Its snapshot is the book as of the diffs it released; a client that stops reading is cut off; a
paced stage stops at its budget.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from engine.bench.captures import BTCUSDT, spot_session
from engine.book.order_book import OrderBook
from engine.core.events import BookDelta
from engine.sim.replay_venue import MAX_SPEED, ReplayVenue
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.sync import SpotBookSync


async def _until(check, limit_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _book(snapshot: bytes, diffs: list[bytes]) -> tuple[list, list]:
    parser = BinanceSpotParser([BTCUSDT])
    book = OrderBook(BTCUSDT.symbol)
    sync = SpotBookSync(BTCUSDT, book)
    sync.on_snapshot(parser.parse_snapshot(snapshot, BTCUSDT, 0))
    for frame in diffs:
        event = parser.parse_frame(frame, 0)
        assert isinstance(event, BookDelta)
        sync.on_delta(event)
    return book.levels()


@pytest.mark.shared_data
async def test_the_snapshot_is_the_book_after_the_released_diffs(shared_data):
    """Replay 20 recorded seconds flat out; the REST book equals snapshot + those diffs.

    The captured session: the synthetic stand-in's book crosses as it walks.
    """
    session = spot_session(limit=400)
    venue = ReplayVenue(session)
    await venue.start()
    try:
        venue.set_speed(MAX_SPEED, for_s=20.0)
        await _until(lambda: venue.speed == 0.0)
        released = venue.released_depth
        assert 0 < released < len(session.depth)
        assert venue.capture_s == 20.0
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{venue.rest_url}/api/v3/depth", params={"limit": "100000"}) as resp,
        ):
            body = await resp.read()
        assert _book(body, []) == _book(session.snapshot, session.depth[:released])
    finally:
        await venue.stop()


async def test_a_client_that_stops_reading_is_cut_off():
    """A small send buffer and queue: a client that reads nothing is dropped, counted once."""
    session = spot_session(limit=3000)
    venue = ReplayVenue(session, queue_limit=50)
    venue.set_sndbuf(4096)
    await venue.start()
    try:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{venue.ws_url}/stream?streams=btcusdt@depth")
            await _until(lambda: venue.stats()["connections"] == 1)
            reader = ws._response.connection.transport  # type: ignore[union-attr]
            reader.pause_reading()  # the client stops reading its socket
            venue.set_speed(MAX_SPEED)
            await _until(lambda: venue.cutoffs == 1)
            assert venue.stats()["peak_queue"] == 50
            await _until(lambda: venue.stats()["connections"] == 0)
            await ws.close()
    finally:
        await venue.stop()


async def test_a_paced_stage_stops_at_its_budget_and_says_so_in_stats():
    """100x for 5 recorded seconds: the clock stops there; stats count what went out."""
    session = spot_session(limit=400)
    venue = ReplayVenue(session)
    await venue.start()
    try:
        venue.set_speed(100.0, for_s=5.0)
        await _until(lambda: venue.speed == 0.0)
        stats = venue.stats()
        assert stats["capture_s"] == 5.0
        assert stats["released"] > 0
        assert not stats["exhausted"]
        assert stats["cutoffs"] == 0
    finally:
        await venue.stop()
