"""``python -m engine.sim.market_only``: the config's venue's local stream as its own process."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.book.order_book import OrderBook
from engine.core.config import load_config
from engine.venues.book_sync import BookPhase
from engine.venues.kraken.feed import KrakenFeed
from tests.engine.venues.feed_harness import Recorder, until

pytestmark = pytest.mark.integration

CONFIG = (
    '[engine]\nmode = "paper"\n[venue]\nname = "kraken"\n[sim]\nevents_per_second = 500.0\n'
    '[[instruments]]\nvenue = "kraken"\nsymbol = "BTC/USD"\ntick_size = "0.1"\n'
    'lot_size = "0.00000001"\n'
)


async def test_a_kraken_stream_serves_a_feed_and_stops_on_sigterm(tmp_path: Path):
    """The listening line names the host; a Kraken feed on it goes live; SIGTERM exits 0."""
    path = tmp_path / "engine.toml"
    path.write_text(CONFIG)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "engine.sim.market_only",
        "--config",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        line = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60.0))
        assert line["event"] == "listening"
        assert line["venue"] == "kraken"
        instruments = load_config(path, {}).instrument_list()
        feed = KrakenFeed(
            instruments,
            {0: OrderBook("BTC/USD")},
            Recorder(),
            ws_url=line["ws_url"] + "/v2",
        )
        task = asyncio.create_task(feed.run())
        try:
            await until(lambda: feed.sync_of(0).phase is BookPhase.LIVE, "the book live")
            await until(lambda: feed.sync_of(0).checksums_verified > 3, "checksums")
        finally:
            await feed.stop()
            await asyncio.wait_for(task, 5.0)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10.0) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_a_venue_without_a_local_stream_is_a_config_error(tmp_path: Path):
    """``sim`` (the Binance-speaking venue has its own command) exits 2 naming the choices."""
    path = tmp_path / "engine.toml"
    path.write_text('[venue]\nname = "sim"\n')
    done = subprocess.run(
        [sys.executable, "-m", "engine.sim.market_only", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no local stream here (okx, kraken, coinbase, hyperliquid)" in done.stderr
