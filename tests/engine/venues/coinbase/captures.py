"""Reader for the captured Coinbase Advanced Trade session in ../shared/data, and its products.

``cryptofeed-v3/COINBASE.jsonl.zst`` (2026-08-09, 24.8 s, one WebSocket connection) is zstd JSON
lines; each ``recv`` record's ``data`` is the frame as a JSON string, and records are grouped by
connection, so they are sorted by ``ts``. Its REST ``products`` answer lists the grids used here:
BTC-USD and ETH-USD, ``price_increment`` 0.01 and ``base_increment`` 0.00000001 (the replay tests
check every value of the session fits them).
"""

from __future__ import annotations

import json
from pathlib import Path

import zstandard

from engine.core.instruments import Instrument

COINBASE_INSTRUMENTS = [
    Instrument(venue="coinbase", symbol="BTC-USD", tick_size="0.01", lot_size="0.00000001"),
    Instrument(
        venue="coinbase", symbol="ETH-USD", tick_size="0.01", lot_size="0.00000001", instrument_id=1
    ),
]


def cryptofeed_v3_frames(path: Path) -> list[tuple[int, bytes]]:
    """(receive ns, frame bytes) of every received frame of a cryptofeed-v3 capture, by ``ts``."""
    with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f) as reader:
        text = reader.read()
    frames: list[tuple[float, int, bytes]] = []
    for line in text.splitlines():
        record = json.loads(line)
        if record.get("t") == "recv":
            ts = record["ts"]
            frames.append((ts, len(frames), record["data"].encode()))
    frames.sort()
    return [(round(ts * 1e9), data) for ts, _, data in frames]
