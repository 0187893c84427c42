"""Where a backtest's market data comes from: the :class:`Source` protocol and the merge.

A source knows its instruments (dense ids in order), says what of an asked range it holds
(:meth:`Source.missing`, checked before the run starts), and yields book snapshots, deltas and
trades for each instrument in replay-time order. :func:`merge` interleaves several streams by
replay time: receive time (``time="recv"``, the default) or exchange time (``time="exch"``,
falling back to receive time where the venue sent none). Ties keep stream order (and each
stream its own order), so the same inputs always replay in the same order.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Literal, Protocol

from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.core.instruments import Instrument

MarketEvent = BookSnapshot | BookDelta | Trade
"""What a source yields."""
TimeBase = Literal["recv", "exch"]
"""Which recorded stamp orders and clocks the replay."""
OnCorrupt = Literal["skip", "refuse"]
"""What a corrupt data file does: skipped with a warning, or the run refused."""


class Source(Protocol):
    """Recorded market data for a set of instruments."""

    @property
    def instruments(self) -> list[Instrument]:
        """The instruments, ``instrument_id`` equal to their index."""
        ...

    @property
    def name(self) -> str:
        """What the data is, for reports (paths, catalog root)."""
        ...

    def span(self) -> tuple[int, int]:
        """First and last timestamp (ns) held over every instrument."""
        ...

    def missing(self, start_ns: int, end_ns: int) -> list[str]:
        """What of ``[start_ns, end_ns)`` is not in the data, one line per gap; empty if none."""
        ...

    def events(self, end_ns: int, time: TimeBase) -> Iterator[tuple[int, MarketEvent]]:
        """(replay ns, event) from the start of the data up to ``end_ns``, in replay order.

        Events before a backtest's start still build the books (warm-up), so a source always
        starts each instrument from a snapshot.
        """
        ...


def replay_ts(event: MarketEvent, time: TimeBase) -> int:
    """The stamp an event is replayed at."""
    if time == "exch" and event.exch_ts:
        return event.exch_ts
    return event.recv_ts


def merge(
    streams: Iterable[Iterable[tuple[int, MarketEvent]]],
) -> Iterator[tuple[int, MarketEvent]]:
    """Interleave (ts, event) streams that are each in ts order; ties keep stream order."""
    keyed = (((ts, n, e) for ts, e in stream) for n, stream in enumerate(streams))
    for ts, _, event in heapq.merge(*keyed, key=lambda k: (k[0], k[1])):
        yield ts, event
