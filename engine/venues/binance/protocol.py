"""Binance spot market data, bytes to events: combined-stream frames and REST depth snapshots.

Prices and sizes become integer ticks and lots exactly, with the semantics of
:class:`~engine.core.instruments.DecimalGrid` (text between two steps raises, nothing rounds).
Depth frames, the hot path, never become Python strings: a compiled reader
(:mod:`engine.venues.binance.kernels`) turns the frame's bytes straight into integers; diff level
arrays are views into an arena the parser hands out front to back and never reuses. Whatever the
reader declines (another layout, an escape, a number off the grid) is parsed again by the general
msgspec path and ``DecimalGrid``, which either succeed or name exactly what was wrong. Trade
frames take the typed msgspec decode directly (faster than a compiled call for ~170 bytes); their
price and size texts become steps through a per-instrument memo of exact conversions, since
trades print the same few prices and sizes over and over.

Every problem raises :class:`~engine.errors.MalformedMessage` naming the venue and the stream.

Until the readers are compiled, stand-ins decline every frame, so every parser works from the
first frame on the general path (slower, same events) and nothing imports numba.
:func:`use_compiled_readers` (called by :func:`warm_up` or :func:`engine.jit.activate`) swaps the
compiled readers in for every parser at once; the swap costs nothing per frame afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import msgspec
import numpy as np

from engine import jit
from engine.core.events import BookDelta, BookSnapshot, Int64Array, Side, Trade
from engine.core.instruments import DecimalGrid, Instrument
from engine.errors import InstrumentError, MalformedMessage

_MS = 1_000_000
_SELL, _BUY = Side.SELL, Side.BUY
_INT64_MAX = (1 << 63) - 1
READERS = "engine.venues.binance.kernels"
"""The module holding the compiled readers, as :mod:`engine.jit` names it."""

# ---- the readers' contract ---------------------------------------------------------------------

KernelGrid = tuple[int, int, int, int]
"""(price decimals, price unit, size decimals, size unit): a step is ``unit * 10**-decimals``."""

OK = 0
"""Reader status: the frame was read."""
DECLINED = 1
"""Reader status: not the strict layout, or a number off the grid: the general path decides."""
NEED_SPACE = 2
"""Reader status: the output arena is too small for this frame."""


def kernel_grid(price: DecimalGrid, size: DecimalGrid) -> KernelGrid:
    """An instrument's two grids in the form the readers take.

    Raises:
        InstrumentError: when a step needs more than 18 decimals.
    """
    out: list[int] = []
    for grid in (price, size):
        unit = int(grid.step * 10**grid.decimals)
        if grid.decimals > 18 or unit > _INT64_MAX:
            raise InstrumentError(f"{grid.what} step {grid.step} is too fine for int64 steps")
        out += [grid.decimals, unit]
    return out[0], out[1], out[2], out[3]


DepthRead = tuple[int, int, int, int, int, int, int]
"""What ``depth_frame`` returns: (status, E, U, u, bid count, ask count, room)."""
FuturesDepthRead = tuple[int, int, int, int, int, int, int, int]
"""What ``futures_depth_frame`` returns: (status, E, U, u, pu, bid count, ask count, room)."""
LevelsRead = tuple[Int64Array, Int64Array, int]
"""What ``levels_only`` returns: (prices, sizes, status)."""

_NO_LEVELS: Int64Array = np.empty(0, dtype=np.int64)


def _decline_depth(
    buf: bytes, symbol: bytes, out: Int64Array, off: int, grid: KernelGrid
) -> DepthRead:
    """Stand-in for the compiled ``depth_frame``: declines, so the general path parses."""
    return DECLINED, 0, 0, 0, 0, 0, 0


def _decline_futures_depth(
    buf: bytes, symbol: bytes, out: Int64Array, off: int, grid: KernelGrid
) -> FuturesDepthRead:
    """Stand-in for the compiled ``futures_depth_frame``: declines, so the general path parses."""
    return DECLINED, 0, 0, 0, -1, 0, 0, 0


def _decline_levels(buf: bytes, grid: KernelGrid) -> LevelsRead:
    """Stand-in for the compiled ``levels_only``: declines, so the general path parses."""
    return _NO_LEVELS, _NO_LEVELS, DECLINED


_depth_frame: Callable[[bytes, bytes, Int64Array, int, KernelGrid], DepthRead] = _decline_depth
_futures_depth_frame: Callable[[bytes, bytes, Int64Array, int, KernelGrid], FuturesDepthRead] = (
    _decline_futures_depth
)
_levels_only: Callable[[bytes, KernelGrid], LevelsRead] = _decline_levels
SidesRead = tuple[int, int, int, int]
"""What ``book_sides`` returns: (status, bid count, ask count, room)."""


def _decline_sides(
    bids: bytes, asks: bytes, out: Int64Array, off: int, grid: KernelGrid
) -> SidesRead:
    """Stand-in for the compiled ``book_sides``: declines, so the general path parses."""
    return DECLINED, 0, 0, 0


_book_sides: Callable[[bytes, bytes, Int64Array, int, KernelGrid], SidesRead] = _decline_sides


def use_compiled_readers() -> None:
    """Load the compiled readers (compiling them if numba's cache lacks them) for every parser.

    Raises:
        engine.jit.KernelLoadError: the readers could not be compiled or loaded.
    """
    global _depth_frame, _futures_depth_frame, _levels_only, _book_sides
    jit.load_kernels(READERS)
    from engine.venues.binance import kernels  # imports numba: only once compiled

    _depth_frame, _futures_depth_frame, _levels_only, _book_sides = (
        kernels.depth_frame,
        kernels.futures_depth_frame,
        kernels.levels_only,
        kernels.book_sides,
    )


def compiled_readers() -> bool:
    """True once parsers use the compiled readers."""
    return _depth_frame is not _decline_depth


def warm_up() -> None:
    """Load the compiled readers now, so the first frame pays no compile time.

    Idempotent. While :mod:`engine.jit` compiles in a background process this returns at once:
    the readers are swapped in when that process is done and the engine activates it.

    Raises:
        engine.jit.KernelLoadError: the readers could not be compiled or loaded.
    """
    if not compiled_readers() and not jit.deferred():
        use_compiled_readers()


_MEMO_ENTRIES = 1024
"""Texts a grid's memo keeps before it starts again empty: about 130 kB per grid when full.

Trade prices and sizes on a busy pair hit a 1,024-text memo 76% and 66% of the time (4,096 texts:
79% and 79%, for four times the memory per instrument; the captured BTCUSDT session)."""


class Grids:
    """An instrument's symbol, tick grid and lot grid, in the forms the parsers take.

    ``price_memo`` and ``size_memo`` remember exact conversions of texts already seen (only
    successful ones: a bad text raises every time it comes).
    """

    __slots__ = ("kernel", "price", "price_memo", "size", "size_memo", "symbol")

    def __init__(self, instrument: Instrument) -> None:
        self.symbol = instrument.symbol.encode()
        self.price = instrument.price_grid()
        self.size = instrument.size_grid()
        self.kernel = kernel_grid(self.price, self.size)
        self.price_memo: dict[str, int] = {}
        self.size_memo: dict[str, int] = {}


def memo_steps(
    text: str, grid: DecimalGrid, memo: dict[str, int], venue: str, stream: str, where: str
) -> int:
    """:func:`decimal_steps`, remembered in ``memo`` (emptied when it holds too many texts).

    Raises:
        MalformedMessage: as :func:`decimal_steps`.
    """
    steps = memo.get(text)
    if steps is None:
        steps = decimal_steps(text, grid, venue, stream, where)
        if len(memo) >= _MEMO_ENTRIES:
            memo.clear()
        memo[text] = steps
    return steps


def decimal_steps(text: str, grid: DecimalGrid, venue: str, stream: str, where: str) -> int:
    """Exact steps of ``text`` on ``grid``: a plain non-negative ASCII decimal that fits int64.

    Raises:
        MalformedMessage: the text is not such a decimal, is off the grid or out of range.
    """
    if not text.isascii() or text[:1] in ("-", "+"):
        raise MalformedMessage(venue, stream, f"{where} {grid.what} {text!r} is not a decimal")
    try:
        steps = grid.to_int(text)
    except InstrumentError as exc:
        raise MalformedMessage(venue, stream, f"{where} {exc}") from None
    if steps > _INT64_MAX:
        raise MalformedMessage(venue, stream, f"{where} {grid.what} {text!r} is out of range")
    return steps


def parse_levels(
    raw: bytes, grids: Grids, side: str, venue: str, stream: str
) -> tuple[Int64Array, Int64Array]:
    """One side's ``[["price","size"],...]`` as (price ticks, size lots) int64 arrays.

    Raises:
        MalformedMessage: naming the side and the offending text.
    """
    px, sz, status = _levels_only(raw, grids.kernel)
    if status == OK:
        return px, sz
    # the general path: converts what the kernel declined, or says exactly what is wrong
    try:
        levels = _LEVELS.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise MalformedMessage(venue, stream, f"{side}s: {exc}", raw) from None
    px = np.empty(len(levels), dtype=np.int64)
    sz = np.empty(len(levels), dtype=np.int64)
    for k, (price_text, size_text) in enumerate(levels):
        px[k] = decimal_steps(price_text, grids.price, venue, stream, side)
        sz[k] = decimal_steps(size_text, grids.size, venue, stream, side)
        if px[k] <= 0:
            raise MalformedMessage(venue, stream, f"{side} price {price_text!r} is not positive")
    return px, sz


_LEVELS = msgspec.json.Decoder(list[tuple[str, str]])


class LevelArena:
    """Level arrays of parsed pushes, handed out front to back and never reused.

    A full arena is replaced by a fresh one; the old one lives as long as events point into it.
    """

    __slots__ = ("buf", "used")

    def __init__(self) -> None:
        self.buf: Int64Array = np.empty(_ARENA_SLOTS, dtype=np.int64)
        self.used = 0


def parse_sides(
    bids: bytes, asks: bytes, grids: Grids, arena: LevelArena, venue: str, stream: str
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array]:
    """A push's two ``[["price","size"],...]`` lists as (bid px, bid sz, ask px, ask sz).

    One compiled call reads both into ``arena``; what it declines goes the general way
    (:func:`parse_levels`), which either converts it or says exactly what is wrong.

    Raises:
        MalformedMessage: naming the side and the offending text.
    """
    buf, off = arena.buf, arena.used
    status, n_bids, n_asks, room = _book_sides(bids, asks, buf, off, grids.kernel)
    if status == NEED_SPACE:
        buf, off = np.empty(max(_ARENA_SLOTS, 4 * room), dtype=np.int64), 0
        arena.buf = buf
        status, n_bids, n_asks, room = _book_sides(bids, asks, buf, off, grids.kernel)
    if status != OK:
        bid_px, bid_sz = parse_levels(bids, grids, "bid", venue, stream)
        ask_px, ask_sz = parse_levels(asks, grids, "ask", venue, stream)
        return bid_px, bid_sz, ask_px, ask_sz
    arena.used = off + 4 * room
    a0 = off + 2 * room
    return (
        buf[off : off + n_bids],
        buf[off + room : off + room + n_bids],
        buf[a0 : a0 + n_asks],
        buf[a0 + room : a0 + room + n_asks],
    )


# ---- frames --------------------------------------------------------------------------------


class ServerShutdown(msgspec.Struct, frozen=True, kw_only=True):
    """The venue announced it will close this connection (``serverShutdown``); reconnect now."""

    recv_ts: int
    """When the announcement arrived, ns."""


class BookTop(msgspec.Struct, frozen=True, kw_only=True):
    """A futures ``bookTicker``: the venue's best bid and ask as of book update ``update_id``.

    Where it carries the ``u`` of the last diff applied, the book's top must equal it, an
    independent check of the rebuilt book (venues.md §9.5).
    """

    instrument: int
    update_id: int
    bid_px: int
    bid_sz: int
    ask_px: int
    ask_sz: int
    exch_ts: int
    recv_ts: int


# what a stream carries (plain ints: compared on every frame)
_DEPTH, _TRADE, _IGNORED, _SHUTDOWN, _AGG_TRADE, _BOOK_TICKER = 1, 2, 3, 4, 5, 6


class _Envelope(msgspec.Struct):
    stream: str = ""
    data: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET
    event: str = msgspec.field(default="", name="e")
    code: int | msgspec.UnsetType = msgspec.UNSET
    msg: str = ""


class _DepthUpdate(msgspec.Struct):
    event: str = msgspec.field(name="e")
    event_time: int = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    first_id: int = msgspec.field(name="U")
    last_id: int = msgspec.field(name="u")
    bids: msgspec.Raw = msgspec.field(name="b")
    asks: msgspec.Raw = msgspec.field(name="a")
    prev_id: int = msgspec.field(default=-1, name="pu")


class _DepthFrame(msgspec.Struct):
    stream: str
    data: _DepthUpdate


class _TradeEvent(msgspec.Struct):
    event: str = msgspec.field(name="e")
    symbol: str = msgspec.field(name="s")
    trade_id: int = msgspec.field(name="t")
    price: str = msgspec.field(name="p")
    quantity: str = msgspec.field(name="q")
    trade_time: int = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")


class _TradeFrame(msgspec.Struct):
    stream: str
    data: _TradeEvent


class _AggTradeEvent(msgspec.Struct):
    event: str = msgspec.field(name="e")
    symbol: str = msgspec.field(name="s")
    trade_id: int = msgspec.field(name="a")
    price: str = msgspec.field(name="p")
    quantity: str = msgspec.field(name="q")
    trade_time: int = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")


class _AggTradeFrame(msgspec.Struct):
    stream: str
    data: _AggTradeEvent


class _BookTickerEvent(msgspec.Struct):
    event: str = msgspec.field(name="e")
    update_id: int = msgspec.field(name="u")
    symbol: str = msgspec.field(name="s")
    bid: str = msgspec.field(name="b")
    bid_size: str = msgspec.field(name="B")
    ask: str = msgspec.field(name="a")
    ask_size: str = msgspec.field(name="A")
    event_time: int = msgspec.field(default=0, name="E")


class _BookTickerFrame(msgspec.Struct):
    stream: str
    data: _BookTickerEvent


class _DepthSnapshot(msgspec.Struct):
    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: msgspec.Raw
    asks: msgspec.Raw


_STREAM_RE = re.compile(rb'"stream"\s*:\s*"([^"\\]{1,100})"')
_DEPTH_RE = re.compile(r"depth(@\d+ms)?")
_PREFIX = b'{"stream":"'
_PREFIX_LEN = len(_PREFIX)
_ARENA_SLOTS = 1 << 16
_NO_ROUTE: tuple[int, int] = (_IGNORED, -1)


def stream_names(instruments: list[Instrument], depth_interval_ms: int = 100) -> list[str]:
    """The combined-stream names for diff depth and trades of every instrument.

    ``depth_interval_ms`` of 1000 gives Binance's plain ``<symbol>@depth``; anything else gives
    ``<symbol>@depth@<n>ms`` (Binance serves 100; the local venue serves any cadence).
    """
    depth = "depth" if depth_interval_ms == 1000 else f"depth@{depth_interval_ms}ms"
    names: list[str] = []
    for inst in instruments:
        sym = inst.symbol.lower()
        names += [f"{sym}@{depth}", f"{sym}@trade"]
    return names


_F = TypeVar("_F", _DepthFrame, _TradeFrame, _AggTradeFrame, _BookTickerFrame)
"""A frame type the general path decodes."""


class BinanceSpotParser:
    """Turns Binance spot frames and snapshots for a set of instruments into events.

    The futures parser (:class:`~engine.venues.binance_usdm.protocol.BinanceUsdmParser`) is this
    class with :attr:`futures` set: depth diffs must carry ``pu`` (it becomes
    :attr:`~engine.core.events.BookDelta.prev_id`), ``aggTrade`` streams are read as trades
    (``a`` is the trade id) and the zero-price, zero-size trade prints futures send for trade
    ids spent without a fill are dropped, and ``bookTicker`` becomes :class:`BookTop`.

    Args:
        instruments: the instruments whose streams are parsed; other streams are ignored.
        venue: the venue name used in errors and logs.
    """

    futures = False
    """True for Binance futures (USD-M, COIN-M) frames."""

    def __init__(self, instruments: list[Instrument], venue: str = "binance") -> None:
        self.unknown = 0
        """Frames of streams or kinds this parser does not consume (bookTicker, kline ...)."""
        self.venue = venue
        self.instruments = list(instruments)
        self._by_symbol = {i.symbol.lower(): n for n, i in enumerate(self.instruments)}
        self._grids = [Grids(i) for i in self.instruments]
        self._routes: dict[bytes, tuple[int, int]] = {}
        self._envelope = msgspec.json.Decoder(_Envelope)
        self._depth = msgspec.json.Decoder(_DepthFrame)
        self._trade = msgspec.json.Decoder(_TradeFrame)
        self._agg_trade = msgspec.json.Decoder(_AggTradeFrame)
        self._book_ticker = msgspec.json.Decoder(_BookTickerFrame)
        self._snapshot = msgspec.json.Decoder(_DepthSnapshot)
        #: level arrays of parsed diffs are views into this, handed out front to back and never
        #: reused; a full arena is replaced by a fresh one (the old one lives while events do)
        self._arena = np.empty(_ARENA_SLOTS, dtype=np.int64)
        self._arena_used = 0

    def _route(self, stream: bytes) -> tuple[int, int]:
        route = self._routes.get(stream)
        if route is not None:
            return route
        name = stream.decode("utf-8", "replace")
        sym, _, channel = name.partition("@")
        index = self._by_symbol.get(sym, -1)
        if name == "!serverShutdown":
            route = (_SHUTDOWN, -1)
        elif index < 0:
            route = _NO_ROUTE
        elif _DEPTH_RE.fullmatch(channel):
            route = (_DEPTH, index)
        elif channel == "trade":
            route = (_TRADE, index)
        elif channel == "aggTrade" and self.futures:
            route = (_AGG_TRADE, index)
        elif channel == "bookTicker" and self.futures:
            route = (_BOOK_TICKER, index)
        else:
            route = _NO_ROUTE
        if len(self._routes) < 4096:
            self._routes[stream] = route
        return route

    def parse_frame(
        self, raw: bytes | str, recv_ts: int
    ) -> BookDelta | Trade | BookTop | ServerShutdown | None:
        """Parse one combined-stream frame.

        Args:
            raw: the frame as received.
            recv_ts: local receive time, ns.

        Returns:
            A book diff or trade for one of our instruments, a futures :class:`BookTop`,
            :class:`ServerShutdown`, or None for subscription acknowledgements and streams we do
            not consume (spot bookTicker, kline ...).

        Raises:
            MalformedMessage: the frame is not JSON, has the wrong shape, belongs to a depth or
                trade stream but misses fields, or carries prices or sizes off the grid.
        """
        data = raw if type(raw) is bytes else raw.encode() if isinstance(raw, str) else bytes(raw)
        if data.startswith(_PREFIX):
            stream = data[_PREFIX_LEN : data.find(b'"', _PREFIX_LEN)]
            route = self._routes.get(stream) or self._route(stream)
            if route[0] == _DEPTH:
                return self._parse_depth(data, stream, route[1], recv_ts)
            if route[0] == _TRADE:
                return self._parse_trade(data, stream, route[1], recv_ts)
            if route[0] != _IGNORED and route[0] != _SHUTDOWN:
                return self._parse_futures_only(route[0], data, stream, route[1], recv_ts)
        return self._parse_other(data, recv_ts)

    def _parse_futures_only(
        self, kind: int, data: bytes, stream: bytes, index: int, recv_ts: int
    ) -> Trade | BookTop | None:
        """``aggTrade`` and ``bookTicker``, the streams only futures parsers route."""
        if kind == _AGG_TRADE:
            return self._parse_trade(data, stream, index, recv_ts, agg=True)
        return self._parse_book_ticker(data, stream, index, recv_ts)

    def _fail(self, data: bytes, message: str, stream: str | None = None) -> MalformedMessage:
        if stream is None:
            found = _STREAM_RE.search(data)
            stream = found.group(1).decode("utf-8", "replace") if found else "unknown"
        return MalformedMessage(self.venue, stream, message, data)

    def _parse_other(
        self, data: bytes, recv_ts: int
    ) -> ServerShutdown | BookDelta | Trade | BookTop | None:
        try:
            env = self._envelope.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise self._fail(data, str(exc)) from None
        if env.stream:
            stream = env.stream.encode()
            kind, index = self._route(stream)
            if isinstance(env.data, msgspec.UnsetType):
                raise self._fail(data, "combined-stream frame without data", env.stream)
            if kind == _SHUTDOWN:
                return ServerShutdown(recv_ts=recv_ts)
            if kind == _IGNORED:
                self.unknown += 1
                return None
            # a depth or trade frame laid out differently (key order, spacing): decode it typed
            canonical = msgspec.json.encode({"stream": env.stream, "data": env.data})
            if kind == _DEPTH:
                return self._parse_depth(canonical, stream, index, recv_ts)
            if kind == _TRADE:
                return self._parse_trade(canonical, stream, index, recv_ts)
            return self._parse_futures_only(kind, canonical, stream, index, recv_ts)
        if env.event == "serverShutdown":
            return ServerShutdown(recv_ts=recv_ts)
        if not isinstance(env.code, msgspec.UnsetType):
            raise self._fail(data, f"venue error {env.code}: {env.msg}", "control")
        if not isinstance(env.id, msgspec.UnsetType):
            return None  # {"result":null,"id":1}: an acknowledgement
        if env.event:
            self.unknown += 1  # a raw event of a kind we do not consume
            return None
        raise self._fail(data, "neither a stream frame nor an acknowledgement", "unknown")

    def _parse_depth(self, data: bytes, stream: bytes, index: int, recv_ts: int) -> BookDelta:
        grids = self._grids[index]
        arena, off = self._arena, self._arena_used
        fresh = False
        while True:  # at most twice: a full arena is replaced once
            if self.futures:
                status, event_time, first_id, last_id, prev_id, n_bids, n_asks, room = (
                    _futures_depth_frame(data, grids.symbol, arena, off, grids.kernel)
                )
            else:
                prev_id = -1
                status, event_time, first_id, last_id, n_bids, n_asks, room = _depth_frame(
                    data, grids.symbol, arena, off, grids.kernel
                )
            if status != NEED_SPACE or fresh:
                break
            fresh = True
            arena, off = np.empty(max(_ARENA_SLOTS, 4 * room), dtype=np.int64), 0
            self._arena = arena
        if status != OK:
            return self._parse_depth_general(data, stream, index, recv_ts)
        self._arena_used = off + 4 * room
        asks = off + 2 * room
        return BookDelta(
            instrument=self.instruments[index].instrument_id,
            first_id=first_id,
            last_id=last_id,
            prev_id=prev_id,
            bid_px=arena[off : off + n_bids],
            bid_sz=arena[off + room : off + room + n_bids],
            ask_px=arena[asks : asks + n_asks],
            ask_sz=arena[asks + room : asks + room + n_asks],
            exch_ts=event_time * _MS,
            recv_ts=recv_ts,
        )

    def _decode(self, decoder: msgspec.json.Decoder[_F], data: bytes, name: str) -> _F:
        """Typed decode on the general path; any failure is a MalformedMessage on ``name``."""
        try:
            return decoder.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(self.venue, name, str(exc), data) from None

    def _check_event(
        self,
        name: str,
        data: bytes,
        stream: str,
        event: str,
        expected: str,
        symbol: str,
        inst: Instrument,
    ) -> None:
        """Refuse a frame whose event type, stream or symbol is not the one it arrived as."""
        if event != expected or stream != name:
            raise MalformedMessage(self.venue, name, f"unexpected event {event!r}", data)
        if symbol != inst.symbol:
            raise MalformedMessage(self.venue, name, f"symbol {symbol!r} on this stream", data)

    def _parse_depth_general(
        self, data: bytes, stream: bytes, index: int, recv_ts: int
    ) -> BookDelta:
        name = stream.decode()
        frame = self._decode(self._depth, data, name)
        upd = frame.data
        inst = self.instruments[index]
        self._check_event(name, data, frame.stream, upd.event, "depthUpdate", upd.symbol, inst)
        if not 0 < upd.first_id <= upd.last_id:
            raise MalformedMessage(
                self.venue, name, f"update ids U={upd.first_id} u={upd.last_id} out of order", data
            )
        if self.futures and upd.prev_id < 0:
            raise MalformedMessage(self.venue, name, "futures depth update without pu", data)
        grids = self._grids[index]
        bid_px, bid_sz = parse_levels(bytes(upd.bids), grids, "bid", self.venue, name)
        ask_px, ask_sz = parse_levels(bytes(upd.asks), grids, "ask", self.venue, name)
        return BookDelta(
            instrument=inst.instrument_id,
            first_id=upd.first_id,
            last_id=upd.last_id,
            prev_id=upd.prev_id if self.futures else -1,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
            exch_ts=upd.event_time * _MS,
            recv_ts=recv_ts,
        )

    def _parse_trade(
        self, data: bytes, stream: bytes, index: int, recv_ts: int, *, agg: bool = False
    ) -> Trade | None:
        """A trade (futures: also aggTrade) frame: one typed decode, texts to steps by the memo."""
        name = stream.decode()
        try:
            frame = (self._agg_trade if agg else self._trade).decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(self.venue, name, str(exc), data) from None
        trade = frame.data
        inst = self.instruments[index]
        expected = "aggTrade" if agg else "trade"
        if trade.event != expected or frame.stream != name or trade.symbol != inst.symbol:
            self._check_event(name, data, frame.stream, trade.event, expected, trade.symbol, inst)
        grids = self._grids[index]
        price = grids.price_memo.get(trade.price)
        if price is None:
            price = memo_steps(
                trade.price, grids.price, grids.price_memo, self.venue, name, "trade"
            )
        size = grids.size_memo.get(trade.quantity)
        if size is None:
            size = memo_steps(
                trade.quantity, grids.size, grids.size_memo, self.venue, name, "trade"
            )
        if self.futures and price == 0 and size == 0:
            return None  # a trade id spent without a fill (venues.md §2.5)
        if price <= 0 or size <= 0 or trade.trade_id < 0 or trade.trade_time < 0:
            raise MalformedMessage(
                self.venue,
                name,
                "trade price and size must be positive, ids and times not negative",
                data,
            )
        return Trade(
            instrument=inst.instrument_id,
            trade_id=trade.trade_id,
            price=price,
            size=size,
            aggressor=_SELL if trade.buyer_is_maker else _BUY,
            exch_ts=trade.trade_time * _MS,
            recv_ts=recv_ts,
        )

    def _parse_book_ticker(self, data: bytes, stream: bytes, index: int, recv_ts: int) -> BookTop:
        name = stream.decode()
        tick = self._decode(self._book_ticker, data, name).data
        inst = self.instruments[index]
        self._check_event(name, data, name, tick.event, "bookTicker", tick.symbol, inst)
        grids = self._grids[index]
        return BookTop(
            instrument=inst.instrument_id,
            update_id=tick.update_id,
            bid_px=decimal_steps(tick.bid, grids.price, self.venue, name, "bid"),
            bid_sz=decimal_steps(tick.bid_size, grids.size, self.venue, name, "bid"),
            ask_px=decimal_steps(tick.ask, grids.price, self.venue, name, "ask"),
            ask_sz=decimal_steps(tick.ask_size, grids.size, self.venue, name, "ask"),
            exch_ts=tick.event_time * _MS,
            recv_ts=recv_ts,
        )

    def parse_snapshot(self, raw: bytes, instrument: Instrument, recv_ts: int) -> BookSnapshot:
        """Parse a ``GET /api/v3/depth`` (futures: ``/fapi/v1/depth``, ``/dapi/v1/depth``) body.

        Raises:
            MalformedMessage: naming ``<symbol> depth snapshot`` as the stream.
        """
        stream = f"{instrument.symbol} depth snapshot"
        index = self._by_symbol.get(instrument.symbol.lower())
        if index is None:
            raise MalformedMessage(self.venue, stream, "instrument is not known to this parser")
        try:
            snap = self._snapshot.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise MalformedMessage(self.venue, stream, str(exc), raw) from None
        if snap.last_update_id < 0:
            raise MalformedMessage(self.venue, stream, "negative lastUpdateId", raw)
        grids = self._grids[index]
        bid_px, bid_sz = parse_levels(bytes(snap.bids), grids, "bid", self.venue, stream)
        ask_px, ask_sz = parse_levels(bytes(snap.asks), grids, "ask", self.venue, stream)
        return BookSnapshot(
            instrument=instrument.instrument_id,
            update_id=snap.last_update_id,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
            recv_ts=recv_ts,
        )
