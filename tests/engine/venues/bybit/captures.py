"""Readers for the captured Bybit v5 sessions in ../shared/data, and their instruments.

- ``cryptofeed-v3/BYBIT.jsonl.zst`` (zstd JSON lines; frames are JSON strings inside the records,
  records grouped by connection, so they are sorted by ``ts``): one linear and one spot socket.
  Its instruments come from the ``instruments-info`` answers recorded in the same file, as the
  engine takes them from the venue's instrument endpoint.
- ``nautilus_trader/bybit/xrpusdt-ob500.data.zip``: one day's start of Bybit's historical
  ``orderbook.500`` download, one v5 message a line.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import zstandard

from engine.core.instruments import Instrument

XRPUSDT = Instrument(venue="bybit-linear", symbol="XRPUSDT", tick_size="0.0001", lot_size="1")


class BybitSession:
    """The cryptofeed Bybit capture: frames per socket in time order, and the listed grids."""

    def __init__(self, shared: Path) -> None:
        raw = zstandard.ZstdDecompressor().stream_reader(
            (shared / "cryptofeed-v3" / "BYBIT.jsonl.zst").read_bytes()
        )
        records = [json.loads(line) for line in raw.read().decode().splitlines()[1:]]
        records.sort(key=lambda r: r["ts"])
        self.category: dict[str, str] = {}
        self.frames: dict[str, list[tuple[int, bytes]]] = {}
        self._listed: dict[str, dict[str, Any]] = {}
        for record in records:
            if record["t"] == "http" and "instruments-info" in record["url"]:
                result = json.loads(record["data"])["result"]
                self._listed[result["category"]] = {i["symbol"]: i for i in result["list"]}
            elif record["t"] == "connect":
                self.category[record["conn"]] = record["addr"].rsplit("/", 1)[1]
                self.frames[record["conn"]] = []
            elif record["t"] == "recv":
                frame = (int(record["ts"] * 1e9), record["data"].encode())
                self.frames[record["conn"]].append(frame)

    def instruments(self, category: str, symbols: list[str]) -> list[Instrument]:
        """The capture's own grids for ``symbols`` of ``category`` (tick and lot or base step)."""
        out = []
        for n, symbol in enumerate(symbols):
            info = self._listed[category][symbol]
            lot = info["lotSizeFilter"]
            out.append(
                Instrument(
                    venue=f"bybit-{category}",
                    symbol=symbol,
                    tick_size=info["priceFilter"]["tickSize"],
                    lot_size=lot.get("qtyStep") or lot["basePrecision"],
                    instrument_id=n,
                )
            )
        return out


def xrpusdt_ob500(shared: Path) -> list[bytes]:
    """The lines of the nautilus_trader ob500 file, each one v5 orderbook message."""
    with zipfile.ZipFile(shared / "nautilus_trader" / "bybit" / "xrpusdt-ob500.data.zip") as z:
        return z.read(z.namelist()[0]).splitlines()
