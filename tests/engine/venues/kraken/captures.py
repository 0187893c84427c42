"""Readers for the captured Kraken v1 sessions in ../shared/data, and the pairs they trade.

``cryptofeed/KRAKEN.ws.50.0`` (book, depth 1000) and ``KRAKEN.ws.48.0`` (trades), 2021-04-17,
carry no AssetPairs data. Kraken v1 writes every price at the pair's ``pair_decimals`` and every
volume at its ``lot_decimals`` (8), and its checksum is computed over that text, so each grid's
step has exactly the decimals of the capture's strings (the replay tests check every value fits
and every checksum matches):

| pair | tick | lot |
|---|---|---|
| ADA/XBT, OCEAN/XBT, GRT/ETH | 0.000000001 | 0.00000001 |
| KSM/XBT, XMR/USD | 0.00000001 | 0.00000001 |
| OMG/USD, SC/EUR, WAVES/EUR | 0.000001 | 0.00000001 |
| XBT/CHF, ETH/CHF | 0.00001 | 0.00000001 |
"""

from __future__ import annotations

from pathlib import Path

from engine.core.instruments import Instrument

_PRICE_DECIMALS = {
    "WAVES/EUR": 6,
    "XMR/USD": 8,
    "KSM/XBT": 8,
    "GRT/ETH": 9,
    "SC/EUR": 6,
    "ETH/CHF": 5,
    "OCEAN/XBT": 9,
    "OMG/USD": 6,
    "XBT/CHF": 5,
    "ADA/XBT": 9,
}

KRAKEN_V1_INSTRUMENTS = [
    Instrument(
        venue="kraken",
        symbol=pair,
        tick_size=f"{1 / 10**decimals:.{decimals}f}",
        lot_size="0.00000001",
        instrument_id=i,
    )
    for i, (pair, decimals) in enumerate(_PRICE_DECIMALS.items())
]


def cryptofeed_frames(path: Path) -> list[tuple[int, bytes]]:
    """(receive ns, frame) of every frame received in a cryptofeed v1 ``.ws`` capture."""
    frames: list[tuple[int, bytes]] = []
    for line in path.read_bytes().splitlines()[1:]:  # line 1 is the connect
        if not line.strip() or b" <- " in line:
            continue
        stamp, _, frame = line.partition(b": ")
        seconds, _, frac = stamp.partition(b".")
        frames.append((int(seconds) * 10**9 + int(frac.ljust(9, b"0")[:9]), frame))
    return frames
