"""The ``backtest`` benchmark: replay throughput of a market maker over the real Binance capture.

Ours: :mod:`backtest` replaying the hftbacktest BTCUSDT spot session (both day files, about 10.8
minutes: its depth diffs and trades after the REST snapshot) through the reference
``market_maker`` on the whole engine path (books, strategy runner and context, risk pipeline with
every check on, order manager, the paper matching core with its queue and latency models). The
quoting loop is the peers' :class:`~engine.bench.peers_backtest.QuoteLoop` (one bid and one ask
``half_spread_ticks`` around the mid, ``size_lots`` each, 1 ms order latency each way). The events
are parsed into memory before the timing, as the peers convert theirs first; each repetition
builds a fresh run and times its replay.

* ``book_events_per_s``: book events (diffs, the snapshot) replayed per second of wall time;
* ``events_per_s``: book events and trades together (the peers' unit: depth and trade messages).

Peers (same run, same data): hftbacktest's numba backtest and NautilusTrader's BacktestEngine,
through :mod:`engine.bench.peers_backtest` in their own environment; a peer that cannot run is
reported as a missing row with the reason.

``profile_shares`` (cProfile over one replay) gives where the time goes, as per cent of the
replay: the venue side (matching core), the engine's books, the strategy dispatch (with the
market maker, its context, the risk checks and the OMS), report delivery, and housekeeping.
"""

from __future__ import annotations

import cProfile
import logging
import pstats
import time
from collections.abc import Iterator

import msgspec

from backtest.capture import CaptureSource
from backtest.config import BacktestConfig
from backtest.runner import prepare
from backtest.source import MarketEvent, TimeBase
from engine.bench.peers_backtest import (
    HFTBACKTEST,
    NAUTILUS,
    SPOT_BTCUSDT,
    PeerRun,
    QuoteLoop,
    run_hftbacktest,
    run_nautilus,
)
from engine.bench.report import Result, SubjectRun, missing, summarize
from engine.bench.setup import open_limits
from engine.book.order_book import warm_up as warm_up_book
from engine.core.instruments import Instrument

SUBJECT = "backtest"
OURS = "hft-tui backtest"
LOOP = QuoteLoop()
LIMITS = open_limits(
    max_order_notional="10000000", max_drawdown="1000000", daily_loss_limit="1000000"
)
"""Every check on, nothing refused: the loop is measured, not the limits."""


class _Memory:
    """The capture's events in memory, as a :class:`~backtest.source.Source`."""

    name = "capture in memory"

    def __init__(
        self, instruments: list[Instrument], events: list[tuple[int, MarketEvent]]
    ) -> None:
        self._instruments = instruments
        self._events = events

    @property
    def instruments(self) -> list[Instrument]:
        """The capture's one instrument."""
        return list(self._instruments)

    def span(self) -> tuple[int, int]:
        """First and last replay stamp."""
        return self._events[0][0], self._events[-1][0]

    def missing(self, start_ns: int, end_ns: int) -> list[str]:
        """Runs take the whole span: nothing is missing."""
        return []

    def events(self, end_ns: int, time: TimeBase) -> Iterator[tuple[int, MarketEvent]]:
        """The events, already in receive order."""
        return iter(self._events)


def _config() -> BacktestConfig:
    return BacktestConfig(
        params={
            "half_spread_ticks": LOOP.half_spread_ticks,
            "size_lots": LOOP.size_lots,
            "requote_ticks": LOOP.requote_ticks,
            "max_inventory_lots": LOOP.max_inventory_lots,
        },
        entry_latency_us=LOOP.order_latency_ns // 1000,
        response_latency_us=LOOP.order_latency_ns // 1000,
        feed_latency_us=LOOP.feed_latency_ns // 1000,
        risk=LIMITS,
    )


def load(max_events: int | None) -> _Memory:
    """The BTCUSDT session's events, parsed (outside any timing)."""
    source = CaptureSource([SPOT_BTCUSDT[0]])
    events = list(source.events(2**62, "recv"))
    if max_events is not None:
        events = events[: max_events + 1]  # the snapshot and max_events after it
    return _Memory(source.instruments, events)


def _replay_once(data: _Memory) -> tuple[float, int, int, int]:
    """(seconds, book events, trades, fills) of one fresh run's replay."""
    run, replay = prepare(_config(), data)
    start = time.perf_counter()
    replay.run()
    elapsed = time.perf_counter() - start
    return elapsed, run.book_events, run.trade_events, len(run.fills)


def profile(data: _Memory, top: int = 12) -> tuple[dict[str, float], list[str]]:
    """Per cent of one replay's time by component, and the top functions by own time."""
    _, replay = prepare(_config(), data)
    prof = cProfile.Profile()
    prof.enable()
    replay.run()
    prof.disable()
    stats = pstats.Stats(prof)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())  # own time of every function
    cum: dict[str, float] = {}
    for (path, _, name), (_, _, _, ct, _) in raw.items():
        cum["/".join(path.split("/")[-2:]) + f":{name}"] = ct
    wall = cum.get("backtest/replay.py:run", 0.0) or total
    parts = {
        "venue_matching": cum.get("backtest/gateway.py:on_market", 0.0),
        "engine_books": sum(
            cum.get(f"book/{module}.py:{name}", 0.0)
            for module in ("order_book", "ladder_book")
            for name in ("apply_delta", "apply_snapshot")
        ),
        "strategy_risk_oms": cum.get("strategy/runner.py:on_book", 0.0)
        + cum.get("strategy/runner.py:on_trade", 0.0),
        "report_delivery": cum.get("backtest/runner.py:deliver", 0.0),
        "housekeeping_samples": cum.get("backtest/runner.py:tick", 0.0),
    }
    shares = {k: round(100 * v / wall, 1) for k, v in parts.items()}
    shares["replay_loop_other"] = round(100 - sum(shares.values()), 1)
    own = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    tops = [
        f"{path.rsplit('/', 1)[-1]}:{name} {100 * tt / total:.1f}%"
        for (path, _, name), (_, _, tt, _, _) in own
    ]
    return shares, tops


def _peer_rows(peer: PeerRun, events: int) -> list[Result]:
    if peer.missing:
        return [missing(SUBJECT, peer.contestant, "events_per_s", "events/s", peer.missing)]
    return [summarize(SUBJECT, peer.contestant, "events_per_s", "events/s", peer.events_per_s)]


def run(quick: bool) -> SubjectRun:
    """Replay the capture through the market maker; the peers on the same data; a profile."""
    max_events, reps = (6_000, 2) if quick else (None, 3)
    logging.disable(logging.WARNING)
    try:
        warm_up_book()
        data = load(max_events)
        _replay_once(data)  # warm-up: imports, first-run allocations
        book_rates: list[float] = []
        rates: list[float] = []
        fills = 0
        book = trades = 0
        for _ in range(reps):
            elapsed, book, trades, fills = _replay_once(data)
            book_rates.append(book / elapsed)
            rates.append((book + trades) / elapsed)
        shares, tops = profile(data)
    finally:
        logging.disable(logging.NOTSET)
    results = [
        summarize(SUBJECT, OURS, "book_events_per_s", "book events/s", book_rates),
        summarize(SUBJECT, OURS, "events_per_s", "events/s", rates),
    ]
    results += [
        Result(
            subject=SUBJECT,
            contestant=OURS,
            metric=f"profile_{name}",
            unit="% of replay",
            median=share,
            min=share,
            max=share,
            reps=1,
        )
        for name, share in shares.items()
    ]
    peers = [
        run_hftbacktest(SPOT_BTCUSDT, loop=LOOP, reps=reps, max_events=max_events),
        run_nautilus(SPOT_BTCUSDT, loop=LOOP, reps=reps, max_events=max_events),
    ]
    for peer in peers:
        results += _peer_rows(peer, book + trades)
    details = "; ".join(
        f"{p.contestant}: {p.detail or p.missing} ({p.events} events, {p.orders} orders, "
        f"{p.fills} fills)"
        for p in peers
    )
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"market_maker over the BTCUSDT spot capture ({book} book events, {trades} trades"
            f"{', first ' + str(max_events) + ' events' if max_events else ''}), loop "
            f"{msgspec.json.encode(LOOP).decode()}, {reps} repetitions, {fills} fills per run; "
            f"top own time: {', '.join(tops)}; peers: {details}; "
            f"peer names {HFTBACKTEST}, {NAUTILUS}"
        ),
        results=results,
    )
