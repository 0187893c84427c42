"""Kraken spot WebSocket market data, bytes to events: ``book`` and ``trade``, v2 and legacy v1.

Both versions are decoded by msgspec into typed structs and become exact integer ticks and lots:

- **v2** (``wss://ws.kraken.com/v2``) sends objects whose prices and quantities are JSON
  *numbers* at full precision; they are read as :class:`~decimal.Decimal` (never a float). Every
  ``book`` snapshot and update carries ``checksum``.
- **v1** (legacy, the captures) sends arrays ``[channelID, {...}, ("{...}",) "book-<depth>",
  pair]``: snapshot levels in ``as``/``bs``, update levels in ``a``/``b`` (``[price, volume, ts]``
  plus ``"r"`` on a republish) and the checksum, a quoted unsigned integer, in ``c`` of the last
  object. Every update must carry it. Numbers are strings at the pair's precision.

A book message becomes a :class:`KrakenBook`: the normalized snapshot or delta plus the checksum,
the depth to truncate to (v1 names it in the channel; 0 for v2, whose sync knows what it
subscribed) and the level texts that the integers would not give back. Checksums are written at
the grid's decimals (:attr:`~engine.venues.level_text.TextStyle.FIXED`), so the instrument's tick
and lot must have the pair's price and volume decimals.

Kraken v1 trades have no id: ``trade_id`` counts the pair's trades from 1. Control frames
(heartbeats, statuses, acks, pongs), other channels and pairs not subscribed here are counted in
:attr:`KrakenParser.ignored`;
every problem raises :class:`~engine.errors.MalformedMessage` with the venue, stream and excerpt.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import numpy as np

from engine.core.events import BookDelta, BookSnapshot, Int64Array, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.book_events import book_event
from engine.venues.level_text import OddLevel, StyledGrid, TextStyle, decimal_steps, steps
from engine.venues.symbol_reader import SymbolReader
from engine.venues.timestamps import rfc3339_ns, seconds_ns

VENUE = "kraken"


class _Control(msgspec.Struct, frozen=True):
    event: str = ""
    method: str = ""
    channel: str = ""
    type: str = ""
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _V1Book(msgspec.Struct, frozen=True):
    snap_asks: list[list[str]] | None = msgspec.field(default=None, name="as")
    snap_bids: list[list[str]] | None = msgspec.field(default=None, name="bs")
    a: list[list[str]] | None = None
    b: list[list[str]] | None = None
    c: str | None = None


class _V2Level(msgspec.Struct, frozen=True):
    price: Decimal
    qty: Decimal


class _V2Book(msgspec.Struct, frozen=True):
    symbol: str
    checksum: int
    bids: list[_V2Level] = []
    asks: list[_V2Level] = []
    timestamp: str = ""


class _V2Trade(msgspec.Struct, frozen=True):
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    trade_id: int
    timestamp: str


_CONTROL = msgspec.json.Decoder(_Control)
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])
_V1BOOK = msgspec.json.Decoder(_V1Book)
_V1TRADES = msgspec.json.Decoder(list[list[str]])
_NAME = msgspec.json.Decoder(str)
_V2BOOKS = msgspec.json.Decoder(list[_V2Book])
_V2TRADES = msgspec.json.Decoder(list[_V2Trade])
_V1_SIDES = {"b": Side.BUY, "s": Side.SELL}
_V2_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)


class KrakenBook(msgspec.Struct, frozen=True, kw_only=True):
    """One ``book`` message of one pair, ready for the sync."""

    symbol: str
    """The pair as the protocol writes it (v1 ``XBT/CHF``, v2 ``BTC/USD``)."""
    event: BookSnapshot | BookDelta
    checksum: int | None
    """The unsigned CRC32 the venue sent; None for a v1 snapshot, which carries none."""
    depth: int
    """Levels a side the book keeps (v1's ``book-<depth>``); 0 when the message does not say."""
    odd: list[OddLevel]
    """Levels whose text does not have the grid's decimals (v1 only)."""


class _Grids:
    __slots__ = ("instrument", "price", "size", "trades")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.price = StyledGrid(instrument.price_grid(), TextStyle.FIXED)
        self.size = StyledGrid(instrument.size_grid(), TextStyle.FIXED)
        self.trades = 0


class KrakenParser(SymbolReader[_Grids]):
    """Turns Kraken v1 or v2 public frames for a set of pairs into events.

    Frames with no market data are counted in ``ignored`` by kind (``event:heartbeat``,
    ``method:pong``, ...).

    Args:
        instruments: the pairs subscribed, ``symbol`` as the protocol writes the pair.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__({inst.symbol: _Grids(inst) for inst in instruments})

    def grids(self, symbol: str) -> tuple[StyledGrid, StyledGrid]:
        """The price and size grids of a subscribed pair, in Kraken's fixed-decimals style."""
        grids = self._grids[symbol]
        return grids.price, grids.size

    def parse(self, raw: bytes, recv_ts: int) -> list[KrakenBook | Trade]:
        """Parse one WebSocket frame; control frames and other channels give ``[]``.

        Raises:
            MalformedMessage: the frame is not valid JSON of a known shape, or a number is off
                the pair's grid. Pairs not subscribed here are counted as ignored.
        """
        if raw[:1] == b"[":
            return self._v1(raw, recv_ts)
        try:
            frame = _CONTROL.decode(raw)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, "frame", str(exc), raw) from None
        if frame.channel == "book" and frame.type in ("snapshot", "update"):
            return self._v2_books(frame, raw, recv_ts)
        if frame.channel == "trade" and frame.type in ("snapshot", "update"):
            return self._v2_trades(frame, raw, recv_ts)
        if frame.channel in ("book", "trade"):
            raise MalformedMessage(VENUE, frame.channel, f"unknown type {frame.type!r}", raw)
        kind = (
            f"event:{frame.event}"
            if frame.event
            else f"method:{frame.method}"
            if frame.method
            else f"channel:{frame.channel}"
        )
        self.ignored[kind] += 1
        return []

    # ---- v1 ------------------------------------------------------------------------------------

    def _v1(self, raw: bytes, recv_ts: int) -> list[KrakenBook | Trade]:
        try:
            parts = _ARRAY.decode(raw)
            if len(parts) < 4:
                raise MalformedMessage(VENUE, "v1", f"{len(parts)} elements, not 4 or 5", raw)
            name, pair = _NAME.decode(parts[-2]), _NAME.decode(parts[-1])
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, "v1", str(exc), raw) from None
        stream = f"{name}:{pair}"
        if name.startswith("book-") or name == "trade":
            grids = self._grids_of(pair)
            if grids is None:
                return []
            if name == "trade":
                return self._v1_trades(parts[1], grids, stream, raw, recv_ts)
            return [self._v1_book(parts[1:-2], name, grids, stream, raw, recv_ts)]
        self.ignored[f"channel:{name}"] += 1
        return []

    def _v1_book(
        self,
        objects: list[msgspec.Raw],
        name: str,
        grids: _Grids,
        stream: str,
        raw: bytes,
        recv_ts: int,
    ) -> KrakenBook:
        pair = grids.instrument.symbol
        depth_text = name[5:]
        if not depth_text.isdigit():
            raise MalformedMessage(VENUE, stream, f"channel name {name!r} has no depth", raw)
        try:
            books = [_V1BOOK.decode(obj) for obj in objects]
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, stream, str(exc), raw) from None
        odd: list[OddLevel] = []
        iid = grids.instrument.instrument_id
        first = books[0]
        if first.snap_asks is not None or first.snap_bids is not None:
            bid_px, bid_sz, t_bid = _v1_levels(first.snap_bids or [], grids, 0, odd, stream, raw)
            ask_px, ask_sz, t_ask = _v1_levels(first.snap_asks or [], grids, 1, odd, stream, raw)
            snap = BookSnapshot(
                instrument=iid,
                update_id=0,
                bid_px=bid_px,
                bid_sz=bid_sz,
                ask_px=ask_px,
                ask_sz=ask_sz,
                exch_ts=max(t_bid, t_ask),
                recv_ts=recv_ts,
            )
            return KrakenBook(
                symbol=pair, event=snap, checksum=None, depth=int(depth_text), odd=odd
            )
        bids = [level for book in books for level in book.b or ()]
        asks = [level for book in books for level in book.a or ()]
        check = books[-1].c
        if check is None or not check.isdigit():
            raise MalformedMessage(VENUE, stream, f"update checksum c={check!r} is missing", raw)
        bid_px, bid_sz, t_bid = _v1_levels(bids, grids, 0, odd, stream, raw)
        ask_px, ask_sz, t_ask = _v1_levels(asks, grids, 1, odd, stream, raw)
        delta = BookDelta(
            instrument=iid,
            first_id=0,
            last_id=0,
            prev_id=-1,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
            exch_ts=max(t_bid, t_ask),
            recv_ts=recv_ts,
        )
        return KrakenBook(
            symbol=pair, event=delta, checksum=int(check), depth=int(depth_text), odd=odd
        )

    def _v1_trades(
        self, body: msgspec.Raw, grids: _Grids, stream: str, raw: bytes, recv_ts: int
    ) -> list[KrakenBook | Trade]:
        try:
            rows = _V1TRADES.decode(body)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, stream, str(exc), raw) from None
        out: list[KrakenBook | Trade] = []
        for row in rows:
            if len(row) < 4 or row[3] not in _V1_SIDES:
                raise MalformedMessage(VENUE, stream, f"trade {row!r} has no side", raw)
            grids.trades += 1
            out.append(
                Trade(
                    instrument=grids.instrument.instrument_id,
                    trade_id=grids.trades,
                    price=steps(row[0], grids.price.grid, VENUE, stream, "trade", raw),
                    size=steps(row[1], grids.size.grid, VENUE, stream, "trade", raw),
                    aggressor=_V1_SIDES[row[3]],
                    exch_ts=_seconds(row[2], stream, raw),
                    recv_ts=recv_ts,
                )
            )
        return out

    # ---- v2 ------------------------------------------------------------------------------------

    def _v2_books(self, frame: _Control, raw: bytes, recv_ts: int) -> list[KrakenBook | Trade]:
        try:
            books = _V2BOOKS.decode(frame.data)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, "book", str(exc), raw) from None
        out: list[KrakenBook | Trade] = []
        for data in books:
            stream = f"book:{data.symbol}"
            found = self._grids_of(data.symbol)
            if found is None:
                continue
            grids = found
            bid_px, bid_sz = _v2_levels(data.bids, grids, "bid", stream, raw)
            ask_px, ask_sz = _v2_levels(data.asks, grids, "ask", stream, raw)
            exch_ts = _rfc3339(data.timestamp, stream, raw) if data.timestamp else 0
            event = book_event(
                frame.type == "snapshot",
                instrument=grids.instrument.instrument_id,
                update_id=0,
                prev_id=-1,
                bids=(bid_px, bid_sz),
                asks=(ask_px, ask_sz),
                exch_ts=exch_ts,
                recv_ts=recv_ts,
            )
            out.append(
                KrakenBook(symbol=data.symbol, event=event, checksum=data.checksum, depth=0, odd=[])
            )
        return out

    def _v2_trades(self, frame: _Control, raw: bytes, recv_ts: int) -> list[KrakenBook | Trade]:
        try:
            trades = _V2TRADES.decode(frame.data)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, "trade", str(exc), raw) from None
        out: list[KrakenBook | Trade] = []
        for t in trades:
            stream = f"trade:{t.symbol}"
            found = self._grids_of(t.symbol)
            if found is None:
                continue
            grids = found
            side = _V2_SIDES.get(t.side)
            if side is None:
                raise MalformedMessage(VENUE, stream, f"trade side {t.side!r}", raw)
            out.append(
                Trade(
                    instrument=grids.instrument.instrument_id,
                    trade_id=t.trade_id,
                    price=decimal_steps(t.price, grids.price.grid, VENUE, stream, "trade", raw),
                    size=decimal_steps(t.qty, grids.size.grid, VENUE, stream, "trade", raw),
                    aggressor=side,
                    exch_ts=_rfc3339(t.timestamp, stream, raw),
                    recv_ts=recv_ts,
                )
            )
        return out


def _seconds(text: str, stream: str, raw: bytes) -> int:
    try:
        return seconds_ns(text)
    except ValueError as exc:
        raise MalformedMessage(VENUE, stream, str(exc), raw) from None


def _rfc3339(text: str, stream: str, raw: bytes) -> int:
    try:
        return rfc3339_ns(text)
    except ValueError as exc:
        raise MalformedMessage(VENUE, stream, str(exc), raw) from None


def _v1_levels(
    levels: list[list[str]],
    grids: _Grids,
    side: int,
    odd: list[OddLevel],
    stream: str,
    raw: bytes,
) -> tuple[Int64Array, Int64Array, int]:
    """``[[price, volume, ts(, "r")], ...]`` as (ticks, lots, latest level time ns)."""
    n = len(levels)
    px = np.empty(n, dtype=np.int64)
    sz = np.empty(n, dtype=np.int64)
    price, size = grids.price, grids.size
    where = "bid" if side == 0 else "ask"
    latest = 0
    for k, level in enumerate(levels):
        if len(level) < 3:
            raise MalformedMessage(VENUE, stream, f"{where} level {level!r} is too short", raw)
        price_text, size_text = level[0], level[1]
        ticks = steps(price_text, price.grid, VENUE, stream, where, raw)
        if ticks <= 0:
            raise MalformedMessage(VENUE, stream, f"{where} price {price_text!r} not positive", raw)
        lots = steps(size_text, size.grid, VENUE, stream, where, raw)
        px[k] = ticks
        sz[k] = lots
        latest = max(latest, _seconds(level[2], stream, raw))
        if not (price.follows(price_text) and size.follows(size_text)):
            odd.append((side, ticks, lots, price_text, size_text))
    return px, sz, latest


def _v2_levels(
    levels: list[_V2Level], grids: _Grids, where: str, stream: str, raw: bytes
) -> tuple[Int64Array, Int64Array]:
    """``[{"price": n, "qty": n}, ...]`` as (ticks, lots)."""
    n = len(levels)
    px = np.empty(n, dtype=np.int64)
    sz = np.empty(n, dtype=np.int64)
    price, size = grids.price.grid, grids.size.grid
    for k, level in enumerate(levels):
        ticks = decimal_steps(level.price, price, VENUE, stream, where, raw)
        if ticks <= 0:
            raise MalformedMessage(VENUE, stream, f"{where} price {level.price} not positive", raw)
        px[k] = ticks
        sz[k] = decimal_steps(level.qty, size, VENUE, stream, where, raw)
    return px, sz
