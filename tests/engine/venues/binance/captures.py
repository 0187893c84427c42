"""Readers for the captured Binance sessions in ../shared/data, and the instruments they trade.

The captures carry no exchangeInfo, so the grids below were chosen to fit the data: every price
and size in the files is a whole number of these steps (the replay tests check it frame by frame).

- BTCUSDT and ETHUSDT (hftbacktest spot, 2024-08-08/09): the tick is 0.01 as listed, but a few
  far-away levels (e.g. 200000.00 and 74000.00 for BTCUSDT, 5000.00 for ETHUSDT) carry aggregate
  sizes one decimal finer than the listed lot (``25.42618900`` BTC, ``2292.22972000`` ETH):
  resting orders placed when the step was finer. So the lot is 0.000001 BTC and 0.00001 ETH.
- The 2021 cryptofeed symbols: the coarsest power-of-ten steps every value fits.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from engine.core.instruments import Instrument

SPOT_INSTRUMENTS = {
    "btcusdt": Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.000001"),
    "ethusdt": Instrument(venue="binance", symbol="ETHUSDT", tick_size="0.01", lot_size="0.00001"),
}

CRYPTOFEED_INSTRUMENTS = [
    Instrument(
        venue="binance", symbol="NKNUSDT", tick_size="0.00001", lot_size="0.1", instrument_id=0
    ),
    Instrument(
        venue="binance", symbol="BLZETH", tick_size="0.00000001", lot_size="1", instrument_id=1
    ),
    Instrument(
        venue="binance", symbol="LRCBTC", tick_size="0.00000001", lot_size="1", instrument_id=2
    ),
    Instrument(
        venue="binance", symbol="RUNEEUR", tick_size="0.001", lot_size="0.1", instrument_id=3
    ),
]


def hftbacktest_lines(shared: Path, symbol: str) -> Iterator[tuple[int, bytes]]:
    """(receive ns, raw JSON) of a spot capture: both day files in order, one session."""
    for day in ("20240808", "20240809"):
        with gzip.open(shared / "hftbacktest" / "spot" / f"{symbol}_{day}.gz", "rb") as f:
            for line in f:
                stamp, _, payload = line.rstrip(b"\n").partition(b" ")
                yield int(stamp), payload


def cryptofeed_session(shared: Path) -> list[tuple[float, str, bytes]]:
    """The BINANCE spot session merged by receive time: (ts, "http" symbol or "ws", body)."""
    events: list[tuple[float, str, bytes]] = []
    folder = shared / "cryptofeed"
    for line in (folder / "BINANCE.http.0.0").read_bytes().splitlines():
        if not line.strip():
            continue
        url, _, rest = line.partition(b" -> ")
        stamp, _, body = rest.partition(b": ")
        symbol = url.split(b"symbol=")[1].split(b"&")[0].decode()
        events.append((float(stamp), symbol, body))
    lines = (folder / "BINANCE.ws.1.0").read_bytes().splitlines()
    for line in lines[1:]:  # line 1 is the connect
        if not line.strip() or b" <- " in line:
            continue
        stamp, _, frame = line.partition(b": ")
        events.append((float(stamp), "ws", frame))
    events.sort(key=lambda e: e[0])
    return events
