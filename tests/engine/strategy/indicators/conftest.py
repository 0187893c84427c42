"""Real trades for the indicator tests: Binance spot BTCUSDT from the hftbacktest capture."""

from __future__ import annotations

import functools
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from engine.core.events import Side

SpotTrade = tuple[int, int, int, Side]
"""(trade time ns, price in 0.01 ticks, size in 0.000001 lots, taker side)."""


def load_spot_trades(shared: Path, symbol: str = "btcusdt") -> list[SpotTrade]:
    """Every ``trade`` frame of both day files, in capture order."""
    out: list[SpotTrade] = []
    for day in ("20240808", "20240809"):
        path = shared / "hftbacktest" / "spot" / f"{symbol}_{day}.gz"
        if not path.is_file():
            pytest.skip(f"{path} not found")
        with gzip.open(path, "rt") as f:
            for line in f:
                if "@trade" not in line:
                    continue
                data = json.loads(line.partition(" ")[2])["data"]
                out.append(
                    (
                        int(data["T"]) * 1_000_000,
                        int(Decimal(data["p"]) * 100),
                        int(Decimal(data["q"]) * 1_000_000),
                        Side.SELL if data["m"] else Side.BUY,
                    )
                )
    return out


@functools.cache
def _cached(shared: Path) -> list[SpotTrade]:
    return load_spot_trades(shared)


@pytest.fixture
def spot_trades(shared_data: Path) -> list[SpotTrade]:
    """The capture's trades (read once per run); skips when ../shared/data is absent."""
    return _cached(shared_data)
