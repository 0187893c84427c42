"""Reader for the captured Hyperliquid session in ../shared/data, and the coin it trades.

``hftbacktest/hyperliquid/btcusd_20250126.gz`` (BTC, 2025-01-26, 25.4 s) is gzip lines of
``<receive ns> <json>`` and carries no instrument data. Hyperliquid prices have at most five
significant figures, so at 105,000 every price is a whole dollar (written ``105055.0``), and its
sizes have at most five decimals (``3.03622``, ``szDecimals`` 5 for BTC): the grid is tick 1 and
lot 0.00001, the coarsest every value fits (the replay test checks each one).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from engine.core.instruments import Instrument

HYPERLIQUID_BTC = Instrument(venue="hyperliquid", symbol="BTC", tick_size="1", lot_size="0.00001")


def hftbacktest_frames(path: Path) -> list[tuple[int, bytes]]:
    """(receive ns, frame) of every line of an hftbacktest capture."""
    frames: list[tuple[int, bytes]] = []
    with gzip.open(path, "rb") as f:
        for line in f:
            stamp, _, payload = line.rstrip(b"\n").partition(b" ")
            frames.append((int(stamp), payload))
    return frames
