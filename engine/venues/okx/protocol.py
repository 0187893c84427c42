"""OKX v5 public market data, bytes to events: ``books`` snapshots and updates, ``trades``.

Frames are decoded by msgspec into typed structs; prices and sizes become integer ticks and lots
exactly (:func:`engine.venues.level_text.steps`: text between two steps is an error, nothing
rounds). A ``books`` message becomes an :class:`OkxBook`: the normalized
:class:`~engine.core.events.BookSnapshot` or :class:`~engine.core.events.BookDelta` plus what the
sync needs besides, the checksum, ``seqId``/``prevSeqId`` and the few level texts that the
integers alone would not give back (OKX writes the shortest form, ``30316`` or ``5.16``).

In a delta ``first_id == last_id == seqId`` and ``prev_id == prevSeqId``; both are -1 when the
venue sent none (messages before 2023). The REST ``/api/v5/market/books`` answer of the 2026
procedure parses to an :class:`OkxBook` snapshot too (:meth:`OkxParser.parse_rest_snapshot`).

Every problem raises :class:`~engine.errors.MalformedMessage` naming the venue, the stream and a
short excerpt. Event, control and unknown channels, and instruments not subscribed here, are
counted in :attr:`OkxParser.ignored`.
"""

from __future__ import annotations

import msgspec
import numpy as np

from engine.core.events import BookDelta, BookSnapshot, Int64Array, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.book_events import book_event
from engine.venues.level_text import OddLevel, StyledGrid, TextStyle, steps
from engine.venues.symbol_reader import SymbolReader

VENUE = "okx"
_MS = 1_000_000


class _Arg(msgspec.Struct, frozen=True):
    channel: str = ""
    instId: str = ""  # noqa: N815 - the venue's field name


class _Frame(msgspec.Struct, frozen=True):
    arg: _Arg | None = None
    action: str = ""
    event: str = ""
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _BookData(msgspec.Struct, frozen=True):
    asks: list[list[str]]
    bids: list[list[str]]
    ts: str = "0"
    checksum: int = 0
    seqId: int = -1  # noqa: N815
    prevSeqId: int = -1  # noqa: N815


class _TradeData(msgspec.Struct, frozen=True):
    instId: str  # noqa: N815
    tradeId: str  # noqa: N815
    px: str
    sz: str
    side: str
    ts: str


class _RestBooks(msgspec.Struct, frozen=True):
    code: str
    data: list[_BookData]
    msg: str = ""


_FRAME = msgspec.json.Decoder(_Frame)
_BOOKS = msgspec.json.Decoder(list[_BookData])
_TRADES = msgspec.json.Decoder(list[_TradeData])
_REST = msgspec.json.Decoder(_RestBooks)
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


class OkxBook(msgspec.Struct, frozen=True, kw_only=True):
    """One ``books`` message (or REST snapshot) of one instrument, ready for the sync."""

    symbol: str
    """The venue's ``instId``."""
    event: BookSnapshot | BookDelta
    checksum: int
    """The signed CRC32 the venue sent; 0 when it sent none (or, since 2026-06-23, always)."""
    seq_id: int
    """``seqId``; -1 when absent."""
    prev_seq_id: int
    """``prevSeqId``; -1 for a snapshot or when absent."""
    odd: list[OddLevel]
    """Levels whose price or size text is not the shortest form of its value."""

    @property
    def is_snapshot(self) -> bool:
        """True for a snapshot, which replaces the book."""
        return isinstance(self.event, BookSnapshot)


class _Grids:
    __slots__ = ("instrument", "price", "size")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.price = StyledGrid(instrument.price_grid(), TextStyle.SHORTEST)
        self.size = StyledGrid(instrument.size_grid(), TextStyle.SHORTEST)


def _excerpt(raw: bytes) -> bytes:
    return raw[:200]


class OkxParser(SymbolReader[_Grids]):
    """Turns OKX public frames for a set of instruments into events.

    Frames that carry no market data are counted in ``ignored`` by channel or event
    (``event:subscribe``, ``pong``, ...).

    Args:
        instruments: the instruments subscribed, by their OKX ``instId`` as ``symbol``.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__({inst.symbol: _Grids(inst) for inst in instruments})

    def grids(self, symbol: str) -> tuple[StyledGrid, StyledGrid]:
        """The styled price and size grids of a subscribed instrument."""
        grids = self._grids[symbol]
        return grids.price, grids.size

    def parse(self, raw: bytes, recv_ts: int) -> list[OkxBook | Trade]:
        """Parse one WebSocket frame; control frames and other channels give ``[]``.

        Raises:
            MalformedMessage: the frame is not valid JSON of the expected shape, or a number is
                off the instrument's grid. Instruments not subscribed are counted as ignored.
        """
        if raw == b"pong":
            self.ignored["pong"] += 1
            return []
        try:
            frame = _FRAME.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(VENUE, "frame", str(exc), _excerpt(raw)) from None
        arg = frame.arg
        if frame.event or arg is None or not frame.data:
            self.ignored[f"event:{frame.event}" if frame.event else "other"] += 1
            return []
        stream = f"{arg.channel}:{arg.instId}"
        if arg.channel == "books":
            return self._books(frame, arg.instId, stream, raw, recv_ts)
        if arg.channel == "trades":
            return self._trades(frame.data, stream, raw, recv_ts)
        self.ignored[arg.channel] += 1
        return []

    def parse_rest_snapshot(self, raw: bytes, symbol: str, recv_ts: int) -> OkxBook:
        """Parse a ``GET /api/v5/market/books?instId=..&source=0`` answer (2026 procedure).

        Raises:
            MalformedMessage: the body is not a successful books answer for one instrument.
        """
        stream = f"rest:books:{symbol}"
        try:
            body = _REST.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(VENUE, stream, str(exc), _excerpt(raw)) from None
        if body.code != "0" or len(body.data) != 1:
            raise MalformedMessage(
                VENUE, stream, f"code {body.code!r} ({body.msg}), {len(body.data)} books", raw
            )
        grids = self._grids.get(symbol)
        if grids is None:
            raise MalformedMessage(VENUE, stream, f"instrument {symbol!r} is not subscribed", raw)
        return self._book(body.data[0], grids, True, stream, raw, recv_ts)

    def _books(
        self, frame: _Frame, symbol: str, stream: str, raw: bytes, recv_ts: int
    ) -> list[OkxBook | Trade]:
        if frame.action not in ("snapshot", "update"):
            raise MalformedMessage(VENUE, stream, f"unknown action {frame.action!r}", raw)
        try:
            books = _BOOKS.decode(frame.data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(VENUE, stream, str(exc), _excerpt(raw)) from None
        snapshot = frame.action == "snapshot"
        grids = self._grids_of(symbol)
        if grids is None:
            return []
        return [self._book(data, grids, snapshot, stream, raw, recv_ts) for data in books]

    def _book(
        self, data: _BookData, grids: _Grids, snapshot: bool, stream: str, raw: bytes, recv_ts: int
    ) -> OkxBook:
        symbol = grids.instrument.symbol
        odd: list[OddLevel] = []
        bid_px, bid_sz = _levels(data.bids, grids, 0, odd, stream, raw)
        ask_px, ask_sz = _levels(data.asks, grids, 1, odd, stream, raw)
        try:
            exch_ts = int(data.ts) * _MS
        except ValueError:
            raise MalformedMessage(VENUE, stream, f"ts {data.ts!r} is not a number", raw) from None
        event = book_event(
            snapshot,
            instrument=grids.instrument.instrument_id,
            update_id=data.seqId,
            prev_id=data.prevSeqId,
            bids=(bid_px, bid_sz),
            asks=(ask_px, ask_sz),
            exch_ts=exch_ts,
            recv_ts=recv_ts,
        )
        return OkxBook(
            symbol=symbol,
            event=event,
            checksum=data.checksum,
            seq_id=data.seqId,
            prev_seq_id=-1 if snapshot else data.prevSeqId,
            odd=odd,
        )

    def _trades(
        self, data: msgspec.Raw, stream: str, raw: bytes, recv_ts: int
    ) -> list[OkxBook | Trade]:
        try:
            trades = _TRADES.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(VENUE, stream, str(exc), _excerpt(raw)) from None
        out: list[OkxBook | Trade] = []
        for t in trades:
            grids = self._grids_of(t.instId)
            if grids is None:
                continue
            side = _SIDES.get(t.side)
            if side is None or not t.tradeId.isdigit() or not t.ts.isdigit():
                raise MalformedMessage(
                    VENUE, stream, f"trade {t.tradeId!r}: bad side, id or ts", _excerpt(raw)
                )
            out.append(
                Trade(
                    instrument=grids.instrument.instrument_id,
                    trade_id=int(t.tradeId),
                    price=steps(t.px, grids.price.grid, VENUE, stream, "trade", raw),
                    size=steps(t.sz, grids.size.grid, VENUE, stream, "trade", raw),
                    aggressor=side,
                    exch_ts=int(t.ts) * _MS,
                    recv_ts=recv_ts,
                )
            )
        return out


def _levels(
    levels: list[list[str]],
    grids: _Grids,
    side: int,
    odd: list[OddLevel],
    stream: str,
    raw: bytes,
) -> tuple[Int64Array, Int64Array]:
    """One side's ``[[px, sz, "0", count], ...]`` as (ticks, lots); odd texts go to ``odd``."""
    n = len(levels)
    px = np.empty(n, dtype=np.int64)
    sz = np.empty(n, dtype=np.int64)
    price, size = grids.price, grids.size
    where = "bid" if side == 0 else "ask"
    for k, level in enumerate(levels):
        if len(level) < 2:
            raise MalformedMessage(VENUE, stream, f"{where} level {level!r} is too short", raw)
        price_text, size_text = level[0], level[1]
        ticks = steps(price_text, price.grid, VENUE, stream, where, raw)
        if ticks <= 0:
            raise MalformedMessage(VENUE, stream, f"{where} price {price_text!r} not positive", raw)
        lots = steps(size_text, size.grid, VENUE, stream, where, raw)
        px[k] = ticks
        sz[k] = lots
        if not (price.follows(price_text) and size.follows(size_text)):
            odd.append((side, ticks, lots, price_text, size_text))
    return px, sz
