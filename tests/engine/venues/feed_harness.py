"""What the market-data feed tests share: a listener that remembers, a wait, a feed on its venue.

Each venue's ``test_feed.py`` starts its feed against the project's own local venue on 127.0.0.1
through :class:`RunningFeed` and checks what :class:`Recorder` was told; what "in sync" means
(checksums, the venue's true book, a paused stream) stays in the venue's tests.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import pytest

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.ipc.protocol import LinkState, ResyncReason
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff


class Recorder:
    """A feed listener that remembers everything it is told."""

    def __init__(self) -> None:
        self.links: list[LinkState] = []
        self.states: list[tuple[int, str, ResyncReason | None]] = []
        self.live_at: list[float] = []
        self.trades: list[Trade] = []
        self.malformed: list[tuple[str, MalformedMessage]] = []
        self.book_updates: Counter[int] = Counter()
        self.deltas: Counter[int] = Counter()
        self.crossed_seen = 0

    def on_book(self, instrument: int, book: OrderBook, exch_ts: int, recv_ts: int) -> None:
        """Count the update and whether the book was crossed (it never may be)."""
        self.book_updates[instrument] += 1
        self.crossed_seen += book.is_crossed()

    def on_book_delta(self, delta: BookDelta) -> None:
        """Count the applied update."""
        self.deltas[delta.instrument] += 1

    def on_trade(self, trade: Trade) -> None:
        """Keep the trade."""
        self.trades.append(trade)

    def on_link(self, state: LinkState) -> None:
        """Keep the link state."""
        self.links.append(state)

    def on_book_state(self, instrument: int, state: str, reason: ResyncReason | None) -> None:
        """Keep the state change, and when a book went live."""
        self.states.append((instrument, state, reason))
        if state == "live":
            self.live_at.append(time.time())

    def on_malformed(self, stream: str, error: MalformedMessage) -> None:
        """Keep the refused frame's stream and error."""
        self.malformed.append((stream, error))

    def malformed_streams(self) -> list[str]:
        """The streams of the refused frames, in order."""
        return [stream for stream, _ in self.malformed]

    def reasons(self, instrument: int) -> list[ResyncReason]:
        """Why this book was resynced, in order."""
        return [r for i, s, r in self.states if i == instrument and s == "syncing" and r]


async def until(predicate: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    """Wait for ``predicate`` (polling every 10 ms); fail naming ``what`` if it never holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def quick_backoff() -> Backoff:
    """Reconnect delays short enough for a test (50 ms doubling to 0.5 s, seeded jitter)."""
    return Backoff(base_s=0.05, cap_s=0.5, rng=random.Random(1))


class _Feed(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...

    def sync_of(self, instrument: int) -> Any: ...  # each venue's own sync unit


Feed = TypeVar("Feed", bound=_Feed)


class RunningFeed(Generic[Feed]):
    """A feed running against its venue, with its books and listener.

    Args:
        instruments: the feed's instruments; one book each.
        make: builds the feed from the books and the listener.
        listener: what the feed tells (a fresh :class:`Recorder` by default).
    """

    more_updates = 5
    """How many further updates :meth:`wait_all_live` waits for by default."""

    def __init__(
        self,
        instruments: list[Instrument],
        make: Callable[[dict[int, OrderBook], Recorder], Feed],
        listener: Recorder | None = None,
    ) -> None:
        self.instruments = instruments
        self.books = {i.instrument_id: OrderBook(i.symbol) for i in instruments}
        self.listener = listener or Recorder()
        self.feed = make(self.books, self.listener)
        self.task = asyncio.create_task(self.feed.run())

    def live(self, iid: int) -> bool:
        """Whether one book is live."""
        return bool(self.feed.sync_of(iid).phase.value == "live")

    def all_live(self) -> bool:
        """Whether every book is live."""
        return all(self.live(i.instrument_id) for i in self.instruments)

    async def wait_live(self, iid: int, updates: int = 5) -> None:
        """Until the book is live and ``updates`` more deltas were passed on for it."""
        await until(lambda: self.live(iid), f"book {iid} live")
        start = self.listener.deltas[iid]
        await until(lambda: self.listener.deltas[iid] >= start + updates, f"updates on {iid}")

    async def wait_all_live(self, more: int | None = None) -> None:
        """Until every book is live and took ``more`` (:attr:`more_updates`) further updates."""
        more = self.more_updates if more is None else more
        await until(self.all_live, "every book live")
        start = dict(self.listener.book_updates)
        await until(
            lambda: all(self.listener.book_updates[i] >= start[i] + more for i in start),
            f"{more} more updates on every book",
        )

    async def wait_verified(self, iid: int, more: int = 5) -> None:
        """Until the book is live and ``more`` further checksums matched."""
        await until(lambda: self.live(iid), f"book {iid} live")
        start = self.feed.sync_of(iid).checksums_verified
        await until(
            lambda: self.feed.sync_of(iid).checksums_verified >= start + more,
            f"{more} more checksums on book {iid}",
        )

    async def close(self) -> None:
        """Stop the feed and wait for run() to return."""
        await self.feed.stop()
        await asyncio.wait_for(self.task, 5.0)


class OnSimVenue(RunningFeed[Feed]):
    """A feed on the local Binance-shaped venue (engine.sim.server), whose true books it checks.

    Args:
        venue: the running local venue.
        instruments: the feed's instruments; one book each.
        make: builds the feed from the books and the listener.
    """

    def __init__(
        self,
        venue: SimVenue,
        instruments: list[Instrument],
        make: Callable[[dict[int, OrderBook], Recorder], Feed],
    ) -> None:
        self.venue = venue
        super().__init__(instruments, make)

    async def assert_books_equal_the_venue(self) -> None:
        """Pause the market, wait for the last diffs, and compare every level."""
        await until(self.all_live, "every book live")
        self.venue.pause()
        try:
            for inst in self.instruments:
                bids, asks, update_id = self.venue.true_book(inst.symbol)
                book = self.books[inst.instrument_id]
                await until(
                    lambda b=book, u=update_id: b.update_id == u, f"{inst.symbol} at {update_id}"
                )
                assert book.levels() == (bids, asks), inst.symbol
        finally:
            self.venue.resume()
