"""The engine in paper mode on Kraken, Coinbase and Hyperliquid market data, on local streams.

For each venue the engine is configured by name (``[venue] name = "kraken"`` ...) with its host
pointing at the venue's local stream (engine.sim.<venue>_stream): the factory picks the venue's
feed and path, the book goes live, a paper market order fills against it, the venue's own fault
(a bad checksum, a sequence gap, a crossed book) throws the book away and it comes back, and so
does a dropped link. The engine keeps running through all of it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.core.config import load_config
from engine.core.instruments import Instrument
from engine.engine import Engine
from engine.sim.coinbase_stream import CoinbaseStreamVenue
from engine.sim.hyperliquid_stream import HyperliquidStreamVenue
from engine.sim.kraken_stream import KrakenStreamVenue
from engine.sim.public_stream import PublicStreamVenue
from tests.integration.conftest import until
from tests.integration.control import control, get_status

pytestmark = pytest.mark.integration

TOKEN = "market-only-token"


def _kraken_fault(venue: Any) -> None:
    venue.inject_bad_checksum("BTC/USD")


def _coinbase_fault(venue: Any) -> None:
    venue.inject_gap()


def _hyperliquid_fault(venue: Any) -> None:
    venue.inject_crossed("BTC")


CASES: list[tuple[str, type[PublicStreamVenue], Instrument, Callable[[Any], None]]] = [
    (
        "kraken",
        KrakenStreamVenue,
        Instrument(venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.00000001"),
        _kraken_fault,
    ),
    (
        "coinbase",
        CoinbaseStreamVenue,
        Instrument(venue="coinbase", symbol="BTC-USD", tick_size="0.01", lot_size="0.00000001"),
        _coinbase_fault,
    ),
    (
        "hyperliquid",
        HyperliquidStreamVenue,
        Instrument(venue="hyperliquid", symbol="BTC", tick_size="1", lot_size="0.00001"),
        _hyperliquid_fault,
    ),
]


@pytest.mark.parametrize(("name", "venue_class", "inst", "fault"), CASES, ids=[c[0] for c in CASES])
async def test_paper_engine_on_the_venues_stream(
    name: str,
    venue_class: type[PublicStreamVenue],
    inst: Instrument,
    fault: Callable[[Any], None],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """Live book, a filled paper order, the venue's fault and a dropped link survived."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    path = tmp_path / "engine.toml"
    path.write_text(
        f'[engine]\nmode = "paper"\n[venue]\nname = "{name}"\n'
        f'[[instruments]]\nvenue = "{name}"\nsymbol = "{inst.symbol}"\n'
        f'tick_size = "{inst.tick_size}"\nlot_size = "{inst.lot_size}"\nmin_notional = "5"\n'
        "[control]\nport = 0\n[ipc]\nheartbeat_interval_ms = 50\n"
    )
    config = load_config(
        path,
        {
            "HFT__ENGINE__INSTANCE": f"{name[:4]}{tmp_path.name[-8:]}",
            "HFT__ENGINE__STATE_DIR": str(tmp_path / "state"),
            "HFT__VENUE__CHECK_INSTRUMENTS": "false",
        },
    )
    venue = venue_class([inst], seed=4, events_per_second=800.0, interval_ms=20)  # type: ignore[call-arg]
    await venue.start()
    host = f"ws://127.0.0.1:{venue.port}"
    engine = Engine(config, venue_urls=(host, f"http://127.0.0.1:{venue.port}"))
    task = asyncio.create_task(engine.run())
    try:
        await until(lambda: engine.book_states.get(0) == "live", f"the {name} book to go live")
        assert engine.control is not None
        url = engine.control.url
        status = await asyncio.to_thread(get_status, url)
        assert status["venue"]["name"] == name
        assert status["books"][inst.symbol]["state"] == "live"
        order = {"symbol": inst.symbol, "side": "sell", "size": "0.01", "type": "market"}
        code, placed = await asyncio.to_thread(
            control, url, "/orders", "POST", json.dumps(order).encode(), TOKEN
        )
        assert code == 201, placed
        lots = int(0.01 / float(inst.lot_size) + 0.5)
        await until(lambda: engine.portfolio.position(0).net == -lots, "the paper sell to fill")
        feed = engine.feed
        assert feed is not None
        resyncs = feed.stats.resyncs
        fault(venue)
        await until(lambda: feed.stats.resyncs > resyncs, f"the {name} fault to be noticed")
        await until(lambda: engine.book_states.get(0) == "live", "the book live after the fault")
        await venue.drop_connections()
        await until(lambda: feed.stats.reconnects == 1, "a reconnect")
        await until(lambda: engine.book_states.get(0) == "live", "the book live after the drop")
        assert not engine.books[0].is_crossed()
    finally:
        engine.request_stop()
        await asyncio.wait_for(task, 20.0)
        await venue.stop()
