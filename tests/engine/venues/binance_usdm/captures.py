"""Readers for the captured Binance futures sessions in ../shared/data, and their instruments.

The captures carry no exchangeInfo, so the grids are the coarsest power-of-ten steps every price
and size in the files fits (the replay tests check it frame by frame); COIN-M sizes are whole
contracts.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from engine.core.instruments import Instrument

USDM_INSTRUMENTS = {
    "btcusdt": Instrument(
        venue="binance-usdm", symbol="BTCUSDT", tick_size="0.1", lot_size="0.001"
    ),
    "ethusdt": Instrument(
        venue="binance-usdm", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001"
    ),
    "btcusd_perp": Instrument(
        venue="binance-coinm", symbol="BTCUSD_PERP", tick_size="0.1", lot_size="1"
    ),
}

USDM_SESSIONS = {
    "btcusdt_20240718": ("btcusdt", ("20240718", "20240719")),
    "ethusdt_20240718": ("ethusdt", ("20240718", "20240719")),
    "btcusdt_20240808": ("btcusdt", ("20240808",)),
    "ethusdt_20240808": ("ethusdt", ("20240808",)),
}
"""Each USD-M capture session: its symbol and its day files, replayed concatenated."""
COINM_SESSIONS = {"btcusd_perp_20240808": ("btcusd_perp", ("20240808", "20240809"))}
"""The COIN-M capture session (same futures rules)."""

_FUTURES_TICKS = {
    "SUSHIUSDT": "0.001",
    "AKROUSDT": "0.00001",
    "KEEPUSDT": "0.0001",
    "CTKUSDT": "0.00001",
}
_DELIVERY_TICKS = {
    "BCHUSD_PERP": "0.01",
    "LINKUSD_PERP": "0.001",
    "BCHUSD_210924": "0.01",
    "ETCUSD_PERP": "0.001",
    "ETHUSD_210924": "0.01",
    "XRPUSD_PERP": "0.0001",
    "BTCUSD_211231": "0.1",
    "TRXUSD_PERP": "0.00001",
    "LINKUSD_211231": "0.001",
    "EOSUSD_PERP": "0.001",
}


def cryptofeed_instruments(name: str) -> list[Instrument]:
    """The instruments of ``BINANCE_FUTURES`` (USD-M) or ``BINANCE_DELIVERY`` (COIN-M)."""
    ticks = _FUTURES_TICKS if name == "BINANCE_FUTURES" else _DELIVERY_TICKS
    venue = "binance-usdm" if name == "BINANCE_FUTURES" else "binance-coinm"
    return [
        Instrument(venue=venue, symbol=s, tick_size=t, lot_size="1", instrument_id=n)
        for n, (s, t) in enumerate(ticks.items())
    ]


def hftbacktest_lines(shared: Path, session: str) -> Iterator[tuple[int, bytes]]:
    """(receive ns, raw JSON) of a USD-M or COIN-M capture: its day files in order."""
    folder = "usdm" if session in USDM_SESSIONS else "cm"
    symbol, days = {**USDM_SESSIONS, **COINM_SESSIONS}[session]
    for day in days:
        with gzip.open(shared / "hftbacktest" / folder / f"{symbol}_{day}.gz", "rb") as f:
            for line in f:
                stamp, _, payload = line.rstrip(b"\n").partition(b" ")
                yield int(stamp), payload


def cryptofeed_session(shared: Path, name: str) -> list[tuple[float, str, bytes]]:
    """A cryptofeed session merged by receive time: (ts, "http" symbol or "ws", body)."""
    events: list[tuple[float, str, bytes]] = []
    folder = shared / "cryptofeed"
    for line in (folder / f"{name}.http.0.0").read_bytes().splitlines():
        if not line.strip():
            continue
        url, _, rest = line.partition(b" -> ")
        stamp, _, body = rest.partition(b": ")
        symbol = url.split(b"symbol=")[1].split(b"&")[0].decode()
        events.append((float(stamp), symbol, body))
    for line in (folder / f"{name}.ws.1.0").read_bytes().splitlines()[1:]:  # 1: the connect
        if not line.strip() or b" <- " in line:
            continue
        stamp, _, frame = line.partition(b": ")
        events.append((float(stamp), "ws", frame))
    events.sort(key=lambda e: e[0])
    return events
