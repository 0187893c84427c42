"""The ``book`` benchmark: raw depth frames to a readable book, ours against the peer pipelines.

What is timed, per contestant, over the same frames in the same run: each raw ``depthUpdate``
frame (bytes as received) is parsed, applied to a book that started from the REST snapshot, and
the best bid and ask are read back; ``pipeline`` is frames per second over the whole stream.
``top10_read`` is the time to read the best 10 levels per side of the final book (as the UI
publisher does), in nanoseconds.

Input: the captured Binance spot BTCUSDT session (:func:`engine.bench.captures.spot_session`),
else a seeded synthetic one; the input line says which.

Contestants:

* ``engine`` (ours): :class:`~engine.venues.binance.protocol.BinanceSpotParser` to integer ticks
  and lots, :class:`~engine.venues.binance.sync.SpotBookSync` (sequence checks, crossed-book
  check) onto :class:`~engine.book.order_book.OrderBook`; top 10 through ``top_arrays``.
* ``orjson+order-book``: what cryptofeed does, with float keys (its fastest form): ``orjson.loads``
  then the C ``order_book.OrderBook`` (``bids[price] = size``, ``del`` on zero).
* ``orjson+SortedDict``: ``orjson.loads``, floats, a sortedcontainers ``SortedDict`` per side.
* ``NautilusTrader``: in the peers' environment (:mod:`engine.bench.peers`): ``orjson.loads``,
  ``Price``/``Quantity`` from the text, ``OrderBookDelta`` per level into an L2 ``OrderBook``
  through ``apply_deltas``, reading ``best_bid_price``/``best_ask_price``.

A peer that is not installed (``uv run --group bench`` installs the small ones; NautilusTrader
needs the peers' environment) reports a row saying so. Every peer's final top 10 is checked
against ours before any figure is kept. Contestants take turns in a rotating order, after one
warm-up run each.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from engine.bench.captures import BTCUSDT, Session, spot_session
from engine.bench.peers import PeerUnavailable, PeerWorker, peer_worker
from engine.bench.report import Result, SubjectRun, missing, summarize
from engine.book.order_book import OrderBook
from engine.book.order_book import warm_up as warm_up_book
from engine.core.events import BookDelta
from engine.errors import EngineError
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.protocol import warm_up as warm_up_parser
from engine.venues.binance.sync import SpotBookSync

SUBJECT = "book"
OURS = "engine"
NAUTILUS = "NautilusTrader"
TOP_N = 10

Top = list[tuple[float, float]]


class BenchMismatch(EngineError):
    """Two contestants ended the same stream with different books: the figures would mislead."""


class Plan(NamedTuple):
    """How much to measure."""

    frames: int | None
    """Depth frames fed (None: the whole session)."""
    reads: int
    reps: int


QUICK = Plan(frames=2_000, reads=20_000, reps=3)
FULL = Plan(frames=None, reads=200_000, reps=7)


# ---- ours ---------------------------------------------------------------------------------------


def _ours(session: Session) -> tuple[float, OrderBook]:
    """Seconds for the whole stream, and the final book."""
    parser = BinanceSpotParser([BTCUSDT])
    book = OrderBook(BTCUSDT.symbol)
    sync = SpotBookSync(BTCUSDT, book)
    sync.on_snapshot(parser.parse_snapshot(session.snapshot, BTCUSDT, 0))
    parse, on_delta, best_bid, best_ask = (
        parser.parse_frame,
        sync.on_delta,
        book.best_bid,
        book.best_ask,
    )
    start = time.perf_counter_ns()
    for raw in session.depth:
        delta = parse(raw, 0)
        assert isinstance(delta, BookDelta)
        on_delta(delta)
        best_bid()
        best_ask()
    return (time.perf_counter_ns() - start) / 1e9, book


def _ours_top(book: OrderBook) -> Top:
    bids, asks = book.top(TOP_N)
    price, size = float(BTCUSDT.tick_size), float(BTCUSDT.lot_size)
    return [(p * price, s * size) for p, s in bids] + [(p * price, s * size) for p, s in asks]


# ---- in-process peers ---------------------------------------------------------------------------


class InProcessPeer(NamedTuple):
    """A peer pipeline: run the stream (seconds, final book), read its top 10."""

    run: Callable[[Session], tuple[float, Any]]
    top: Callable[[Any, int], Top]


def _snapshot_floats(loads: Callable[[bytes], Any], raw: bytes) -> tuple[list[Any], list[Any]]:
    body = loads(raw)
    return body["bids"], body["asks"]


def _c_side(side: Any, levels: list[list[str]]) -> None:  # noqa: ANN401 - order_book's side
    for p, q in levels:
        size = float(q)
        if size:
            side[float(p)] = size
        else:
            price = float(p)
            if price in side:
                del side[price]


def _order_book_peer() -> InProcessPeer | str:
    try:
        import orjson
        from order_book import OrderBook as CBook  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        return f"not installed ({exc.name}); uv run --group bench"
    loads = orjson.loads

    def run(session: Session) -> tuple[float, Any]:
        book = CBook()
        bids, asks = book.bids, book.asks
        snap_bids, snap_asks = _snapshot_floats(loads, session.snapshot)
        for p, q in snap_bids:
            bids[float(p)] = float(q)
        for p, q in snap_asks:
            asks[float(p)] = float(q)
        start = time.perf_counter_ns()
        for raw in session.depth:
            data = loads(raw)["data"]
            _c_side(bids, data["b"])
            _c_side(asks, data["a"])
            bids.index(0)
            asks.index(0)
        return (time.perf_counter_ns() - start) / 1e9, book

    def top(book: Any, n: int) -> Top:  # noqa: ANN401 - the peer's own type
        bids, asks = book.bids, book.asks
        return [bids.index(i) for i in range(min(n, len(bids)))] + [
            asks.index(i) for i in range(min(n, len(asks)))
        ]

    return InProcessPeer(run, top)


def _sorted_dict_peer() -> InProcessPeer | str:
    try:
        import orjson
        from sortedcontainers import SortedDict  # type: ignore[import-untyped, unused-ignore]
    except ImportError as exc:
        return f"not installed ({exc.name}); uv run --group bench"
    loads = orjson.loads

    def run(session: Session) -> tuple[float, Any]:
        snap_bids, snap_asks = _snapshot_floats(loads, session.snapshot)
        bids: Any = SortedDict({-float(p): float(q) for p, q in snap_bids})  # best bid first
        asks: Any = SortedDict({float(p): float(q) for p, q in snap_asks})
        start = time.perf_counter_ns()
        for raw in session.depth:
            data = loads(raw)["data"]
            for p, q in data["b"]:
                size = float(q)
                if size:
                    bids[-float(p)] = size
                else:
                    bids.pop(-float(p), None)
            for p, q in data["a"]:
                size = float(q)
                if size:
                    asks[float(p)] = size
                else:
                    asks.pop(float(p), None)
            bids.peekitem(0)
            asks.peekitem(0)
        return (time.perf_counter_ns() - start) / 1e9, (bids, asks)

    def top(book: Any, n: int) -> Top:  # noqa: ANN401 - the peer's own type
        bids, asks = book
        return [(-k, bids[k]) for k in bids.islice(0, n)] + [
            (k, asks[k]) for k in asks.islice(0, n)
        ]

    return InProcessPeer(run, top)


def _time_reads(read: Callable[[], object], reads: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(reads):
        read()
    return (time.perf_counter_ns() - start) / reads


def _agree(name: str, got: Top, expected: Top) -> None:
    if len(got) != len(expected) or any(
        abs(a[0] - b[0]) > 1e-6 or abs(a[1] - b[1]) > 1e-9
        for a, b in zip(got, expected, strict=True)
    ):
        raise BenchMismatch(f"{name}'s top {TOP_N} differs from {OURS}'s after the stream")


def _say(message: str) -> None:
    sys.stderr.write(f"[bench book] {message}\n")


# ---- NautilusTrader, in the peers' environment --------------------------------------------------


class _Nautilus:
    """The peers' worker, loaded with the same frames (written to a file it reads once)."""

    def __init__(self, worker: PeerWorker, session: Session, folder: Path) -> None:
        frames = folder / "frames.jsonl"
        with frames.open("wb") as f:
            f.write(session.snapshot + b"\n")
            for raw in session.depth:
                f.write(raw + b"\n")
        self.worker = worker
        loaded = worker.call(
            {
                "op": "book_load",
                "frames": str(frames),
                "tick_size": BTCUSDT.tick_size,
                "lot_size": BTCUSDT.lot_size,
            }
        )
        self.version = str(loaded.get("version", "?"))

    def rep(self, reads: int) -> tuple[float, float, Top]:
        """(seconds for the stream, ns per top-10 read, final top 10)."""
        answer = self.worker.call({"op": "book_rep", "reads": reads, "n": TOP_N})
        top = [(float(p), float(q)) for p, q in answer["top"]]
        return float(answer["seconds"]), float(answer["read_ns"]), top


# ---- the run ------------------------------------------------------------------------------------


def _measure(
    plan: Plan, session: Session, worker: PeerWorker | None, why: str
) -> tuple[list[Result], str]:
    """Rows for every contestant, and the NautilusTrader version raced ("" when it was not)."""
    warm_up_book()
    warm_up_parser()
    peers: dict[str, InProcessPeer] = {}
    rows: list[Result] = []
    for name, make in (
        ("orjson+order-book", _order_book_peer),
        ("orjson+SortedDict", _sorted_dict_peer),
    ):
        peer = make()
        if isinstance(peer, str):
            rows += [
                missing(SUBJECT, name, "pipeline", "frames/s", peer),
                missing(SUBJECT, name, "top10_read", "ns", peer),
            ]
        else:
            peers[name] = peer
    out = np.zeros((4, TOP_N), dtype=np.int64)
    _say("warming up")
    _, book = _ours(session)
    expected = _ours_top(book)
    for name, peer in peers.items():
        _, state = peer.run(session)
        _agree(name, peer.top(state, TOP_N), expected)
    nautilus: _Nautilus | None = None
    if worker is not None:
        with tempfile.TemporaryDirectory(prefix="hft-bench-book-") as folder:
            try:
                nautilus = _Nautilus(worker, session, Path(folder))
                _, _, top = nautilus.rep(10)
                _agree(NAUTILUS, top, expected)
            except PeerUnavailable as exc:
                why, nautilus = str(exc), None
    contestants = [OURS, *peers] + ([NAUTILUS] if nautilus else [])
    rates: dict[str, list[float]] = {c: [] for c in contestants}
    reads: dict[str, list[float]] = {c: [] for c in contestants}
    frames = len(session.depth)
    for rep in range(plan.reps):
        _say(f"repetition {rep + 1} of {plan.reps}")
        shift = rep % len(contestants)
        for name in contestants[shift:] + contestants[:shift]:
            if name == OURS:
                seconds, book = _ours(session)
                read = _time_reads(partial(book.top_arrays, TOP_N, out), plan.reads)
            elif name == NAUTILUS:
                assert nautilus is not None
                seconds, read, _ = nautilus.rep(plan.reads)
            else:
                peer = peers[name]
                seconds, state = peer.run(session)
                read = _time_reads(partial(peer.top, state, TOP_N), plan.reads)
            rates[name].append(frames / seconds)
            reads[name].append(read)
    for name in contestants:
        rows.append(summarize(SUBJECT, name, "pipeline", "frames/s", rates[name]))
        rows.append(summarize(SUBJECT, name, "top10_read", "ns", reads[name]))
    if nautilus is None:
        rows += [
            missing(SUBJECT, NAUTILUS, "pipeline", "frames/s", why),
            missing(SUBJECT, NAUTILUS, "top10_read", "ns", why),
        ]
    return rows, nautilus.version if nautilus else ""


def run(quick: bool, plan: Plan | None = None, *, with_peers_env: bool = True) -> SubjectRun:
    """Race every contestant over the session's frames; ``plan`` overrides what ``quick`` picks.

    Raises:
        BenchMismatch: a peer's book differs from ours after the stream.
    """
    plan = plan or (QUICK if quick else FULL)
    session = spot_session(limit=plan.frames)
    levels = _levels(session)
    if with_peers_env and os.environ.get("HFT_BENCH_NO_PEERS_ENV") != "1":
        try:
            with peer_worker() as worker:
                rows, version = _measure(plan, session, worker, "")
        except PeerUnavailable as exc:
            rows, version = _measure(plan, session, None, str(exc))
    else:
        rows, version = _measure(plan, session, None, "the peers' environment was not used")
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"{session.source}: {len(session.depth):,} frames with {levels:,} levels, fed as raw "
            f"bytes, each parsed, applied and its best bid/ask read; top-{TOP_N} read "
            f"{plan.reads:,} times; {plan.reps} repetitions interleaved after a warm-up"
            + (f"; NautilusTrader {version} in the peers' environment" if version else "")
        ),
        results=rows,
    )


def _levels(session: Session) -> int:
    import msgspec

    total = 0
    for raw in session.depth:
        data = msgspec.json.decode(raw)["data"]
        total += len(data["b"]) + len(data["a"])
    return total
