"""``hft-tui data replay``: rebuild books from a capture or the catalog, one JSON line per update.

Each line is ``{"venue","symbol","seq","ts_recv","bids":[["price","size"],...],"asks":[...]}``
with the top ``top`` levels, best first, as exact decimal text on the instrument's grid. A
capture goes through the venue's replayer (:mod:`engine.data.venues`); the catalog's rows are
applied in order (a snapshot row replaces the book, a delta row sets sizes), so a capture
imported into the catalog replays to the same lines as the capture itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec

from backtest.catalog import Catalog
from engine.book.order_book import OrderBook
from engine.core.events import BookDelta, BookSnapshot
from engine.core.instruments import DecimalGrid, Instrument
from engine.data.binance import BinanceReplay
from engine.data.captures import CaptureRecord
from engine.venues.replaying import AppliedUpdate, Replayer

_ENCODER = msgspec.json.Encoder()


class BookLine(msgspec.Struct, frozen=True):
    """One replay output line."""

    venue: str
    symbol: str
    seq: int
    ts_recv: int
    bids: list[tuple[str, str]]
    asks: list[tuple[str, str]]


class _Grids:
    __slots__ = ("price", "size")

    def __init__(self, inst: Instrument) -> None:
        self.price = DecimalGrid(inst.tick_size, "price")
        self.size = DecimalGrid(inst.lot_size, "size")


class LineMaker:
    """Formats the top of books as replay lines, exactly."""

    def __init__(self, top: int) -> None:
        self.top = top
        self._grids: dict[tuple[str, str], _Grids] = {}

    def line(self, inst: Instrument, seq: int, ts_recv: int, book: OrderBook) -> bytes:
        """One JSON line (no newline) for ``book`` as it is now."""
        grids = self._grids.get((inst.venue, inst.symbol))
        if grids is None:
            grids = self._grids[(inst.venue, inst.symbol)] = _Grids(inst)
        bids, asks = book.top(self.top)
        price, size = grids.price.to_text, grids.size.to_text
        return _ENCODER.encode(
            BookLine(
                inst.venue,
                inst.symbol,
                seq,
                ts_recv,
                [(price(p), size(s)) for p, s in bids],
                [(price(p), size(s)) for p, s in asks],
            )
        )


def capture_updates(
    replayer: Replayer, records: Iterable[CaptureRecord]
) -> Iterator[AppliedUpdate]:
    """Every update the replayer applies over the records (REST bodies only to Binance's).

    A replayer with ``accepts_stream(stream)`` (Bybit: one category's socket) gets only the
    records of the streams it accepts.
    """
    if isinstance(replayer, BinanceReplay):
        yield from replayer.feed_records(records)
        return
    accepts = getattr(replayer, "accepts_stream", None)  # a venue of several sockets
    for rec in records:
        if rec.stream.startswith(("http://", "https://")):
            continue
        if accepts is not None and not accepts(rec.stream):
            continue
        yield from replayer.feed(rec.recv_ns, rec.payload)


def capture_lines(
    replayer: Replayer, records: Iterable[CaptureRecord], top: int
) -> Iterator[bytes]:
    """Replay lines of a capture."""
    maker = LineMaker(top)
    for update in capture_updates(replayer, records):
        yield maker.line(update.instrument, update.seq, update.recv_ts, update.book)


def catalog_lines(
    root: str | Path,
    venue: str,
    top: int,
    *,
    symbols: Iterable[str] = (),
    start_ns: int = 0,
    end_ns: int = 1 << 62,
) -> Iterator[bytes]:
    """Replay lines of the catalog's books of ``venue`` (all its symbols unless some are named).

    Raises:
        backtest.catalog.CatalogError: the folder is not a catalog or holds nothing of the venue.
    """
    from backtest.catalog import CatalogError

    catalog = Catalog(root)
    wanted = set(symbols)
    instruments = [
        ci.instrument(n)
        for n, ci in enumerate(
            c
            for c in catalog.instruments()
            if c.venue == venue and (not wanted or c.symbol in wanted)
        )
    ]
    if not instruments:
        have = sorted({f"{c.venue}:{c.symbol}" for c in catalog.instruments()})
        raise CatalogError(f"{root} holds no books of {venue} (it has {', '.join(have) or 'none'})")
    books = {i.instrument_id: OrderBook(i.symbol) for i in instruments}
    maker = LineMaker(top)
    for event in catalog.events(instruments, start_ns, end_ns, on_corrupt="refuse"):
        inst = instruments[event.instrument]
        book = books[event.instrument]
        if type(event) is BookSnapshot:
            book.apply_snapshot(
                event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, event.update_id
            )
            yield maker.line(inst, event.update_id, event.recv_ts, book)
        elif type(event) is BookDelta:
            book.apply_delta(event.bid_px, event.bid_sz, event.ask_px, event.ask_sz, event.last_id)
            yield maker.line(inst, event.last_id, event.recv_ts, book)
