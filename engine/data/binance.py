"""Replaying Binance captures (spot, USD-M, COIN-M) through the venue's own parser and book sync.

:class:`BinanceReplay` is a :class:`~engine.venues.replaying.Replayer`: received frames and REST
depth bodies go in, in receive order; each book update applied to a live book comes out as an
:class:`~engine.venues.replaying.AppliedUpdate`. The books follow the venue's rules exactly as
the live feed does (spot: :class:`~engine.venues.binance.sync.SpotBookSync`, ``U == prev_u + 1``;
futures: :class:`~engine.venues.binance_usdm.sync.FuturesBookSync`, ``pu == prev_u`` and
``U <= L <= u`` for the first diff). Diffs that arrive before the snapshot are buffered.

Beside the updates it keeps :attr:`BinanceReplay.rows`, the catalog rows of what was applied (a
snapshot row whenever a book goes live, a delta row per diff applied, trades), and
:attr:`BinanceReplay.problems`: gaps in the stream's own sequence (checked whether or not the book
is live), duplicate and out-of-order diffs, receive-time gaps over a second, crossed books,
frames that do not parse (``bad_size`` when a size is what is wrong), too-old snapshots.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import msgspec
import numpy as np

from engine.book.order_book import BadLevel, OrderBook
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.core.instruments import Instrument
from engine.data.captures import SNAPSHOT_STREAM, CaptureRecord
from engine.data.grid import StepScan
from engine.errors import CrossedBook, MalformedMessage, SequenceGap, SnapshotError
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.sync import DeltaOutcome, SnapshotOutcome, SpotBookSync, SyncPhase
from engine.venues.binance_usdm.protocol import BinanceUsdmParser
from engine.venues.binance_usdm.sync import FuturesBookSync
from engine.venues.replaying import AppliedUpdate, ReplayStats

SPOT = "binance"
USDM = "binance-usdm"
COINM = "binance-coinm"
VENUES = (SPOT, USDM, COINM)

TIME_GAP_NS = 1_000_000_000
"""A receive-time gap longer than this on a book's diff stream is reported."""

Row = tuple[Instrument, BookSnapshot | BookDelta | Trade]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong in a capture or catalog, where it was and what it was."""

    kind: str
    """``gap``, ``duplicate``, ``out_of_order``, ``time_gap``, ``crossed``, ``bad_size``,
    ``malformed``, ``stale_snapshot``, ``unreadable``."""
    symbol: str
    ts_recv: int
    seq: int
    detail: str


def is_snapshot(stream: str, payload: bytes) -> bool:
    """True for a REST depth snapshot body (by its URL, or the hftbacktest in-stream line)."""
    return (
        stream == SNAPSHOT_STREAM
        or "/depth?" in stream
        or payload[:20].startswith(b'{"lastUpdateId"')
    )


def _url_symbol(stream: str) -> str:
    if "symbol=" not in stream:
        return ""
    return stream.split("symbol=", 1)[1].split("&", 1)[0].upper()


class _Book:
    """One instrument's sync, its stream's own sequence, and where its diffs were last seen."""

    __slots__ = ("instrument", "last_frame_ns", "last_ids", "sync")

    def __init__(self, instrument: Instrument, sync: SpotBookSync) -> None:
        self.instrument = instrument
        self.sync = sync
        self.last_ids: tuple[int, int] | None = None
        self.last_frame_ns = 0


class BinanceReplay:
    """Binance parser and one book sync per instrument, fed record by record.

    Args:
        instruments: the capture's instruments (their grids convert every price and size).
        venue: ``binance``, ``binance-usdm`` or ``binance-coinm`` (futures rules for the last two).
    """

    def __init__(self, instruments: list[Instrument], venue: str = SPOT) -> None:
        if venue not in VENUES:
            raise ValueError(f"venue {venue!r} is not one of {', '.join(VENUES)}")
        self.venue = venue
        self.futures = venue != SPOT
        self.instruments = [
            msgspec.structs.replace(inst, instrument_id=n) for n, inst in enumerate(instruments)
        ]
        parser_type = BinanceUsdmParser if self.futures else BinanceSpotParser
        self.parser: BinanceSpotParser = parser_type(self.instruments, venue)
        sync_type = FuturesBookSync if self.futures else SpotBookSync
        self._books = [
            _Book(inst, sync_type(inst, OrderBook(inst.symbol), venue=venue))
            for inst in self.instruments
        ]
        self._by_symbol = {b.instrument.symbol: b for b in self._books}
        self.stats = ReplayStats()
        self.trades: list[Trade] = []
        """Every trade parsed, in order, while :attr:`keep_trades` is set."""
        self.rows: list[Row] = []
        """Catalog rows of what was applied since the last :meth:`take_rows`."""
        self.problems: list[Problem] = []
        """Everything wrong found so far, in the order found."""
        self.keep_rows = True
        """Gather :attr:`rows` (import); validation turns it off."""
        self.keep_trades = False
        """Keep every trade in :attr:`trades` too (the rows already carry them)."""

    def take_rows(self) -> list[Row]:
        """The rows gathered since the last call."""
        rows, self.rows = self.rows, []
        return rows

    def book(self, symbol: str) -> OrderBook:
        """The book of one symbol."""
        return self._by_symbol[symbol].sync.book

    # ---- records ------------------------------------------------------------------------------

    def feed(self, recv_ns: int, raw: bytes, stream: str = "") -> list[AppliedUpdate]:
        """Take one received frame or REST body; the book updates it applied."""
        self.stats.frames += 1
        if is_snapshot(stream, raw):
            return self._snapshot(recv_ns, raw, stream)
        try:
            event = self.parser.parse_frame(raw, recv_ns)
        except MalformedMessage as exc:
            self.stats.malformed += 1
            kind = "bad_size" if " size " in str(exc) else "malformed"
            self._problem(kind, exc.stream.partition("@")[0].upper(), recv_ns, -1, str(exc))
            return []
        if type(event) is BookDelta:
            return self._delta(event)
        if type(event) is Trade:
            self.stats.trades += 1
            if self.keep_trades:
                self.trades.append(event)
            if self.keep_rows:
                self.rows.append((self.instruments[event.instrument], event))
            return []
        self.stats.ignored += 1
        return []

    def feed_records(self, records: Iterable[CaptureRecord]) -> Iterable[AppliedUpdate]:
        """Run a capture's records through, in order."""
        for rec in records:
            yield from self.feed(rec.recv_ns, rec.payload, rec.stream)

    def _problem(self, kind: str, symbol: str, ts: int, seq: int, detail: str) -> None:
        self.problems.append(Problem(kind=kind, symbol=symbol, ts_recv=ts, seq=seq, detail=detail))

    def _snapshot(self, recv_ns: int, raw: bytes, stream: str) -> list[AppliedUpdate]:
        symbol = _url_symbol(stream)
        book = self._by_symbol.get(symbol) if symbol else None
        if book is None:
            if symbol or len(self._books) != 1:
                self.stats.ignored += 1  # a snapshot of a symbol not replayed, or of no symbol
                return []
            book = self._books[0]
        inst = book.instrument
        try:
            snap = self.parser.parse_snapshot(raw, inst, recv_ns)
        except MalformedMessage as exc:
            self.stats.malformed += 1
            kind = "bad_size" if " size " in str(exc) else "malformed"
            self._problem(kind, inst.symbol, recv_ns, -1, str(exc))
            return []
        try:
            outcome = book.sync.on_snapshot(snap)
        except SnapshotError as exc:
            self.stats.resyncs["stale_snapshot"] += 1
            self._problem("stale_snapshot", inst.symbol, recv_ns, snap.update_id, str(exc))
            return []
        except (CrossedBook, BadLevel) as exc:
            book.sync.reset()
            self.stats.resyncs["crossed"] += 1
            self._problem("crossed", inst.symbol, recv_ns, snap.update_id, str(exc))
            return []
        if outcome is SnapshotOutcome.LIVE:
            return [self._went_live(book, 0, recv_ns)]
        return []

    def _check_sequence(self, book: _Book, delta: BookDelta) -> None:
        """The stream's own continuity, whatever the book's phase."""
        symbol = book.instrument.symbol
        if book.last_frame_ns and delta.recv_ts - book.last_frame_ns > TIME_GAP_NS:
            gap_s = (delta.recv_ts - book.last_frame_ns) / 1e9
            self._problem(
                "time_gap", symbol, delta.recv_ts, delta.last_id, f"no diff for {gap_s:.3f} s"
            )
        book.last_frame_ns = delta.recv_ts
        ids = (delta.first_id, delta.last_id)
        last = book.last_ids
        if last is None:
            book.last_ids = ids
            return
        if delta.last_id <= last[1]:
            kind = "duplicate" if ids == last else "out_of_order"
            self._problem(
                kind,
                symbol,
                delta.recv_ts,
                delta.last_id,
                f"U={ids[0]} u={ids[1]} after u={last[1]}",
            )
            return
        follows = delta.prev_id == last[1] if self.futures else delta.first_id == last[1] + 1
        if not follows:
            want = f"pu={last[1]}" if self.futures else f"U={last[1] + 1}"
            got = f"pu={delta.prev_id}" if self.futures else f"U={delta.first_id}"
            self._problem(
                "gap", symbol, delta.recv_ts, delta.last_id, f"expected {want}, got {got}"
            )
        book.last_ids = ids

    def _delta(self, delta: BookDelta) -> list[AppliedUpdate]:
        book = self._books[delta.instrument]
        self._check_sequence(book, delta)
        sync = book.sync
        try:
            outcome = sync.on_delta(delta)
        except SequenceGap:
            self.stats.resyncs["gap"] += 1
            return []
        except SnapshotError as exc:
            self.stats.resyncs["stale_snapshot"] += 1
            self._problem(
                "stale_snapshot", book.instrument.symbol, delta.recv_ts, delta.last_id, str(exc)
            )
            return []
        except (CrossedBook, BadLevel) as exc:
            sync.reset()
            self.stats.resyncs["crossed"] += 1
            self._problem("crossed", book.instrument.symbol, delta.recv_ts, delta.last_id, str(exc))
            return []
        if outcome is DeltaOutcome.APPLIED:
            self.stats.applied += 1
            if self.keep_rows:
                self.rows.append((book.instrument, _own(delta)))
            return [
                AppliedUpdate(
                    book.instrument, delta.last_id, delta.recv_ts, delta.exch_ts, sync.book
                )
            ]
        if outcome is DeltaOutcome.WENT_LIVE:
            return [self._went_live(book, delta.exch_ts, delta.recv_ts)]
        return []

    def _went_live(self, book: _Book, exch_ts: int, recv_ns: int) -> AppliedUpdate:
        self.stats.applied += 1
        ob = book.sync.book
        if self.keep_rows:
            self.rows.append((book.instrument, snapshot_of(ob, book.instrument, exch_ts, recv_ns)))
        return AppliedUpdate(book.instrument, ob.update_id, recv_ns, exch_ts, ob)

    @property
    def live(self) -> dict[str, bool]:
        """Whether each symbol's book is live now."""
        return {s: b.sync.phase is SyncPhase.LIVE for s, b in self._by_symbol.items()}


def _own(delta: BookDelta) -> BookDelta:
    """The diff with level arrays of its own (the parser's arena views are not kept)."""
    return msgspec.structs.replace(
        delta,
        bid_px=delta.bid_px.copy(),
        bid_sz=delta.bid_sz.copy(),
        ask_px=delta.ask_px.copy(),
        ask_sz=delta.ask_sz.copy(),
    )


def snapshot_of(book: OrderBook, inst: Instrument, exch_ts: int, recv_ns: int) -> BookSnapshot:
    """The whole book as a snapshot row at its update id."""
    bids, asks = book.levels()
    b = np.array(bids, dtype=np.int64).reshape(-1, 2)
    a = np.array(asks, dtype=np.int64).reshape(-1, 2)
    return BookSnapshot(
        instrument=inst.instrument_id,
        update_id=book.update_id,
        bid_px=b[:, 0].copy(),
        bid_sz=b[:, 1].copy(),
        ask_px=a[:, 0].copy(),
        ask_sz=a[:, 1].copy(),
        exch_ts=exch_ts,
        recv_ts=recv_ns,
    )


# ---- symbols and grids ---------------------------------------------------------------------


class _Found(NamedTuple):
    price: StepScan
    size: StepScan


_LEVELS = msgspec.json.Decoder(list[tuple[str, str]])


class _Frame(msgspec.Struct):
    stream: str = ""
    data: msgspec.Raw = msgspec.Raw(b"null")


class _DepthBody(msgspec.Struct):
    b: msgspec.Raw = msgspec.Raw(b"[]")
    a: msgspec.Raw = msgspec.Raw(b"[]")


class _SnapshotBody(msgspec.Struct):
    bids: msgspec.Raw = msgspec.Raw(b"[]")
    asks: msgspec.Raw = msgspec.Raw(b"[]")


class _TradeBody(msgspec.Struct):
    p: str = ""
    q: str = ""


_FRAME = msgspec.json.Decoder(_Frame)
_DEPTH = msgspec.json.Decoder(_DepthBody)
_SNAPSHOT = msgspec.json.Decoder(_SnapshotBody)
_TRADE = msgspec.json.Decoder(_TradeBody)


class _Scanner:
    """Steps per symbol, gathered frame by frame."""

    def __init__(self, default_symbol: str) -> None:
        self.found: dict[str, _Found] = {}
        self.default_symbol = default_symbol
        self.pending: list[bytes] = []

    def scans(self, symbol: str) -> _Found:
        got = self.found.get(symbol)
        if got is None:
            got = self.found[symbol] = _Found(StepScan(), StepScan())
        return got

    @staticmethod
    def levels(target: _Found, raw: msgspec.Raw) -> None:
        try:
            for price, size in _LEVELS.decode(raw):
                target.price.add(price)
                target.size.add(size)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            return

    def snapshot(self, target: _Found, payload: bytes) -> None:
        snap = _SNAPSHOT.decode(payload)
        self.levels(target, snap.bids)
        self.levels(target, snap.asks)

    def record(self, rec: CaptureRecord) -> None:
        payload = rec.payload
        if is_snapshot(rec.stream, payload):
            symbol = _url_symbol(rec.stream) or self.default_symbol
            if symbol:
                self.snapshot(self.scans(symbol), payload)
            else:
                self.pending.append(payload)
            return
        if not payload.startswith(b'{"stream"'):
            return
        frame = _FRAME.decode(payload)
        name, _, channel = frame.stream.partition("@")
        if channel.startswith("depth"):
            depth = _DEPTH.decode(frame.data)
            target = self.scans(name.upper())
            self.levels(target, depth.b)
            self.levels(target, depth.a)
        elif channel in ("trade", "aggTrade"):
            trade = _TRADE.decode(frame.data)
            target = self.scans(name.upper())
            if trade.p:
                target.price.add(trade.p)
            if trade.q:
                target.size.add(trade.q)


def scan_symbols(records: Iterable[CaptureRecord], default_symbol: str = "") -> dict[str, _Found]:
    """Every symbol with depth or trade frames, and the steps its prices and sizes fit.

    REST snapshots count for the symbol their URL names (or ``default_symbol``, or the only
    symbol seen, for hftbacktest's in-stream snapshot line). Frames that do not decode are left
    for the replay to report.
    """
    scanner = _Scanner(default_symbol)
    for rec in records:
        try:
            scanner.record(rec)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            continue
    if scanner.pending and len(scanner.found) == 1:
        target = next(iter(scanner.found.values()))
        for payload in scanner.pending:
            try:
                scanner.snapshot(target, payload)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue
    return scanner.found
