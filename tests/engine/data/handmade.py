"""Small Binance spot captures written by hand, in the hftbacktest format, for the data tools."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

T0 = 1_723_161_600_000_000_000  # 2024-08-09T00:00:00Z
MS = 1_000_000


def depth(u_first: int, u_last: int, bids, asks, symbol: str = "BTCUSDT") -> dict:
    """A combined-stream depth frame."""
    return {
        "stream": f"{symbol.lower()}@depth@100ms",
        "data": {
            "e": "depthUpdate",
            "E": 1723161600000,
            "s": symbol,
            "U": u_first,
            "u": u_last,
            "b": [[p, q] for p, q in bids],
            "a": [[p, q] for p, q in asks],
        },
    }


def trade(trade_id: int, price: str, qty: str, symbol: str = "BTCUSDT") -> dict:
    """A combined-stream trade frame."""
    return {
        "stream": f"{symbol.lower()}@trade",
        "data": {
            "e": "trade",
            "E": 1723161600000,
            "s": symbol,
            "t": trade_id,
            "p": price,
            "q": qty,
            "T": 1723161600000,
            "m": True,
        },
    }


SNAPSHOT = {
    "lastUpdateId": 100,
    "bids": [["100.00", "1.000"], ["99.50", "2.000"]],
    "asks": [["100.50", "1.500"], ["101.00", "3.000"]],
}


def clean_lines() -> list[tuple[int, dict]]:
    """A continuous capture: a diff before the snapshot, the snapshot, diffs and a trade."""
    return [
        (T0 + 1 * MS, depth(99, 100, [["100.00", "1.000"]], [])),
        (T0 + 2 * MS, SNAPSHOT),
        (T0 + 3 * MS, depth(101, 102, [["100.00", "1.200"]], [["100.50", "0"]])),
        (T0 + 4 * MS, trade(1, "101.00", "0.100")),
        (T0 + 5 * MS, depth(103, 103, [], [["100.75", "0.250"]])),
        (T0 + 6 * MS, depth(104, 106, [["99.75", "4.000"]], [])),
    ]


def faulty_lines() -> list[tuple[int, dict | str]]:
    """Every problem validate knows, once each, after a clean start."""
    return [
        (T0 + 1 * MS, SNAPSHOT),
        (T0 + 2 * MS, depth(101, 101, [["100.00", "1.100"]], [])),
        (T0 + 3 * MS, depth(101, 101, [["100.00", "1.100"]], [])),  # duplicate
        (T0 + 4 * MS, depth(102, 103, [["99.50", "2.500"]], [])),
        (T0 + 2_500 * MS, depth(104, 104, [["99.50", "2.600"]], [])),  # 2.496 s later
        (T0 + 2_501 * MS, depth(110, 111, [["99.50", "2.700"]], [])),  # gap: 105..109 lost
        (T0 + 2_502 * MS, depth(112, 112, [["99.50", "-1.000"]], [])),  # bad size
        (T0 + 2_503 * MS, depth(108, 109, [["99.50", "2.000"]], [])),  # out of order
    ]


def crossing_lines() -> list[tuple[int, dict]]:
    """A snapshot, then a diff that puts a bid above the best ask."""
    return [
        (T0 + 1 * MS, SNAPSHOT),
        (T0 + 2 * MS, depth(101, 101, [["100.60", "1.000"]], [])),
    ]


def write_capture(path: Path, lines) -> Path:
    """Write ``(recv_ns, frame)`` lines as an hftbacktest gzip file."""
    with gzip.open(path, "wb") as f:
        for ts, doc in lines:
            body = doc if isinstance(doc, str) else json.dumps(doc, separators=(",", ":"))
            f.write(f"{ts} {body}\n".encode())
    return path
