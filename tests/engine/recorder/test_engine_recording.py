from __future__ import annotations

import asyncio

import pytest

from backtest.catalog import Catalog
from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot, Trade
from tests.integration.in_process import engine_on_local_venue

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
    recording = {"HFT__RECORDER__ENABLED": "true", "HFT__RECORDER__ROOT": str(root)}
    async with engine_on_local_venue(tmp_path, recording, stop_timeout_s=60) as (_, engine, _):
        await until(lambda: engine.book_states.get(0) == "live", "the book to go live")
        await until(lambda: engine.book_updates >= 30, "book updates")
        status = engine.status()["recorder"]
        assert status["root"] == str(root)
        assert status["running"]
    stats = engine.recorder.stats()
    assert stats.dropped == 0
    assert stats.write_errors == 0
    catalog = Catalog(root)
    kinds = {f.kind for f in catalog.files()}
    assert kinds >= {"book", "raw"}
    (found,) = catalog.instruments()
    assert (found.venue, found.symbol, found.tick_size) == ("sim", "BTCUSDT", "0.01")
    inst = engine.config.instrument_list()[0]
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
