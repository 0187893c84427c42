"""The engine in paper mode on OKX market data, against the local OKX stream on 127.0.0.1.

``[venue] name = "okx"`` has no order gateway, so the config allows it only in paper mode; the
engine takes its books from :class:`~engine.venues.okx.feed.OkxFeed` and paper orders fill
against them. A gap at the venue is noticed and the book is live again, and a dropped link
comes back: the engine keeps running through both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.core.config import load_config
from engine.core.instruments import Instrument
from engine.engine import Engine
from engine.errors import ConfigError
from engine.sim.okx_stream import OkxStreamVenue
from tests.integration.conftest import until
from tests.integration.control import control, get_status

pytestmark = pytest.mark.integration

TOKEN = "okx-paper-token"
BTC = Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00001")
CONFIG = (
    '[engine]\nmode = "paper"\n'
    '[venue]\nname = "okx"\nmax_reconnects_per_minute = 30\n'
    '[[instruments]]\nvenue = "okx"\nsymbol = "BTC-USDT"\ntick_size = "0.1"\n'
    'lot_size = "0.00001"\nmin_notional = "5"\n'
    "[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n"
)


@pytest.fixture
async def okx_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[OkxStreamVenue, Engine]]:
    """A local OKX stream and a paper engine on it, its book live."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    path = tmp_path / "engine.toml"
    path.write_text(CONFIG)
    config = load_config(
        path,
        {
            "HFT__ENGINE__INSTANCE": f"okx{tmp_path.name[-8:]}",
            "HFT__ENGINE__STATE_DIR": str(tmp_path / "state"),
        },
    )
    venue = OkxStreamVenue([BTC], seed=4, events_per_second=800.0, interval_ms=20)
    await venue.start()
    host = venue.rest_url.replace("http://", "ws://")
    engine = Engine(config, venue_urls=(host, venue.rest_url))
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.book_states.get(0) == "live", "the OKX book to go live")
        yield venue, engine
    finally:
        engine.request_stop()
        await asyncio.wait_for(task, 20.0)
        await venue.stop()


async def test_paper_orders_fill_on_okx_books_through_gaps_and_drops(
    okx_engine: tuple[OkxStreamVenue, Engine],
):
    """Book live from OKX; a paper market order fills; a gap and a dropped link are survived."""
    venue, engine = okx_engine
    assert engine.control is not None
    url = engine.control.url
    status = await asyncio.to_thread(get_status, url)
    assert status["books"]["BTC-USDT"]["state"] == "live"
    assert status["venue"]["name"] == "okx"
    order = {"symbol": "BTC-USDT", "side": "buy", "size": "0.01", "type": "market"}
    code, placed = await asyncio.to_thread(
        control, url, "/orders", "POST", json.dumps(order).encode(), TOKEN
    )
    assert code == 201, placed

    await until(lambda: engine.portfolio.position(0).net == 1000, "the paper buy to fill")
    feed = engine.feed
    assert feed is not None
    venue.inject_gap("BTC-USDT")
    await until(lambda: feed.stats.gaps == 1, "the gap to be noticed")
    await until(lambda: engine.book_states.get(0) == "live", "the book live after the gap")
    await venue.drop_connections()
    await until(lambda: feed.stats.reconnects == 1, "a reconnect")
    await until(lambda: engine.book_states.get(0) == "live", "the book live after the drop")
    assert venue.connections == 2
    assert not engine.books[0].is_crossed()
    after = (await asyncio.to_thread(get_status, url))["venue"]
    assert after["gaps"] == 1
    assert after["reconnects"] == 1
    assert after["reconnects_throttled"] == 0


def test_okx_in_live_mode_is_refused(tmp_path: Path):
    """No OKX order gateway: live mode on okx is a config error naming engine.mode."""
    path = tmp_path / "engine.toml"
    path.write_text(CONFIG.replace('mode = "paper"', 'mode = "live"'))
    with pytest.raises(ConfigError, match="market data only"):
        load_config(path, {})
