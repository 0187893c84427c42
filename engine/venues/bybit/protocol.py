"""Bybit v5 public market data, bytes to events: ``orderbook.{depth}.{symbol}`` and publicTrade.

One parser serves one public socket (one category: ``linear``, ``spot`` ...). Frames are decoded
typed with msgspec by key, never by position (the key order differs by depth and category,
venues.md §3.3); the level lists stay raw bytes and go straight to integer ticks and lots
through the compiled level reader Binance's parser uses
(:func:`~engine.venues.binance.protocol.parse_levels`, with the exact
:class:`~engine.core.instruments.DecimalGrid` semantics: text between two steps is refused,
nothing rounds).

- a ``snapshot`` becomes a :class:`~engine.core.events.BookSnapshot` at ``u``; a ``delta`` a
  :class:`~engine.core.events.BookDelta` with ``first_id == last_id == u`` (``prev_id`` -1:
  Bybit sends none); both carry ``ts`` as exchange time;
- ``publicTrade`` becomes one :class:`~engine.core.events.Trade` per item (``S`` is the taker's
  side; ``i`` is a UUID on derivatives and a number on spot: a UUID becomes its low 63 bits);
- ``op`` answers (subscribe, the ``pong`` to our ping) become
  :class:`~engine.venues.bybit.private.OpAnswer`;
- other topics (tickers, kline ...) are counted in :attr:`BybitPublicParser.unknown` and ignored.

Every problem raises :class:`~engine.errors.MalformedMessage` naming the venue and the topic.
"""

from __future__ import annotations

import hashlib
import re

import msgspec

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.binance.protocol import Grids, LevelArena, decimal_steps, parse_sides
from engine.venues.bybit.private import OpAnswer, ping_frame, subscribe_frame

__all__ = [
    "CATEGORIES",
    "BookTopic",
    "BybitPublicParser",
    "OpAnswer",
    "book_topic",
    "ping_frame",
    "subscribe_frame",
    "trade_topic",
]

_MS = 1_000_000
_INT63 = (1 << 63) - 1
CATEGORIES = ("linear", "spot", "inverse")
"""Public sockets this parser reads (``/v5/public/<category>``)."""


def book_topic(depth: int, symbol: str) -> str:
    """``orderbook.<depth>.<SYMBOL>``."""
    return f"orderbook.{depth}.{symbol}"


def trade_topic(symbol: str) -> str:
    """``publicTrade.<SYMBOL>``."""
    return f"publicTrade.{symbol}"


class BookTopic(msgspec.Struct, frozen=True):
    """What an orderbook frame said besides its levels: which topic and its cross sequence."""

    topic: str
    seq: int


class _Envelope(msgspec.Struct):
    topic: str = ""
    type: str = ""
    ts: int = 0
    data: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    op: str = ""
    success: bool = True
    ret_msg: str = ""
    req_id: str = ""


class _BookData(msgspec.Struct):
    symbol: str = msgspec.field(name="s")
    bids: msgspec.Raw = msgspec.field(name="b")
    asks: msgspec.Raw = msgspec.field(name="a")
    update_id: int = msgspec.field(name="u")
    seq: int = 0


class _BookFrame(msgspec.Struct):
    """An orderbook push decoded in one pass (the hot path); other frames go by the envelope."""

    topic: str
    type: str
    ts: int
    data: _BookData


class _TradeItem(msgspec.Struct):
    time: int = msgspec.field(name="T")
    symbol: str = msgspec.field(name="s")
    side: str = msgspec.field(name="S")
    size: str = msgspec.field(name="v")
    price: str = msgspec.field(name="p")
    trade_id: str = msgspec.field(name="i")


_BOOK, _TRADE = 1, 2


class BybitPublicParser:
    """Turns one Bybit v5 public socket's frames for a set of instruments into events.

    Args:
        instruments: the instruments whose topics are parsed; other symbols are ignored.
        venue: the venue name used in errors and logs.
    """

    def __init__(self, instruments: list[Instrument], venue: str = "bybit-linear") -> None:
        self.venue = venue
        self.instruments = list(instruments)
        self.unknown = 0
        """Frames of topics or kinds this parser does not consume (tickers, kline ...)."""
        self._index = {i.symbol: n for n, i in enumerate(self.instruments)}
        self._grids = [Grids(i) for i in self.instruments]
        self._routes: dict[str, tuple[int, int]] = {}
        self._envelope = msgspec.json.Decoder(_Envelope)
        self._book = msgspec.json.Decoder(_BookData)
        self._book_frame = msgspec.json.Decoder(_BookFrame)
        self._arena = LevelArena()
        self._trades = msgspec.json.Decoder(list[_TradeItem])

    def _route(self, topic: str) -> tuple[int, int]:
        route = self._routes.get(topic)
        if route is not None:
            return route
        kind, _, rest = topic.partition(".")
        symbol = rest.rpartition(".")[2]
        index = self._index.get(symbol, -1)
        if index < 0:
            route = (0, -1)
        elif kind == "orderbook":
            route = (_BOOK, index)
        elif kind == "publicTrade" and rest == symbol:
            route = (_TRADE, index)
        else:
            route = (0, -1)
        if len(self._routes) < 4096:
            self._routes[topic] = route
        return route

    def parse_frame(
        self, raw: bytes | str, recv_ts: int
    ) -> BookSnapshot | BookDelta | list[Trade] | OpAnswer | None:
        """Parse one frame.

        Returns:
            A book snapshot or delta, the trades of a ``publicTrade`` push, an ``op`` answer,
            or None for topics not consumed here (counted in :attr:`unknown`).

        Raises:
            MalformedMessage: not JSON, the wrong shape, a book or trade push missing fields,
                or prices and sizes off the grid.
        """
        data = raw if isinstance(raw, bytes) else raw.encode()
        if data.find(b'"orderbook.', 0, 64) >= 0:  # a book push: one typed pass
            try:
                frame = self._book_frame.decode(data)
            except (msgspec.DecodeError, UnicodeDecodeError):
                pass  # the general path below says what is wrong
            else:
                kind, index = self._routes.get(frame.topic) or self._route(frame.topic)
                if kind == _BOOK:
                    return self._book_event(
                        frame.topic, frame.type, frame.ts, frame.data, index, data, recv_ts
                    )
        try:
            env = self._envelope.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(self.venue, _topic_of(data), str(exc), data) from None
        if env.topic:
            kind, index = self._routes.get(env.topic) or self._route(env.topic)
            if kind == 0:
                self.unknown += 1
                return None
            if isinstance(env.data, msgspec.UnsetType):
                raise MalformedMessage(self.venue, env.topic, "push without data", data)
            if kind == _BOOK:
                return self._parse_book(env, index, data, recv_ts)
            return self._parse_trades(env, index, data, recv_ts)
        if env.op:
            return OpAnswer(op=env.op, req_id=env.req_id, success=env.success, ret_msg=env.ret_msg)
        raise MalformedMessage(self.venue, "unknown", "neither a topic push nor an op answer", data)

    def _parse_book(
        self, env: _Envelope, index: int, data: bytes, recv_ts: int
    ) -> BookSnapshot | BookDelta:
        topic = env.topic
        assert not isinstance(env.data, msgspec.UnsetType)
        try:
            book = self._book.decode(env.data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(self.venue, topic, str(exc), data) from None
        return self._book_event(topic, env.type, env.ts, book, index, data, recv_ts)

    def _book_event(
        self,
        topic: str,
        kind: str,
        ts: int,
        book: _BookData,
        index: int,
        data: bytes,
        recv_ts: int,
    ) -> BookSnapshot | BookDelta:
        inst = self.instruments[index]
        if book.symbol != inst.symbol:
            raise MalformedMessage(self.venue, topic, f"symbol {book.symbol!r} on this topic", data)
        if book.update_id <= 0:
            raise MalformedMessage(self.venue, topic, f"update id u={book.update_id}", data)
        bid_px, bid_sz, ask_px, ask_sz = parse_sides(
            bytes(book.bids), bytes(book.asks), self._grids[index], self._arena, self.venue, topic
        )
        if kind == "snapshot":
            return BookSnapshot(
                instrument=inst.instrument_id,
                update_id=book.update_id,
                bid_px=bid_px,
                bid_sz=bid_sz,
                ask_px=ask_px,
                ask_sz=ask_sz,
                exch_ts=ts * _MS,
                recv_ts=recv_ts,
            )
        if kind != "delta":
            raise MalformedMessage(self.venue, topic, f"book push of type {kind!r}", data)
        return BookDelta(
            instrument=inst.instrument_id,
            first_id=book.update_id,
            last_id=book.update_id,
            prev_id=-1,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
            exch_ts=ts * _MS,
            recv_ts=recv_ts,
        )

    def _parse_trades(self, env: _Envelope, index: int, data: bytes, recv_ts: int) -> list[Trade]:
        topic = env.topic
        assert not isinstance(env.data, msgspec.UnsetType)
        try:
            items = self._trades.decode(env.data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(self.venue, topic, str(exc), data) from None
        inst = self.instruments[index]
        grids = self._grids[index]
        trades: list[Trade] = []
        for item in items:
            if item.symbol != inst.symbol or item.side not in ("Buy", "Sell"):
                raise MalformedMessage(
                    self.venue, topic, f"trade of {item.symbol!r} side {item.side!r}", data
                )
            price = decimal_steps(item.price, grids.price, self.venue, topic, "trade")
            size = decimal_steps(item.size, grids.size, self.venue, topic, "trade")
            if price <= 0 or size <= 0:
                raise MalformedMessage(self.venue, topic, "trade price and size must be > 0", data)
            trades.append(
                Trade(
                    instrument=inst.instrument_id,
                    trade_id=_trade_id(item.trade_id),
                    price=price,
                    size=size,
                    aggressor=Side.BUY if item.side == "Buy" else Side.SELL,
                    exch_ts=item.time * _MS,
                    recv_ts=recv_ts,
                )
            )
        return trades


def _trade_id(text: str) -> int:
    """A numeric id as is; a UUID (derivatives) as its low 63 bits; anything else hashed."""
    if text.isascii() and text.isdigit():
        return int(text) & _INT63  # spot ids: 19 digits, under 2**63
    try:
        return int(text.replace("-", ""), 16) & _INT63
    except ValueError:
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()) & _INT63


_TOPIC_RE = re.compile(rb'"topic"\s*:\s*"([^"\\]{1,100})"')


def _topic_of(data: bytes) -> str:
    """The topic a frame that did not parse names, for its error; ``unknown`` when none."""
    found = _TOPIC_RE.search(data)
    return found.group(1).decode("utf-8", "replace") if found else "unknown"
