"""``hft-tui record`` on venues beyond Binance: Bybit and OKX from their local streams.

The recorder session builds the venue's feed as the engine does, taps its raw frames on the
shared stream loop, and writes raw frames, snapshots and deltas under the venue's partition.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from backtest.catalog import Catalog
from engine.core.config import load_config
from engine.core.instruments import Instrument
from engine.recorder.session import record
from engine.sim.okx_stream import OkxStreamVenue
from engine.sim.server import SimVenue

pytestmark = pytest.mark.integration


def _config(tmp_path: Path, venue: str, inst: Instrument):
    path = tmp_path / "record.toml"
    path.write_text(
        f'[engine]\nmode = "paper"\n[venue]\nname = "{venue}"\ncheck_instruments = false\n'
        f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{inst.symbol}"\n'
        f'tick_size = "{inst.tick_size}"\nlot_size = "{inst.lot_size}"\nmin_notional = "1"\n'
    )
    return load_config(path, {"HFT__ENGINE__STATE_DIR": str(tmp_path / "state")})


def _raw_rows(root: Path, venue: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for path in sorted((root / "raw" / f"venue={venue}").rglob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


@pytest.mark.parametrize("venue", ["bybit-linear", "okx"])
async def test_record_writes_raw_frames_and_books_of_the_venue(tmp_path: Path, venue: str):
    """Raw frames under the venue and symbol, with the socket's URL; a snapshot and deltas."""
    if venue == "okx":
        inst = Instrument(venue=venue, symbol="BTC-USDT", tick_size="0.1", lot_size="0.00001")
        sim = OkxStreamVenue([inst], seed=4, events_per_second=800.0, interval_ms=20)
        await sim.start()
        urls = (sim.rest_url.replace("http://", "ws://"), sim.rest_url)
    else:
        inst = Instrument(venue=venue, symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
        sim = SimVenue([inst], seed=3, events_per_second=1000.0, depth_interval_ms=20)
        await sim.start()
        urls = (sim.ws_url, sim.rest_url)
    root = tmp_path / "catalog"
    try:
        stats = await record(
            _config(tmp_path, venue, inst), root=root, duration_s=1.5, venue_urls=urls
        )
    finally:
        await sim.stop()
    assert stats.dropped == 0
    assert stats.write_errors == 0
    rows = _raw_rows(root, venue)
    assert rows, "no raw frames recorded"
    assert {r["stream"] for r in rows} <= {urls[0] + "/v5/public/linear", urls[0] + "/ws/v5/public"}
    assert any(inst.symbol.encode() in r["payload"] for r in rows)  # type: ignore[operator]
    (found,) = Catalog(root).instruments()
    assert (found.venue, found.symbol) == (venue, inst.symbol)
    assert {f.kind for f in Catalog(root).files()} >= {"book", "raw"}
