"""The ``book`` benchmark: our tick-indexed ladder against dict-based books, on one diff stream.

The input is a seeded synthetic Binance-like stream for a 0.01-tick instrument near 60,000.00
(6,000,000 ticks): a 1,000-level snapshot per side spanning about 20,000 ticks, then diffs whose
shape follows a captured BTCUSDT session: a lognormal number of levels per diff (median 16),
about 40% deletes, and distances from the touch of which roughly 40% fall within 100 ticks, 30%
within 4,096, 15% within 12,288 and 15% up to 600,000 (beyond our default window, so the
overflow store is exercised). The mid random-walks and each diff deletes the levels its move
swept, so the book stays uncrossed. Nothing is parsed: every contestant gets its input
pre-built, ours as int64 arrays and the peers as Python lists (the cheapest form for them).

* ``diff_apply``: nanoseconds per diff to apply the whole stream to a book holding the snapshot.
* ``top10_read``: nanoseconds to read the best 10 levels per side of the final book; ours through
  :meth:`~engine.book.order_book.OrderBook.top_arrays` (the publishing path), the peers as lists
  of (price, size) pairs.
* ``top10_lists`` (ours only): the same read through :meth:`OrderBook.top` as lists of pairs.

Peers: ``dict+sorted_keys`` (a dict per side plus a sorted key list kept with :mod:`bisect`) and,
when installed, ``SortedDict`` from sortedcontainers. Every contestant's book is checked against
ours after the stream, so the figures compare books that agree. Contestants are interleaved, in a
rotating order, after one warm-up run each.
"""

from __future__ import annotations

import statistics
import sys
import time
from bisect import bisect_left, insort
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from engine.bench.report import Result, SubjectRun
from engine.book.order_book import OrderBook, warm_up
from engine.errors import EngineError

SUBJECT = "book"
OURS = "ladder"
SEED = 20240808
MID = 6_000_000
"""Starting mid in ticks (60,000.00 at a 0.01 tick)."""
SNAPSHOT_LEVELS = 1000
TOP_N = 10

Int64Array = npt.NDArray[np.int64]
Level = tuple[int, int]


class BenchMismatch(EngineError):
    """Two contestants ended the same stream with different books: the figures would mislead."""


class Plan(NamedTuple):
    """How much to measure."""

    diffs: int
    reads: int
    reps: int


QUICK = Plan(diffs=3_000, reads=20_000, reps=3)
FULL = Plan(diffs=20_000, reads=200_000, reps=7)


class Stream(NamedTuple):
    """A snapshot and diffs, each as (bid_px, bid_sz, ask_px, ask_sz) in two forms."""

    snapshot: tuple[Int64Array, Int64Array, Int64Array, Int64Array]
    diffs: list[tuple[Int64Array, Int64Array, Int64Array, Int64Array]]
    snapshot_lists: tuple[list[int], list[int], list[int], list[int]]
    diffs_lists: list[tuple[list[int], list[int], list[int], list[int]]]
    levels: int
    """Levels in all diffs together."""


def _distances(rng: np.random.Generator, n: int) -> Int64Array:
    """Distances from the touch in ticks, in the proportions of the captured session."""
    bands = rng.choice(4, size=n, p=[0.40, 0.30, 0.15, 0.15])
    low = np.array([0, 100, 4096, 12288])[bands]
    high = np.array([100, 4096, 12288, 600_000])[bands]
    return rng.integers(low, high).astype(np.int64)


def make_stream(n_diffs: int, seed: int = SEED) -> Stream:
    """The seeded synthetic stream described in the module docstring."""
    rng = np.random.default_rng(seed)
    near = np.arange(1, 51)
    far = rng.choice(np.arange(51, 20_600), size=SNAPSHOT_LEVELS - 50, replace=False)
    offsets = np.sort(np.concatenate([near, far])).astype(np.int64)
    snap_sizes = rng.integers(1, 10**6, size=(2, SNAPSHOT_LEVELS)).astype(np.int64)
    snapshot = (MID - offsets, snap_sizes[0], MID + offsets, snap_sizes[1])
    counts = np.clip(rng.lognormal(np.log(16), 1.0, size=n_diffs), 1, 500).astype(np.int64)
    diffs = []
    mid = MID
    for count in counts.tolist():
        move = int(rng.integers(-3, 4))
        # the move swept these prices off the side it moved into: the venue deletes them
        swept = np.arange(mid + 1, mid + move + 1) if move > 0 else np.arange(mid + move, mid)
        mid += move
        sides = rng.random(count) < 0.5
        distance = _distances(rng, count)
        sizes = np.where(rng.random(count) < 0.4, 0, rng.integers(1, 10**6, size=count))
        bid_px = mid - 1 - distance[sides]
        ask_px = mid + 1 + distance[~sides]
        swept_zero = np.zeros(len(swept), dtype=np.int64)
        if move > 0:
            ask_px = np.concatenate([swept, ask_px])
            ask_sz = np.concatenate([swept_zero, sizes[~sides]])
            bid_sz = sizes[sides]
        else:
            bid_px = np.concatenate([swept, bid_px])
            bid_sz = np.concatenate([swept_zero, sizes[sides]])
            ask_sz = sizes[~sides]
        diffs.append((_int64(bid_px), _int64(bid_sz), _int64(ask_px), _int64(ask_sz)))
    return Stream(
        snapshot=snapshot,
        diffs=diffs,
        snapshot_lists=_lists(snapshot),
        diffs_lists=[_lists(diff) for diff in diffs],
        levels=sum(len(diff[0]) + len(diff[2]) for diff in diffs),
    )


def _int64(values: npt.NDArray[Any]) -> Int64Array:
    return np.ascontiguousarray(values, dtype=np.int64)


def _lists(
    arrays: tuple[Int64Array, Int64Array, Int64Array, Int64Array],
) -> tuple[list[int], list[int], list[int], list[int]]:
    bid_px, bid_sz, ask_px, ask_sz = arrays
    return bid_px.tolist(), bid_sz.tolist(), ask_px.tolist(), ask_sz.tolist()


# ---- peers ------------------------------------------------------------------------------------


class PeerBook(Protocol):
    """What a peer book offers the benchmark."""

    def snapshot(
        self, bid_px: list[int], bid_sz: list[int], ask_px: list[int], ask_sz: list[int]
    ) -> None:
        """Replace the book."""

    def apply(
        self, bid_px: list[int], bid_sz: list[int], ask_px: list[int], ask_sz: list[int]
    ) -> None:
        """Apply absolute sizes; 0 deletes."""

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """Best ``n`` levels per side, best-first."""


class DictSortedKeys:
    """A dict of size by price per side, plus its keys kept sorted with :mod:`bisect`."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.bid_keys: list[int] = []
        self.ask_keys: list[int] = []

    def snapshot(
        self, bid_px: list[int], bid_sz: list[int], ask_px: list[int], ask_sz: list[int]
    ) -> None:
        """Replace the book."""
        self.bids = {p: s for p, s in zip(bid_px, bid_sz, strict=True) if s}
        self.asks = {p: s for p, s in zip(ask_px, ask_sz, strict=True) if s}
        self.bid_keys = sorted(self.bids)
        self.ask_keys = sorted(self.asks)

    @staticmethod
    def _side(levels: dict[int, int], keys: list[int], px: list[int], sz: list[int]) -> None:
        for price, size in zip(px, sz, strict=True):
            if size:
                if price not in levels:
                    insort(keys, price)
                levels[price] = size
            elif levels.pop(price, None) is not None:
                del keys[bisect_left(keys, price)]

    def apply(
        self, bid_px: list[int], bid_sz: list[int], ask_px: list[int], ask_sz: list[int]
    ) -> None:
        """Apply absolute sizes; 0 deletes."""
        self._side(self.bids, self.bid_keys, bid_px, bid_sz)
        self._side(self.asks, self.ask_keys, ask_px, ask_sz)

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """Best ``n`` levels per side, best-first."""
        bids, asks = self.bids, self.asks
        return (
            [(p, bids[p]) for p in self.bid_keys[: -n - 1 : -1]],
            [(p, asks[p]) for p in self.ask_keys[:n]],
        )


def _sorted_dict_book() -> Callable[[], PeerBook] | None:
    """A SortedDict-based book factory, or None when sortedcontainers is not installed."""
    try:
        from sortedcontainers import SortedDict  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None

    class SortedDictBook:
        """A sortedcontainers SortedDict per side; bids keyed by negative price (best first)."""

        def __init__(self) -> None:
            self.bids: Any = SortedDict()
            self.asks: Any = SortedDict()

        def snapshot(
            self, bid_px: list[int], bid_sz: list[int], ask_px: list[int], ask_sz: list[int]
        ) -> None:
            self.bids = SortedDict({-p: s for p, s in zip(bid_px, bid_sz, strict=True) if s})
            self.asks = SortedDict({p: s for p, s in zip(ask_px, ask_sz, strict=True) if s})

        def apply(
            self, bid_px: list[int], bid_sz: list[int], ask_px: list[int], ask_sz: list[int]
        ) -> None:
            bids, asks = self.bids, self.asks
            for price, size in zip(bid_px, bid_sz, strict=True):
                if size:
                    bids[-price] = size
                else:
                    bids.pop(-price, None)
            for price, size in zip(ask_px, ask_sz, strict=True):
                if size:
                    asks[price] = size
                else:
                    asks.pop(price, None)

        def top(self, n: int) -> tuple[list[Level], list[Level]]:
            bids, asks = self.bids, self.asks
            return (
                [(-k, bids[k]) for k in bids.islice(0, n)],
                [(k, asks[k]) for k in asks.islice(0, n)],
            )

    return SortedDictBook


def _peers() -> dict[str, Callable[[], PeerBook]]:
    peers: dict[str, Callable[[], PeerBook]] = {"dict+sorted_keys": DictSortedKeys}
    sorted_dict = _sorted_dict_book()
    if sorted_dict is not None:
        peers["SortedDict"] = sorted_dict
    return peers


# ---- measurement ------------------------------------------------------------------------------


def _replay_ours(stream: Stream) -> tuple[float, OrderBook]:
    book = OrderBook("BENCH")
    book.apply_snapshot(*stream.snapshot, update_id=0)
    apply = book.apply_delta
    start = time.perf_counter_ns()
    for update_id, (bid_px, bid_sz, ask_px, ask_sz) in enumerate(stream.diffs, 1):
        apply(bid_px, bid_sz, ask_px, ask_sz, update_id)
    elapsed = time.perf_counter_ns() - start
    return elapsed / len(stream.diffs), book


def _replay_peer(factory: Callable[[], PeerBook], stream: Stream) -> tuple[float, PeerBook]:
    book = factory()
    book.snapshot(*stream.snapshot_lists)
    apply = book.apply
    start = time.perf_counter_ns()
    for bid_px, bid_sz, ask_px, ask_sz in stream.diffs_lists:
        apply(bid_px, bid_sz, ask_px, ask_sz)
    elapsed = time.perf_counter_ns() - start
    return elapsed / len(stream.diffs_lists), book


def _time_reads(read: Callable[[], object], reads: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(reads):
        read()
    return (time.perf_counter_ns() - start) / reads


def _say(message: str) -> None:
    sys.stderr.write(f"[bench book] {message}\n")


def _row(contestant: str, metric: str, unit: str, samples: Sequence[float]) -> dict[str, Any]:
    return {
        "subject": SUBJECT,
        "contestant": contestant,
        "metric": metric,
        "unit": unit,
        "median": float(statistics.median(samples)),
        "min": float(min(samples)),
        "max": float(max(samples)),
        "reps": len(samples),
    }


def run_book_bench(quick: bool, plan: Plan | None = None) -> list[dict[str, Any]]:
    """Measure every contestant and return one row per contestant and metric.

    Rows are ``{"subject", "contestant", "metric", "unit", "median", "min", "max", "reps"}``.

    Raises:
        BenchMismatch: a peer's book differs from ours after the stream.
    """
    plan = plan or (QUICK if quick else FULL)
    return _measure(plan, make_stream(plan.diffs))


def _measure(plan: Plan, stream: Stream) -> list[dict[str, Any]]:
    warm_up()
    peers = _peers()
    contestants = [OURS, *peers]
    apply_ns: dict[str, list[float]] = {c: [] for c in contestants}
    read_ns: dict[str, list[float]] = {c: [] for c in contestants}
    lists_ns: list[float] = []
    out = np.zeros((4, TOP_N), dtype=np.int64)
    _say("warming up")
    _, ours = _replay_ours(stream)
    expected = ours.levels()
    for name, factory in peers.items():
        _, peer = _replay_peer(factory, stream)
        if peer.top(len(expected[0]) + len(expected[1])) != expected:
            raise BenchMismatch(f"{name} disagrees with {OURS} after the stream")
    for rep in range(plan.reps):
        _say(f"repetition {rep + 1} of {plan.reps}")
        shift = rep % len(contestants)
        for contestant in contestants[shift:] + contestants[:shift]:
            if contestant == OURS:
                per_diff, book = _replay_ours(stream)
                apply_ns[OURS].append(per_diff)
                read_ns[OURS].append(_time_reads(partial(book.top_arrays, TOP_N, out), plan.reads))
                lists_ns.append(_time_reads(partial(book.top, TOP_N), plan.reads))
            else:
                per_diff, peer = _replay_peer(peers[contestant], stream)
                apply_ns[contestant].append(per_diff)
                read_ns[contestant].append(_time_reads(partial(peer.top, TOP_N), plan.reads))
    rows = []
    for contestant in contestants:
        rows.append(_row(contestant, "diff_apply", "ns/diff", apply_ns[contestant]))
        rows.append(_row(contestant, "top10_read", "ns", read_ns[contestant]))
    rows.append(_row(OURS, "top10_lists", "ns", lists_ns))
    return rows


def describe(plan: Plan, levels: int) -> str:
    """The input line of the report."""
    return (
        f"seeded synthetic diff stream (0.01 tick near 6,000,000 ticks): {SNAPSHOT_LEVELS} "
        f"levels per side in the snapshot, {plan.diffs:,} diffs with {levels:,} levels "
        "(ours fed int64 arrays, peers Python lists, nothing parsed); "
        f"top-{TOP_N} read {plan.reads:,} times; {plan.reps} repetitions interleaved after a "
        "warm-up"
    )


def run(quick: bool, plan: Plan | None = None) -> SubjectRun:
    """The harness entry point: :func:`run_book_bench` as a :class:`SubjectRun`."""
    plan = plan or (QUICK if quick else FULL)
    stream = make_stream(plan.diffs)
    rows = _measure(plan, stream)
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=describe(plan, stream.levels),
        results=[Result(**row) for row in rows],
    )
