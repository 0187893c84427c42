from __future__ import annotations

import asyncio
import uuid

import pytest

from backtest.catalog import Catalog
from engine.book.order_book import OrderBook
from engine.core.config import load_config
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.engine import Engine
from engine.sim.server import SimVenue

pytestmark = pytest.mark.integration


async def until(condition, what, timeout_s=20.0):
    """Wait for ``condition``; fail naming ``what`` after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_the_engine_records_the_local_venue_into_the_catalog(tmp_path):
    """[recorder] enabled: raw frames, a snapshot when the book goes live, deltas and trades."""
    root = tmp_path / "catalog"
    config = load_config(
        None,
        {
            "HFT__ENGINE__INSTANCE": f"t{uuid.uuid4().hex[:10]}",
            "HFT__CONTROL__PORT": "0",
            "HFT__ENGINE__STATE_DIR": str(tmp_path / "state"),
            "HFT__SIM__DEPTH_INTERVAL_MS": "20",
            "HFT__RECORDER__ENABLED": "true",
            "HFT__RECORDER__ROOT": str(root),
        },
    )
    venue = SimVenue(
        config.instrument_list(), seed=5, events_per_second=2000.0, depth_interval_ms=20
    )
    await venue.start()
    engine = Engine(config, venue_urls=(venue.ws_url, venue.rest_url))
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.book_states.get(0) == "live", "the book to go live")
        await until(lambda: engine.book_updates >= 30, "book updates")
        status = engine.status()["recorder"]
        assert status["root"] == str(root)
        assert status["running"]
    finally:
        engine.request_stop()
        await asyncio.wait_for(task, 60)
        await venue.stop()
    stats = engine.recorder.stats()
    assert stats.dropped == 0
    assert stats.write_errors == 0
    catalog = Catalog(root)
    kinds = {f.kind for f in catalog.files()}
    assert kinds >= {"book", "raw"}
    (found,) = catalog.instruments()
    assert (found.venue, found.symbol, found.tick_size) == ("sim", "BTCUSDT", "0.01")
    inst = config.instrument_list()[0]
    events = list(catalog.events([inst], 0, 2**62))
    books = [e for e in events if not isinstance(e, Trade)]
    assert isinstance(books[0], BookSnapshot)
    # the recorded rows rebuild the engine's book exactly
    book = OrderBook("BTCUSDT")
    for ev in books:
        if isinstance(ev, BookSnapshot):
            book.apply_snapshot(ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz, ev.update_id)
        elif isinstance(ev, BookDelta):
            assert ev.first_id == book.update_id + 1
            book.apply_delta(ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz, ev.last_id)
    assert book.update_id == engine.books[0].update_id
    assert book.levels() == engine.books[0].levels()
