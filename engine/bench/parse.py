"""Benchmark: Binance spot frames to integer ticks and lots, against the peer JSON paths.

Contestants, all timed on the same frames in the same run:

- ``json``: stdlib ``json.loads`` to Python objects (prices stay strings).
- ``orjson``: ``orjson.loads`` to Python objects (prices stay strings), when installed
  (``uv run --group bench``); otherwise its rows say it is missing.
- ``msgspec-untyped``: ``msgspec.json.decode`` to Python objects (prices stay strings).
- ``msgspec-typed``: ``msgspec`` into a typed struct with string levels (no integers yet).
- ``json+DecimalGrid``: ``json.loads`` then exact ``DecimalGrid.to_int`` per price and size.
- ``msgspec+strip-dot``: typed ``msgspec`` then the padded-decimal trick: drop the ``.``,
  ``int()``, check and divide by the step, per price and size (exact for Binance's padding).
- ``BinanceSpotParser`` (ours): frame bytes straight to ``int64`` arrays in a
  :class:`~engine.core.events.BookDelta`, or a :class:`~engine.core.events.Trade`, validated.

Only the last three produce what the engine needs (exact integer ticks and lots). Frames are the
captured Binance BTCUSDT session in ``../shared/data/hftbacktest/spot`` when it is there, else a
seeded synthetic session of the same shape. Each row reports nanoseconds per frame; contestants
take turns within each repetition so a busy machine slows them alike.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from engine.bench.report import Result, SubjectRun, missing, summarize
from engine.core.instruments import DecimalGrid, Instrument
from engine.venues.binance.protocol import BinanceSpotParser, warm_up

SUBJECT = "parse"
OURS = "BinanceSpotParser"
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
BTCUSDT = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.000001")
_PAD = 8  # Binance spot prints prices and sizes with 8 decimals


class _Levels(msgspec.Struct):
    b: list[tuple[str, str]]
    a: list[tuple[str, str]]


class _DepthFrame(msgspec.Struct):
    stream: str
    data: _Levels


class _TradeData(msgspec.Struct):
    p: str
    q: str


class _TradeFrame(msgspec.Struct):
    stream: str
    data: _TradeData


def _captured_frames(limit: int) -> tuple[list[bytes], list[bytes], str]:
    depth: list[bytes] = []
    trades: list[bytes] = []
    path = SHARED_DATA / "hftbacktest" / "spot" / "btcusdt_20240808.gz"
    with gzip.open(path, "rb") as f:
        for line in f:
            payload = line.rstrip(b"\n").partition(b" ")[2]
            if b'"depthUpdate"' in payload[:80] and len(depth) < limit:
                depth.append(payload)
            elif b'@trade"' in payload[:40] and len(trades) < limit:
                trades.append(payload)
            if len(depth) >= limit and len(trades) >= limit:
                break
    return depth, trades, "captured hftbacktest BTCUSDT spot"


def _synthetic_frames(limit: int) -> tuple[list[bytes], list[bytes], str]:
    rng = random.Random(7)
    depth: list[bytes] = []
    trades: list[bytes] = []
    mid = 6_500_000
    update_id = 50_000_000_000

    def text(units: int, decimals: int) -> str:
        return f"{units // 10**decimals}.{units % 10**decimals:0{decimals}d}" + "0" * (
            _PAD - decimals
        )

    for n in range(limit):
        n_levels = max(1, int(rng.lognormvariate(3.0, 0.8)))
        bids = [
            [text(mid - rng.randrange(1, 5000), 2), text(rng.randrange(0, 5_000_000), 6)]
            for _ in range(n_levels // 2 + 1)
        ]
        asks = [
            [text(mid + rng.randrange(1, 5000), 2), text(rng.randrange(0, 5_000_000), 6)]
            for _ in range(n_levels // 2)
        ]
        first = update_id + 1
        update_id += rng.randrange(1, 40)
        data = {
            "e": "depthUpdate",
            "E": 1_723_161_255_000 + 100 * n,
            "s": "BTCUSDT",
            "U": first,
            "u": update_id,
            "b": bids,
            "a": asks,
        }
        depth.append(msgspec.json.encode({"stream": "btcusdt@depth@100ms", "data": data}))
        trade = {
            "e": "trade",
            "E": 1_723_161_255_000 + 100 * n,
            "s": "BTCUSDT",
            "t": 3_735_683_259 + n,
            "p": text(mid + rng.randrange(-50, 50), 2),
            "q": text(rng.randrange(1, 2_000_000), 6),
            "T": 1_723_161_255_000 + 100 * n,
            "m": rng.random() < 0.5,
            "M": True,
        }
        trades.append(msgspec.json.encode({"stream": "btcusdt@trade", "data": trade}))
    return depth, trades, "synthetic BTCUSDT-like session (seed 7)"


def _strip_dot(text: str, divisor: int) -> int:
    """Padded decimal text to steps: remove the point, int(), check and divide."""
    if text.find(".") != len(text) - _PAD - 1:
        raise ValueError(f"{text!r} is not padded to {_PAD} decimals")
    steps, rest = divmod(int(text.replace(".", "")), divisor)
    if rest:
        raise ValueError(f"{text!r} is off the grid")
    return steps


def _contestants(
    instrument: Instrument,
) -> dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]]:
    """Per contestant: (depth frame -> result, trade frame -> result)."""
    price, size = instrument.price_grid(), instrument.size_grid()
    px_div = int(price.step * 10**_PAD)
    sz_div = int(size.step * 10**_PAD)
    depth_typed = msgspec.json.Decoder(_DepthFrame)
    trade_typed = msgspec.json.Decoder(_TradeFrame)
    untyped = msgspec.json.Decoder()
    parser = BinanceSpotParser([instrument])

    def decimal_depth(raw: bytes) -> tuple[list[int], ...]:
        data = json.loads(raw)["data"]
        return _sides(data["b"], data["a"], price, size)

    def decimal_trade(raw: bytes) -> tuple[int, int]:
        data = json.loads(raw)["data"]
        return price.to_int(data["p"]), size.to_int(data["q"])

    def strip_depth(raw: bytes) -> tuple[Any, ...]:
        data = depth_typed.decode(raw).data
        out = []
        for side in (data.b, data.a):
            out.append(np.array([_strip_dot(p, px_div) for p, _ in side], dtype=np.int64))
            out.append(np.array([_strip_dot(q, sz_div) for _, q in side], dtype=np.int64))
        return tuple(out)

    def strip_trade(raw: bytes) -> tuple[int, int]:
        data = trade_typed.decode(raw).data
        return _strip_dot(data.p, px_div), _strip_dot(data.q, sz_div)

    peers: dict[str, tuple[Callable[[bytes], Any], Callable[[bytes], Any]]] = {
        "json": (json.loads, json.loads)
    }
    try:
        import orjson
    except ImportError:
        pass
    else:
        peers["orjson"] = (orjson.loads, orjson.loads)
    return {
        **peers,
        "msgspec-untyped": (untyped.decode, untyped.decode),
        "msgspec-typed": (depth_typed.decode, trade_typed.decode),
        "json+DecimalGrid": (decimal_depth, decimal_trade),
        "msgspec+strip-dot": (strip_depth, strip_trade),
        OURS: (lambda raw: parser.parse_frame(raw, 0), lambda raw: parser.parse_frame(raw, 0)),
    }


def _sides(
    bids: list[list[str]], asks: list[list[str]], price: DecimalGrid, size: DecimalGrid
) -> tuple[list[int], ...]:
    return (
        [price.to_int(p) for p, _ in bids],
        [size.to_int(q) for _, q in bids],
        [price.to_int(p) for p, _ in asks],
        [size.to_int(q) for _, q in asks],
    )


def _check_agreement(depth: list[bytes], trades: list[bytes], instrument: Instrument) -> None:
    """The integer-producing contestants must agree exactly before any of them is timed."""
    runs = _contestants(instrument)
    for raw in depth[:200]:
        ours = runs[OURS][0](raw)
        expected = [
            ours.bid_px.tolist(),
            ours.bid_sz.tolist(),
            ours.ask_px.tolist(),
            ours.ask_sz.tolist(),
        ]
        assert list(runs["json+DecimalGrid"][0](raw)) == expected
        assert [a.tolist() for a in runs["msgspec+strip-dot"][0](raw)] == expected
    for raw in trades[:200]:
        trade = runs[OURS][1](raw)
        assert runs["json+DecimalGrid"][1](raw) == (trade.price, trade.size)
        assert runs["msgspec+strip-dot"][1](raw) == (trade.price, trade.size)


def _time_per_frame(fn: Callable[[bytes], Any], frames: list[bytes]) -> float:
    start = time.perf_counter_ns()
    for raw in frames:
        fn(raw)
    return (time.perf_counter_ns() - start) / len(frames)


def _measure(quick: bool) -> tuple[list[Result], str]:
    limit, reps = (300, 3) if quick else (2000, 9)
    if (SHARED_DATA / "hftbacktest" / "spot" / "btcusdt_20240808.gz").is_file():
        depth, trades, source = _captured_frames(limit)
    else:
        depth, trades, source = _synthetic_frames(limit)
    warm_up()
    _check_agreement(depth, trades, BTCUSDT)
    contestants = _contestants(BTCUSDT)
    workloads = (("depth_frame", 0, depth), ("trade_frame", 1, trades))
    samples: dict[tuple[str, str], list[float]] = {}
    for name, (on_depth, on_trade) in contestants.items():
        on_depth(depth[0])  # first-call costs (compiles, caches) are not part of the race
        on_trade(trades[0])
        for metric, _, _ in workloads:
            samples[name, metric] = []
    names = list(contestants)
    for rep in range(reps):
        order = names[rep % len(names) :] + names[: rep % len(names)]  # spread machine drift
        for name in order:
            for metric, which, frames in workloads:
                samples[name, metric].append(_time_per_frame(contestants[name][which], frames))
    results = [
        summarize(SUBJECT, name, metric, "ns/frame", values)
        for (name, metric), values in samples.items()
    ]
    if "orjson" not in contestants:
        results += [
            missing(SUBJECT, "orjson", metric, "ns/frame", "not installed; uv run --group bench")
            for metric, _, _ in workloads
        ]
    described = (
        f"{source}: {len(depth)} depth frames (mean {_mean_levels(depth):.0f} levels) and "
        f"{len(trades)} trade frames, {reps} repetitions"
    )
    return results, described


def _mean_levels(frames: list[bytes]) -> float:
    total = 0
    for raw in frames:
        data = msgspec.json.decode(raw)["data"]
        total += len(data["b"]) + len(data["a"])
    return total / len(frames)


def run_parse_bench(quick: bool) -> list[dict[str, Any]]:
    """Time every contestant on depth and trade frames.

    Args:
        quick: fewer frames and repetitions, for a smoke run.

    Returns:
        One row per contestant and workload: ``{"subject": "parse", "contestant", "metric",
        "unit", "median", "min", "max", "reps"}``; times are nanoseconds per frame.
    """
    results, _ = _measure(quick)
    return [msgspec.structs.asdict(r) for r in results]


def run(quick: bool) -> SubjectRun:
    """The ``parse`` subject for ``python -m engine.bench``."""
    results, described = _measure(quick)
    return SubjectRun(subject=SUBJECT, ours=OURS, input=described, results=results)
