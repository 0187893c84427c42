"""The whole engine against the local venue: its books, state pages and /status tell the truth."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from engine.engine import Engine
from engine.ipc.protocol import decode_book
from engine.ipc.segments import segment_name
from engine.ipc.state_page import StatePage
from engine.sim.server import SimVenue
from tests.integration.conftest import until as _until
from tests.integration.control import control, get_status

pytestmark = pytest.mark.integration


async def _quiesce(venue: SimVenue, engine: Engine) -> None:
    """Pause the venue and wait until the engine applied its last diff and published it."""
    venue.pause()
    _, _, true_id = venue.true_book("BTCUSDT")
    await _until(lambda: engine.books[0].update_id == true_id, "the last diff")
    await asyncio.sleep(0.05)  # one publishing cycle


async def test_engine_book_equals_the_venue_true_book(venue_and_engine):
    """After a busy run the engine's book holds exactly the venue's levels and update id."""
    venue, engine, _ = venue_and_engine
    await asyncio.sleep(1.0)
    await _quiesce(venue, engine)
    bids, asks, _ = venue.true_book("BTCUSDT")
    assert engine.books[0].levels() == (bids, asks)
    assert engine.books[0].update_count > 10


async def test_state_page_and_status_show_the_true_top(venue_and_engine):
    """The UI's book page and GET /status show the venue's best levels, as exact text in /status."""
    venue, engine, instance = venue_and_engine
    await _quiesce(venue, engine)
    bids, asks, true_id = venue.true_book("BTCUSDT")
    page = StatePage.attach(segment_name(instance, "book-0"))
    try:
        payload = page.read()
    finally:
        page.close()
    assert payload is not None
    view = decode_book(payload)
    assert view.state == "live"
    assert view.update_id == true_id
    assert view.exch_ts > 0  # the venue's event time of the last diff
    assert view.recv_ts >= view.exch_ts - 1_000_000_000  # received after it was sent, give or take
    assert view.bids == bids[: len(view.bids)]
    assert view.asks == asks[: len(view.asks)]
    assert len(view.bids) == engine.config.ipc.book_depth

    status = await asyncio.to_thread(get_status, engine.control.url)
    book = status["books"]["BTCUSDT"]
    assert status["trading"] == "running"
    assert status["venue"]["link"] == "live"
    assert Decimal(book["best_bid"]["price"]) == Decimal("0.01") * bids[0][0]
    assert Decimal(book["best_ask"]["size"]) == Decimal("0.00001") * asks[0][1]
    assert book["update_id"] == true_id


async def test_injected_gap_resyncs_and_the_book_is_right_again(venue_and_engine):
    """A sequence gap from the venue makes the engine resnapshot, and the book matches again."""
    venue, engine, _ = venue_and_engine
    resyncs = engine.feed.stats.resyncs
    venue.faults.gap_next("BTCUSDT", missing=3)
    await _until(lambda: engine.feed.stats.gaps >= 1, "the gap to be seen")
    await _until(lambda: engine.feed.stats.resyncs > resyncs, "the resync")
    await _until(lambda: engine.book_states[0] == "live", "the book to be live again")
    await _quiesce(venue, engine)
    bids, asks, _ = venue.true_book("BTCUSDT")
    assert engine.books[0].levels() == (bids, asks)


async def test_kill_over_http_halts_and_is_idempotent(venue_and_engine):
    """POST /kill halts trading; a second kill keeps the first reason and time."""
    _, engine, _ = venue_and_engine
    code, answer = await asyncio.to_thread(control, engine.control.url, "/kill", "POST")
    assert (code, answer["trading"]) == (200, "halted")
    first = engine.halted_at_ns
    engine.kill("again")
    assert engine.halted_at_ns == first
    status = await asyncio.to_thread(get_status, engine.control.url)
    assert status["trading"] == "halted"
    assert status["halt_reason"].startswith("kill switch (http")
