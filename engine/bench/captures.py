"""Benchmark inputs: the captured Binance spot session, or a seeded synthetic one of its shape.

:func:`spot_session` gives the REST depth snapshot and the ``depthUpdate`` frames that follow it
(as raw bytes, exactly as received), plus the trade frames, from the hftbacktest BTCUSDT capture
in ``../shared/data`` (both day files, 2024-08-08/09, about 10.8 minutes). When the folder is
absent it builds a seeded synthetic session with the same grid and frame layout instead, and
says so in :attr:`Session.source`, which every subject copies into its input line.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import NamedTuple

import msgspec
import numpy as np

from engine.core.instruments import Instrument

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SPOT = SHARED_DATA / "hftbacktest" / "spot"
BTCUSDT = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.000001")
"""The capture's grid: every price and size in it is a whole number of these steps."""
SEED = 20240808


class Session(NamedTuple):
    """One instrument's stream: a snapshot, the diffs after it, and trades."""

    snapshot: bytes
    """The REST ``GET /api/v3/depth`` body."""
    snapshot_id: int
    """Its ``lastUpdateId``."""
    depth: list[bytes]
    """Combined-stream ``depthUpdate`` frames whose ``u`` is past the snapshot, in order."""
    depth_recv_ns: list[int]
    """Receive time of each depth frame."""
    trades: list[bytes]
    """Combined-stream ``trade`` frames, in order."""
    trades_recv_ns: list[int]
    """Receive time of each trade frame."""
    source: str
    """What this is, for the report's input line."""

    @property
    def seconds(self) -> float:
        """How long the depth stream lasted, by receive time."""
        if len(self.depth_recv_ns) < 2:
            return 0.0
        return (self.depth_recv_ns[-1] - self.depth_recv_ns[0]) / 1e9


class _Ids(msgspec.Struct):
    u: int


class _Frame(msgspec.Struct):
    data: _Ids


_FRAME = msgspec.json.Decoder(_Frame)


def captured(symbol: str = "btcusdt") -> bool:
    """Whether the captured session for ``symbol`` is there."""
    return all((SPOT / f"{symbol}_{day}.gz").is_file() for day in ("20240808", "20240809"))


def _captured_session(symbol: str, limit: int | None) -> Session:
    snapshot = b""
    snapshot_id = -1
    depth: list[bytes] = []
    stamps: list[int] = []
    trades: list[bytes] = []
    trade_stamps: list[int] = []
    pending: list[tuple[int, bytes]] = []  # diffs before the snapshot
    for day in ("20240808", "20240809"):
        with gzip.open(SPOT / f"{symbol}_{day}.gz", "rb") as f:
            for line in f:
                stamp, _, payload = line.rstrip(b"\n").partition(b" ")
                head = payload[:80]
                if b'"depthUpdate"' in head:
                    target = depth if snapshot else None
                    if target is None:
                        pending.append((int(stamp), payload))
                    elif limit is None or len(depth) < limit:
                        depth.append(payload)
                        stamps.append(int(stamp))
                elif b'@trade"' in head:
                    if limit is None or len(trades) < limit:
                        trades.append(payload)
                        trade_stamps.append(int(stamp))
                elif b"lastUpdateId" in head and not snapshot:
                    snapshot = payload
                    snapshot_id = msgspec.json.decode(payload)["lastUpdateId"]
    # diffs received before the snapshot still count when they end past it (the sync replays them)
    early = [(t, p) for t, p in pending if _FRAME.decode(p).data.u > snapshot_id]
    depth = [p for _, p in early] + depth
    stamps = [t for t, _ in early] + stamps
    if limit is not None:
        depth, stamps = depth[:limit], stamps[:limit]
    return Session(
        snapshot=snapshot,
        snapshot_id=snapshot_id,
        depth=depth,
        depth_recv_ns=stamps,
        trades=trades,
        trades_recv_ns=trade_stamps,
        source=(
            f"captured Binance spot {symbol.upper()} 2024-08-08/09 (hftbacktest capture, "
            f"{len(depth):,} depthUpdate frames @100ms after the REST snapshot)"
        ),
    )


def _text(units: int, decimals: int) -> str:
    """Binance's padded decimal text: 8 decimals."""
    whole, frac = divmod(units, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}" + "0" * (8 - decimals)


def _synthetic_session(limit: int | None, seed: int) -> Session:
    rng = np.random.default_rng(seed)
    n = limit or 6_000
    mid = 6_000_000
    offsets = np.sort(rng.choice(np.arange(1, 20_000), size=1000, replace=False))
    snap = {
        "lastUpdateId": 1000,
        "bids": [[_text(mid - int(o), 2), _text(int(rng.integers(1, 10**6)), 6)] for o in offsets],
        "asks": [[_text(mid + int(o), 2), _text(int(rng.integers(1, 10**6)), 6)] for o in offsets],
    }
    depth: list[bytes] = []
    stamps: list[int] = []
    trades: list[bytes] = []
    trade_stamps: list[int] = []
    update_id = 1000
    t0 = 1_723_161_255_000_000_000
    for i in range(n):
        mid += int(rng.integers(-2, 3))
        count = int(np.clip(rng.lognormal(np.log(16), 1.0), 1, 300))
        dist = rng.integers(1, 2000, size=count)
        sizes = np.where(rng.random(count) < 0.4, 0, rng.integers(1, 10**6, size=count))
        bid_side = rng.random(count) < 0.5
        bids = [[_text(mid - 1 - int(d), 2), _text(int(s), 6)]
                for d, s, b in zip(dist, sizes, bid_side, strict=True) if b]  # fmt: skip
        asks = [[_text(mid + 1 + int(d), 2), _text(int(s), 6)]
                for d, s, b in zip(dist, sizes, bid_side, strict=True) if not b]  # fmt: skip
        first = update_id + 1
        update_id += count
        data = {"e": "depthUpdate", "E": 1_723_161_255_000 + 100 * i, "s": "BTCUSDT",
                "U": first, "u": update_id, "b": bids, "a": asks}  # fmt: skip
        depth.append(msgspec.json.encode({"stream": "btcusdt@depth@100ms", "data": data}))
        stamps.append(t0 + i * 100_000_000)
        stamp = 1_723_161_255_000 + 100 * i
        trade = {"e": "trade", "E": stamp, "s": "BTCUSDT", "t": i + 1, "p": _text(mid, 2),
                 "q": _text(int(rng.integers(1, 10**5)), 6), "T": stamp,
                 "m": bool(rng.random() < 0.5), "M": True}  # fmt: skip
        trades.append(msgspec.json.encode({"stream": "btcusdt@trade", "data": trade}))
        trade_stamps.append(t0 + i * 100_000_000 + 50_000_000)
    return Session(
        snapshot=msgspec.json.encode(snap),
        snapshot_id=1000,
        depth=depth,
        depth_recv_ns=stamps,
        trades=trades,
        trades_recv_ns=trade_stamps,
        source=(
            f"seeded synthetic Binance spot BTCUSDT-like session (seed {seed}, {n:,} depthUpdate "
            "frames; ../shared/data absent)"
        ),
    )


def spot_session(limit: int | None = None, symbol: str = "btcusdt", seed: int = SEED) -> Session:
    """The captured session when present, else the synthetic one; at most ``limit`` frames each."""
    if captured(symbol):
        return _captured_session(symbol, limit)
    return _synthetic_session(limit, seed)
