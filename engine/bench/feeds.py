"""Bench subject ``feeds``: every venue's real capture parsed and applied to books, end to end.

Per venue, the capture in ``../shared/data`` goes frame by frame through the venue's own replayer
(:mod:`engine.data.venues`: the same parser and book sync the live feed runs, compiled level
readers loaded), exactly as ``hft-tui data replay`` does, minus the output. Two figures:

- ``throughput``: frames parsed and applied per second of time spent in the replayer
  (acknowledgements, tickers and other channels included, since a feed reads them too);
- ``parse_apply_p50`` / ``parse_apply_p99``: the time one frame takes from the replayer's entry
  to its book being updated, per frame, by ``perf_counter_ns`` around each call. A capture's own
  timestamps are the venue's and the capturing machine's, not ours, so they cannot give a
  wire-to-book figure on replay; this is the in-process part of it (the live figure, frame
  receipt to book updated, is the engine's ``hft_wire_to_book_seconds``).

Reading and decompressing the files, choosing the grids and filtering one socket's frames are
outside the timing. ``--quick`` takes at most :data:`QUICK_FRAMES` frames of each capture and one
repetition.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from engine.bench.captures import SHARED_DATA
from engine.bench.report import Result, SubjectRun, missing, summarize
from engine.core.instruments import Instrument
from engine.data.binance import BinanceReplay
from engine.data.captures import read_capture
from engine.data.sources import capture_instruments
from engine.data.venues import replayer

SUBJECT = "feeds"
QUICK_FRAMES = 20_000
"""Frames per capture in a quick run."""
_UNIT_RATE = "frames/s"
_UNIT_TIME = "us"


class Capture(NamedTuple):
    """One venue's capture and the grids it is replayed on."""

    venue: str
    source: str
    """The capture format (:data:`engine.data.captures.FORMATS`)."""
    files: tuple[str, ...]
    """Paths under ``../shared/data``."""
    symbols: tuple[str, ...]
    """``SYMBOL:TICK:LOT``, or bare symbols for a Binance capture whose grid is inferred."""


CAPTURES: tuple[Capture, ...] = (
    Capture(
        "binance",
        "hftbacktest",
        ("hftbacktest/spot/btcusdt_20240808.gz", "hftbacktest/spot/btcusdt_20240809.gz"),
        (),
    ),
    Capture(
        "binance-usdm",
        "hftbacktest",
        ("hftbacktest/usdm/btcusdt_20240718.gz", "hftbacktest/usdm/btcusdt_20240719.gz"),
        (),
    ),
    Capture(
        "binance-coinm",
        "hftbacktest",
        ("hftbacktest/cm/btcusd_perp_20240808.gz", "hftbacktest/cm/btcusd_perp_20240809.gz"),
        (),
    ),
    # grids from the instruments-info answers recorded in the same capture
    Capture(
        "bybit-linear",
        "cryptofeed",
        ("cryptofeed-v3/BYBIT.jsonl.zst",),
        (
            "BTCUSDT:0.10:0.001",
            "ETHUSDT:0.01:0.01",
            "SOLUSDT:0.010:0.1",
            "DOGEUSDT:0.00001:1",
        ),
    ),
    Capture(
        "bybit-spot",
        "cryptofeed",
        ("cryptofeed-v3/BYBIT.jsonl.zst",),
        ("BTCUSDT:0.1:0.000001", "ETHUSDT:0.01:0.00001"),
    ),
    # the 2022 capture carries no instrument data: the coarsest grids every value fits
    Capture(
        "okx",
        "cryptofeed",
        ("cryptofeed/OKX.ws.1.0",),
        ("BTC-USDT:0.1:0.00000001", "BTC-USD-220527:0.1:1", "UNI-USD-SWAP:0.001:1"),
    ),
    # Kraken v1 writes prices at the pair's decimals and volumes at 8 (its checksum's text)
    Capture(
        "kraken",
        "cryptofeed",
        ("cryptofeed/KRAKEN.ws.50.0",),
        (
            "WAVES/EUR:0.000001:0.00000001",
            "XMR/USD:0.00000001:0.00000001",
            "KSM/XBT:0.00000001:0.00000001",
            "GRT/ETH:0.000000001:0.00000001",
            "SC/EUR:0.000001:0.00000001",
            "ETH/CHF:0.00001:0.00000001",
            "OCEAN/XBT:0.000000001:0.00000001",
            "OMG/USD:0.000001:0.00000001",
            "XBT/CHF:0.00001:0.00000001",
            "ADA/XBT:0.000000001:0.00000001",
        ),
    ),
    Capture(
        "coinbase",
        "cryptofeed",
        ("cryptofeed-v3/COINBASE.jsonl.zst",),
        ("BTC-USD:0.01:0.00000001", "ETH-USD:0.01:0.00000001"),
    ),
    Capture(
        "hyperliquid",
        "hftbacktest",
        ("hftbacktest/hyperliquid/btcusd_20250126.gz",),
        ("BTC:1:0.00001",),
    ),
)
"""Every venue's capture, in the order the table lists them."""


class VenueRun(NamedTuple):
    """One repetition over one venue's capture."""

    frames: int
    applied: int
    seconds: float
    """Time spent inside the replayer."""
    per_frame_ns: np.ndarray


Frame = tuple[int, bytes, str]


def load(capture: Capture, root: Path, limit: int | None) -> tuple[list[Frame], list[Instrument]]:
    """The frames the venue's replayer takes, in order, and the instruments to build it with.

    Raises:
        engine.data.captures.CaptureError: a file cannot be read.
    """
    records = list(read_capture(capture.source, [root / f for f in capture.files]))
    found = capture_instruments(capture.venue, records, symbols=capture.symbols)
    probe = replayer(capture.venue, found.instruments)
    accepts = getattr(probe, "accepts_stream", None)
    binance = isinstance(probe, BinanceReplay)
    frames: list[Frame] = []
    for rec in records:
        if not binance and rec.stream.startswith(("http://", "https://")):
            continue
        if accepts is not None and not accepts(rec.stream):
            continue
        frames.append((rec.recv_ns, rec.payload, rec.stream))
        if limit is not None and len(frames) >= limit:
            break
    return frames, found.instruments


def replay_once(venue: str, frames: Sequence[Frame], instruments: list[Instrument]) -> VenueRun:
    """Feed every frame to a fresh replayer, timing each call."""
    rep = replayer(venue, instruments)
    times = np.zeros(len(frames), dtype=np.int64)
    clock = time.perf_counter_ns
    if isinstance(rep, BinanceReplay):
        rep.keep_rows = False
        feed_b = rep.feed
        for n, (recv_ns, payload, stream) in enumerate(frames):
            start = clock()
            feed_b(recv_ns, payload, stream)
            times[n] = clock() - start
    else:
        feed = rep.feed
        for n, (recv_ns, payload, _) in enumerate(frames):
            start = clock()
            feed(recv_ns, payload)
            times[n] = clock() - start
    total = int(times.sum())
    return VenueRun(len(frames), rep.stats.applied, total / 1e9, times)


def _warm_up() -> None:
    from engine.jit import KernelLoadError
    from engine.venues.binance.protocol import use_compiled_readers

    with contextlib.suppress(KernelLoadError):  # the general path: slower, the same books
        use_compiled_readers()


def measure(quick: bool, root: Path = SHARED_DATA) -> tuple[list[Result], str]:
    """Every venue's figures, and the input line."""
    reps = 1 if quick else 5
    limit = QUICK_FRAMES if quick else None
    _warm_up()
    results: list[Result] = []
    described: list[str] = []
    for capture in CAPTURES:
        if not all((root / f).is_file() for f in capture.files):
            reason = f"capture {', '.join(capture.files)} not found under {root}"
            for metric, unit in (
                ("throughput", _UNIT_RATE),
                ("parse_apply_p50", _UNIT_TIME),
                ("parse_apply_p99", _UNIT_TIME),
            ):
                results.append(missing(SUBJECT, capture.venue, metric, unit, reason))
            continue
        frames, instruments = load(capture, root, limit)
        replay_once(capture.venue, frames[:2000], instruments)  # first-call costs
        runs = [replay_once(capture.venue, frames, instruments) for _ in range(reps)]
        rates = [r.frames / r.seconds for r in runs if r.seconds > 0]
        p50 = [float(np.percentile(r.per_frame_ns, 50)) / 1000 for r in runs]
        p99 = [float(np.percentile(r.per_frame_ns, 99)) / 1000 for r in runs]
        results += [
            summarize(SUBJECT, capture.venue, "throughput", _UNIT_RATE, rates),
            summarize(SUBJECT, capture.venue, "parse_apply_p50", _UNIT_TIME, p50),
            summarize(SUBJECT, capture.venue, "parse_apply_p99", _UNIT_TIME, p99),
        ]
        described.append(f"{capture.venue} {len(frames)} frames ({runs[0].applied} book updates)")
    line = (
        f"real captures in ../shared/data, {reps} repetition(s) each"
        f"{f', at most {QUICK_FRAMES} frames a capture' if quick else ''}: "
        + "; ".join(described)
        + ". Times per frame by perf_counter_ns around each replayer call (the captures' own"
        " timestamps are not ours)"
    )
    return results, line


def run(quick: bool) -> SubjectRun:
    """The ``feeds`` subject for ``python -m engine.bench``."""
    results, described = measure(quick)
    return SubjectRun(subject=SUBJECT, ours="", input=described, results=results)
