"""Real-time replay of many instruments' market data on one core: wire-to-book latency.

Each of ``n`` instruments replays the captured Binance spot session (depth diffs at 100 ms and
trades, at the times they were received) shifted by its own random offset within the 100 ms
depth cadence, so the instruments' frames do not all arrive at once. One loop on one core takes
every frame when it is due (spinning until then), parses it with that instrument's
:class:`~engine.venues.binance.protocol.BinanceSpotParser`, and for depth applies it through
:class:`~engine.venues.binance.sync.SpotBookSync` to its
:class:`~engine.book.order_book.OrderBook` and reads the best bid and ask. Wire-to-book latency
is the time from when a frame was due to when its book was updated (a frame still waiting
because the loop is behind counts its wait), so a core that cannot keep up shows at once.

This is the engine's per-frame work without the socket reads (the frames are in memory) and
without publishing to the UI.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from engine.bench.captures import BTCUSDT, Session
from engine.book.order_book import OrderBook
from engine.core.events import BookDelta
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.sync import SpotBookSync

DEPTH, TRADE = 0, 1


class Schedule(NamedTuple):
    """Every frame of every instrument in the order it is due."""

    due_ns: npt.NDArray[np.int64]
    """Due time relative to the start of the replay."""
    instrument: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]
    """:data:`DEPTH` or :data:`TRADE`."""
    frame: npt.NDArray[np.int64]
    """Index into the session's depth or trade frames."""


class Feeds:
    """``n`` instruments' parsers, syncs and books, each started from the session's snapshot."""

    def __init__(self, session: Session, n: int) -> None:
        self.session = session
        self.parsers = [BinanceSpotParser([BTCUSDT]) for _ in range(n)]
        self.books = [OrderBook(BTCUSDT.symbol) for _ in range(n)]
        self.syncs = [SpotBookSync(BTCUSDT, book) for book in self.books]
        for parser, sync in zip(self.parsers, self.syncs, strict=True):
            sync.on_snapshot(parser.parse_snapshot(session.snapshot, BTCUSDT, 0))
        self.depth_next = [0] * n
        """Each instrument's next depth frame (frames are taken in order, once each)."""


def schedule(session: Session, n: int, seconds: float, seed: int = 7) -> Schedule:
    """The first ``seconds`` of ``n`` instruments' frames, merged in due order."""
    rng = np.random.default_rng(seed)
    depth_t = np.asarray(session.depth_recv_ns, dtype=np.int64)
    trade_t = np.asarray(session.trades_recv_ns, dtype=np.int64)
    origin = depth_t[0]
    trade_from = int(np.searchsorted(trade_t, origin))
    depth_rel = depth_t - origin
    trade_rel = trade_t[trade_from:] - origin
    horizon = int(seconds * 1e9)
    parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    for i in range(n):
        offset = int(rng.integers(0, 100_000_000))
        d = np.flatnonzero(depth_rel + offset < horizon)
        t = np.flatnonzero(trade_rel + offset < horizon)
        parts.append((depth_rel[d] + offset, np.full(len(d), i), np.full(len(d), DEPTH), d))
        parts.append((trade_rel[t] + offset, np.full(len(t), i), np.full(len(t), TRADE),
                      t + trade_from))  # fmt: skip
    due = np.concatenate([p[0] for p in parts])
    order = np.argsort(due, kind="stable")
    return Schedule(
        due_ns=due[order].astype(np.int64),
        instrument=np.concatenate([p[1] for p in parts])[order].astype(np.int64),
        kind=np.concatenate([p[2] for p in parts])[order].astype(np.int64),
        frame=np.concatenate([p[3] for p in parts])[order].astype(np.int64),
    )


def replay(feeds: Feeds, plan: Schedule) -> tuple[npt.NDArray[np.int64], float]:
    """Run ``plan`` in real time; (wire-to-book latency per frame in ns, busy fraction)."""
    depth, trades = feeds.session.depth, feeds.session.trades
    parsers, syncs, books = feeds.parsers, feeds.syncs, feeds.books
    due_all = plan.due_ns.tolist()
    inst_all = plan.instrument.tolist()
    kind_all = plan.kind.tolist()
    index_all = plan.frame.tolist()
    latency = np.zeros(len(due_all), dtype=np.int64)
    now = time.perf_counter_ns
    start = now() + 1_000_000
    busy = 0
    for k, due in enumerate(due_all):
        at = start + due
        t = now()
        while t < at:
            t = now()
        i = inst_all[k]
        if kind_all[k] == DEPTH:
            event = parsers[i].parse_frame(depth[index_all[k]], t)
            assert isinstance(event, BookDelta)
            syncs[i].on_delta(event)
            book = books[i]
            book.best_bid()
            book.best_ask()
        else:
            parsers[i].parse_frame(trades[index_all[k]], t)
        done = now()
        busy += done - t
        latency[k] = done - at
    elapsed = max(1, now() - start)
    return latency, busy / elapsed
