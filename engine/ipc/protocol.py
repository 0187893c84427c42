"""The engine <-> UI wire format: one fixed-width record for rings, and state-page views.

Rings carry :data:`RECORD` (64 bytes, little-endian) in both directions: engine->UI events
(trades, halts, alerts, resyncs) and UI->engine commands (kill). Prices are integer ticks and sizes
integer lots; timestamps are integer nanoseconds. State pages carry the *latest* value of a view
(:class:`BookView`, :class:`EngineView`) encoded with msgpack; readers skip to it, never queue.
Bytes that are not a record or a view raise :class:`UnreadableFrame` naming what and why.
"""

from __future__ import annotations

import enum
import struct
from typing import Literal, NamedTuple, TypeVar

import msgspec

from engine.errors import IpcError

_V = TypeVar("_V")

#: ``kind u16 | flags u16 | instrument u32 | exch_ts | recv_ts | engine_ts | price | size | seq``
#: ``| aux``, all little-endian; the eight trailing fields are int64
RECORD = struct.Struct("<HHIqqqqqqq")
RECORD_SIZE = RECORD.size
assert RECORD_SIZE == 64


class UnreadableFrame(IpcError, ValueError):
    """Bytes from a ring or state page that are not a record or view; the message says why."""


class EventKind(enum.IntEnum):
    """What an engine->UI record reports."""

    TRADE = 1
    """A public trade: price, size, ``aux`` = venue trade id, flags = aggressor side."""
    HALTED = 2
    """Trading was halted (kill switch); ``aux`` = :class:`HaltReason`."""
    RESUMED = 3
    """Trading was re-enabled."""
    BOOK_RESYNC = 4
    """A book was thrown away and is resyncing; ``aux`` = :class:`ResyncReason`."""
    BOOK_LIVE = 5
    """A book finished syncing and is live again; ``seq`` = venue update id."""
    LINK_CHANGED = 6
    """A venue link changed state; ``aux`` = :class:`LinkState`."""
    MALFORMED = 7
    """A frame could not be parsed; ``aux`` = running count of malformed frames."""
    FILL = 9
    """One of our orders filled: ``price`` ticks, ``size`` lots, ``flags`` = our side, ``seq`` =
    the counter of its client order id, ``aux`` = 1 maker, 2 taker."""
    ALERT = 8
    """An alert was raised; ``aux`` = 1 info, 2 warning, 3 critical (text in ``/status``)."""


class CommandKind(enum.IntEnum):
    """What a UI->engine record asks for."""

    KILL = 1
    """Halt trading now: ``aux`` = :class:`HaltReason` (the UI sends ``OPERATOR``)."""
    PING = 2
    """No-op used to measure the command path."""
    RESET = 3
    """Re-enable trading after a halt; the UI sends it only after the operator confirmed."""
    SUBMIT = 4
    """Place an order: ``instrument``, ``flags`` = side (:attr:`Flag.BUY`/``SELL``), ``price``
    ticks (0 for market), ``size`` lots, ``aux`` = :func:`order_style` of type and time in force,
    ``seq`` = the UI's request number. It passes every risk check like any other order."""
    CANCEL = 5
    """Cancel one order: ``seq`` = the counter of its client order id ``<instance>-<counter>``."""
    CANCEL_ALL = 6
    """Cancel every open order on ``instrument``, or on all when ``aux`` = 1."""


class Flag(enum.IntFlag):
    """Bits in a record's ``flags``."""

    NONE = 0
    BUY = 1
    """The aggressor bought (taker side)."""
    SELL = 2
    """The aggressor sold."""


ORDER_TYPES = ("limit", "market")
"""Order types by code, as packed by :func:`order_style`."""
TIMES_IN_FORCE = ("gtc", "ioc", "fok", "post_only")
"""Times in force by code, as packed by :func:`order_style`."""


def order_style(order_type: str, time_in_force: str) -> int:
    """Pack an order type and time in force (their lower-case names) into a SUBMIT's ``aux``.

    Raises:
        ValueError: an unknown type or time in force.
    """
    return ORDER_TYPES.index(order_type) * 16 + TIMES_IN_FORCE.index(time_in_force)


def order_style_of(aux: int) -> tuple[str, str]:
    """Unpack a SUBMIT's ``aux`` into (order type, time in force).

    Raises:
        ValueError: a code out of range.
    """
    kind, tif = divmod(aux, 16)
    if not (0 <= kind < len(ORDER_TYPES) and 0 <= tif < len(TIMES_IN_FORCE)):
        raise ValueError(f"order style {aux} is not a known type and time in force")
    return ORDER_TYPES[kind], TIMES_IN_FORCE[tif]


class HaltReason(enum.IntEnum):
    """Why trading was halted."""

    OPERATOR = 1
    """Kill switch from the UI, CLI or HTTP control plane."""
    STARTUP = 2
    """The engine started halted after an unclean stop."""
    BREAKER = 3
    """The circuit breaker tripped on its own: a loss limit or a reconciliation mismatch."""


class ResyncReason(enum.IntEnum):
    """Why a book was resynchronised."""

    GAP = 1
    CROSSED = 2
    MALFORMED = 3
    RECONNECT = 4


class LinkState(enum.IntEnum):
    """Connection state of a venue link (venues.md §9.1)."""

    DISCONNECTED = 0
    CONNECTING = 1
    SUBSCRIBING = 2
    SYNCING = 3
    LIVE = 4


class Record(NamedTuple):
    """One decoded ring record."""

    kind: int
    flags: int
    instrument: int
    exch_ts: int
    recv_ts: int
    engine_ts: int
    price: int
    size: int
    seq: int
    aux: int


def pack(
    kind: int,
    flags: int = 0,
    instrument: int = 0,
    exch_ts: int = 0,
    recv_ts: int = 0,
    engine_ts: int = 0,
    price: int = 0,
    size: int = 0,
    seq: int = 0,
    aux: int = 0,
) -> bytes:
    """Encode one record."""
    return RECORD.pack(kind, flags, instrument, exch_ts, recv_ts, engine_ts, price, size, seq, aux)


def unpack(data: bytes | memoryview) -> Record:
    """Decode one record.

    Raises:
        UnreadableFrame: ``data`` is not :data:`RECORD_SIZE` bytes long.
    """
    try:
        return Record._make(RECORD.unpack(data))
    except struct.error as exc:
        raise UnreadableFrame(f"ring record of {len(data)} bytes: {exc}") from None


BookState = Literal["syncing", "live", "crossed", "stale"]


class BookView(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """The latest top of one book, as published to its state page."""

    instrument: int
    """Dense instrument id."""
    symbol: str
    tick_size: str
    """Exact price step, so the UI can turn ticks into text."""
    lot_size: str
    """Exact size step."""
    state: BookState
    """``live`` only when synced and uncrossed; anything else must not be shown as valid."""
    bids: list[tuple[int, int]]
    """(price ticks, size lots), best first."""
    asks: list[tuple[int, int]]
    """(price ticks, size lots), best first."""
    update_id: int
    """Venue update id of the last applied diff."""
    update_count: int
    """Diffs applied since the engine started."""
    exch_ts: int
    """Exchange time of the last diff, ns; 0 when unknown (a REST snapshot carries none)."""
    recv_ts: int
    """Local receive time of the last diff, ns."""


class RingView(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """Ring statistics as the engine sees them."""

    depth: int
    capacity: int
    peak: int
    dropped: int


class EngineView(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """The engine's latest state, as published to its state page."""

    instance: str
    pid: int
    mode: str
    trading: Literal["running", "halted"]
    halt_reason: str
    """Empty while running."""
    halted_at_ns: int
    started_ns: int
    heartbeat_ns: int
    """Wall time of the engine's last heartbeat; a UI shows its age."""
    venue: str
    link: str
    """The venue link state, lower case name of :class:`LinkState`."""
    updates_per_s: float
    """Book diffs applied per second, over the last second."""
    book_updates: int
    gaps: int
    resyncs: int
    malformed: int
    events_ring: RingView
    commands_ring: RingView
    control_url: str
    """Where the HTTP control plane listens."""
    wire_p50_us: float = 0.0
    """Frame receive to book updated, median over the latest updates, µs."""
    wire_p99_us: float = 0.0
    """The same, 99th percentile, µs."""


class OrderRow(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One of our orders as the UI lists it (integers; the UI formats with the book's grid)."""

    client_order_id: str
    instrument: int
    side: int
    """:class:`~engine.core.events.Side` value: 1 buy, 2 sell."""
    order_type: str
    time_in_force: str
    price_ticks: int
    """0 for a market order."""
    size_lots: int
    filled_lots: int
    status: str
    """Lower-case :class:`~engine.oms.order.OrderStatus` value."""
    reason: str
    """The venue's or our own reason for a reject, cancel or expiry."""
    ts_ns: int
    """When the order last changed."""
    venue_order_id: str = ""
    """The venue's id, once it acknowledged the order."""
    created_ns: int = 0
    """When the order was sent (or refused)."""
    request: int = 0
    """The UI's request number of a SUBMIT command that placed it; 0 for any other order."""
    venue: str = ""
    """The venue the order was sent to."""
    strategy: str = ""
    """The strategy that sent it; empty for an order from the UI or the control plane."""
    queue_ahead: int = -1
    """Public lots ahead of it in its level's queue, when the gateway knows (paper); -1 unknown."""


class PositionRow(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One instrument's position with its PnL as exact quote-currency text."""

    instrument: int
    net_lots: int
    avg_entry: str
    """Empty when flat."""
    realised: str
    unrealised: str
    fees: str


class AlertRow(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One alert."""

    ts_ns: int
    level: str
    """``info``, ``warning`` or ``critical``."""
    source: str
    message: str


class RateRow(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One venue rate limiter's use."""

    name: str
    used: int
    limit: int


class TradingView(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """Orders, positions, PnL, alerts and the order link, as published to the trading page."""

    orders: list[OrderRow]
    """Open orders first (oldest first), then the most recently finished ones."""
    open_orders: int
    positions: list[PositionRow]
    realised: str
    unrealised: str
    fees: str
    net: str
    daily: str
    """Net PnL since 00:00 UTC."""
    daily_loss_limit: str
    """The account's daily loss limit in quote currency (trading stops at minus this)."""
    alerts: list[AlertRow]
    """Newest last."""
    gateway: str
    """The gateway's kind (``PaperGateway``, ``BinanceSpotGateway``) or empty when none."""
    gateway_healthy: bool
    gateway_reason: str
    rejects: int
    rate: list[RateRow]


_view_encoder = msgspec.msgpack.Encoder()
_book_decoder = msgspec.msgpack.Decoder(BookView)
_engine_decoder = msgspec.msgpack.Decoder(EngineView)
_trading_decoder = msgspec.msgpack.Decoder(TradingView)


def _decode(decoder: msgspec.msgpack.Decoder[_V], data: bytes | memoryview, what: str) -> _V:
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFrame(f"{what} of {len(data)} bytes: {exc}") from None


def decode_trading(data: bytes | memoryview) -> TradingView:
    """Decode a trading page payload.

    Raises:
        UnreadableFrame: the bytes are not a :class:`TradingView`.
    """
    return _decode(_trading_decoder, data, "trading page")


def encode_view(view: BookView | EngineView | TradingView) -> bytes:
    """Encode a view as the msgpack bytes of a state page."""
    return _view_encoder.encode(view)


def decode_book(data: bytes | memoryview) -> BookView:
    """Decode a book page payload.

    Raises:
        UnreadableFrame: the bytes are not a :class:`BookView`.
    """
    return _decode(_book_decoder, data, "book page")


def decode_engine(data: bytes | memoryview) -> EngineView:
    """Decode an engine page payload.

    Raises:
        UnreadableFrame: the bytes are not an :class:`EngineView`.
    """
    return _decode(_engine_decoder, data, "engine page")
