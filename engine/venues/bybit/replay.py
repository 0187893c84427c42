"""Replaying a Bybit v5 public capture: frames in, applied ``orderbook`` updates out.

:class:`BybitReplay` takes one category's received frames in order (``bybit-linear`` or
``bybit-spot``, from the instruments' venue; ``bybit`` is linear) and yields one
:class:`~engine.venues.replaying.AppliedUpdate` per snapshot or delta applied to a live book, by
the procedure of :mod:`engine.venues.bybit.sync` (a snapshot mid-stream replaces the book, ``u``
must follow, never crossed); ``seq`` is the book's ``u``. Trades are counted and kept; tickers,
kline and ``op`` answers are ignored. A gap or a crossed book throws that book away until the
capture's next snapshot, counted in :attr:`BybitReplay.stats`.

A capture of several sockets (cryptofeed v3 records each connection's address) is filtered by
:meth:`BybitReplay.accepts_stream`: the linear replayer takes ``/v5/public/linear`` frames only,
the spot one ``/v5/public/spot``, so the same symbol on both sockets never mixes.
"""

from __future__ import annotations

from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.core.instruments import Instrument
from engine.errors import CrossedBook, FeedError, MalformedMessage
from engine.venues.binance.sync import DeltaOutcome
from engine.venues.book_sync import ResyncCause
from engine.venues.bybit.protocol import BybitPublicParser
from engine.venues.bybit.sync import BybitBookSync
from engine.venues.replaying import AppliedUpdate, ReplayStats

__all__ = ["VENUE", "BybitReplay"]

VENUE = "bybit-linear"
"""The default category's venue name (``bybit-spot`` replays spot captures)."""

_CATEGORY = {"bybit": "linear", "bybit-linear": "linear", "bybit-spot": "spot"}


def category_of(venue: str) -> str:
    """``linear`` or ``spot`` for a venue name.

    Raises:
        ValueError: the venue is not a Bybit one.
    """
    found = _CATEGORY.get(venue)
    if found is None:
        raise ValueError(f"{venue!r} is not a Bybit venue ({', '.join(_CATEGORY)})")
    return found


class BybitReplay:
    """The Bybit public parser and one book sync per instrument, fed frame by frame.

    Args:
        instruments: the capture's instruments (one venue), ``symbol`` as Bybit writes it.

    Raises:
        ValueError: no instruments, or not all of one Bybit venue.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        venues = {i.venue for i in instruments}
        if len(venues) != 1:
            raise ValueError(f"a Bybit replay takes instruments of one venue, not {venues or '{}'}")
        self.venue = venues.pop()
        self.category = category_of(self.venue)
        self.parser = BybitPublicParser(instruments, venue=self.venue)
        self.syncs: dict[int, BybitBookSync] = {
            i.instrument_id: BybitBookSync(i, OrderBook(i.symbol), venue=self.venue)
            for i in instruments
        }
        self.stats = ReplayStats()
        self.trades: list[Trade] = []
        """Every trade parsed, in order."""

    def accepts_stream(self, stream: str) -> bool:
        """False for frames of another category's socket; True when the stream does not say."""
        if "/v5/public/" not in stream:
            return True
        return stream.endswith("/v5/public/" + self.category)

    def feed(self, recv_ns: int, raw: bytes) -> list[AppliedUpdate]:
        """Take one received frame; the book update it applied (none or one)."""
        self.stats.frames += 1
        try:
            item = self.parser.parse_frame(raw, recv_ns)
        except MalformedMessage:
            self.stats.malformed += 1
            return []
        if isinstance(item, list):
            self.stats.trades += len(item)
            self.trades.extend(item)
            return []
        if not isinstance(item, BookSnapshot | BookDelta):
            self.stats.ignored += 1
            return []
        sync = self.syncs[item.instrument]
        try:
            if isinstance(item, BookSnapshot):
                sync.on_snapshot(item)
            elif sync.on_delta(item) is DeltaOutcome.STALE:
                return []
        except CrossedBook:
            self.stats.resyncs[ResyncCause.CROSSED.value] += 1
            return []
        except FeedError:
            self.stats.resyncs[ResyncCause.GAP.value] += 1
            return []
        self.stats.applied += 1
        return [AppliedUpdate(sync.instrument, sync.update_id, recv_ns, item.exch_ts, sync.book)]
