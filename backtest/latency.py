"""Latency sensitivity: the same run with more order latency, and how fast PnL decays with it.

Each run adds ``extra`` ms to both order legs (entry and response, so the round trip grows by
twice that); everything else, the data and the seed included, stays the same. The curve is net
PnL against the added one-way latency; the sensitivity coefficient is its least-squares slope in
quote currency per added millisecond, also given relative to the PnL at +0 ms (per cent of it
lost per millisecond; 0 when that PnL is 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from backtest.catalog_source import SourceSpec
from backtest.config import BacktestConfig
from backtest.sweep import run_configs

DEFAULT_STEPS_MS = (0, 1, 5, 10, 50)


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The least-squares slope of ys over xs (0 for fewer than two distinct xs)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def latency_curve(
    base: BacktestConfig,
    source: SourceSpec,
    steps_ms: Sequence[float] = DEFAULT_STEPS_MS,
    *,
    executor: object = "local",
    workers: int = 2,
) -> dict[str, Any]:
    """Net PnL (and fills) at each added latency, the slope and the relative sensitivity."""
    configs = [msgspec.structs.replace(base, extra_latency_us=int(ms * 1000)) for ms in steps_ms]
    done = run_configs(configs, source, executor=executor, workers=workers)
    rows = [{"added_ms": ms, **row} for ms, row in zip(steps_ms, done, strict=True)]
    ok = [r for r in rows if r["status"] != "failed"]
    xs = [float(r["added_ms"]) for r in ok]
    ys = [float(r["net"]) for r in ok]
    coefficient = slope(xs, ys)
    at_zero = next((float(r["net"]) for r in ok if r["added_ms"] == 0), 0.0)
    return {
        "legs": "added to entry and response each (round trip +2x)",
        "curve": [
            {
                "added_ms": r["added_ms"],
                "net": r["net"],
                "fills": r["fills"],
                "status": r["status"],
            }
            for r in rows
        ],
        "sensitivity_per_ms": coefficient,
        "sensitivity_unit": "quote currency of net PnL per added ms",
        "relative_per_ms": coefficient / abs(at_zero) if at_zero else 0.0,
    }
