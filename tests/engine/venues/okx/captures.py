"""Reader for the captured OKX session in ../shared/data, and the instruments it trades.

``cryptofeed/OKX.ws.1.0`` (2022-05-13, 10.8 s) carries no instrument data, so the grids below were
chosen to fit it: every price and size in the file is a whole number of these steps (the replay
test checks it frame by frame, since the parser refuses text between two steps).

- BTC-USDT (spot): tick 0.1, lot 0.00000001 BTC.
- BTC-USD-220527 (inverse future): tick 0.1, lot 1 contract.
- UNI-USD-SWAP (inverse swap): tick 0.001, lot 1 contract.
"""

from __future__ import annotations

from pathlib import Path

from engine.core.instruments import Instrument

OKX_INSTRUMENTS = [
    Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.00000001"),
    Instrument(
        venue="okx", symbol="BTC-USD-220527", tick_size="0.1", lot_size="1", instrument_id=1
    ),
    Instrument(
        venue="okx", symbol="UNI-USD-SWAP", tick_size="0.001", lot_size="1", instrument_id=2
    ),
]


def okx_frames(shared: Path) -> list[tuple[int, bytes]]:
    """(receive ns, frame) of every frame received in the OKX session, in file order."""
    frames: list[tuple[int, bytes]] = []
    for line in (shared / "cryptofeed" / "OKX.ws.1.0").read_bytes().splitlines()[1:]:
        if not line.strip() or b" <- " in line:
            continue
        stamp, _, frame = line.partition(b": ")
        seconds, _, frac = stamp.partition(b".")
        frames.append((int(seconds) * 10**9 + int(frac.ljust(9, b"0")[:9]), frame))
    return frames
