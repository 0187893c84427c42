"""Coinbase Advanced Trade market data, bytes to events: ``level2`` (``l2_data``), trades, ticker.

Every frame is an envelope ``{"channel", "timestamp", "sequence_num", "events": [...]}``; msgspec
decodes it into typed structs and :meth:`CoinbaseParser.parse` returns a :class:`CoinbaseFrame`
with the envelope's ``sequence_num`` (one counter per connection, across every channel, which
the connection sync checks) and what the events carried:

- ``l2_data``: a :class:`CoinbaseBook` per event, a normalized snapshot (the first event per
  product, the full book) or delta (absolute ``new_quantity``, ``"0"`` deletes), sides
  ``bid``/``offer``; the snapshot's ``update_id`` and the delta's ``first_id == last_id`` are the
  envelope's ``sequence_num``.
- ``market_trades``: :class:`~engine.core.events.Trade` for ``update`` events. The ``snapshot``
  event is recent history, not new prints: it is counted in :attr:`CoinbaseParser.history_trades`
  and dropped. ``side`` in these messages is the *maker's* (the 2026 capture prints ``SELL``
  trades at the best ask), so the aggressor is the other side.
- ``ticker``: :class:`CoinbaseTicker`, the venue's top of book, for cross-checks.

Heartbeats, subscriptions, candles, unknown channels and products not subscribed here are counted
in :attr:`CoinbaseParser.ignored` (their ``sequence_num`` still counts). Every problem raises
:class:`~engine.errors.MalformedMessage` with the venue, the channel and a short excerpt.
"""

from __future__ import annotations

import msgspec
import numpy as np

from engine.core.events import BookDelta, BookSnapshot, Int64Array, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.book_events import book_event
from engine.venues.level_text import steps
from engine.venues.symbol_reader import Grids, SymbolReader
from engine.venues.timestamps import rfc3339_ns

VENUE = "coinbase"


class _Envelope(msgspec.Struct, frozen=True):
    channel: str
    sequence_num: int
    timestamp: str = ""
    events: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _L2Update(msgspec.Struct, frozen=True):
    side: str
    price_level: str
    new_quantity: str
    event_time: str = ""


class _L2Event(msgspec.Struct, frozen=True):
    type: str
    product_id: str
    updates: list[_L2Update]


class _MarketTrade(msgspec.Struct, frozen=True):
    trade_id: str
    product_id: str
    price: str
    size: str
    side: str
    time: str


class _TradesEvent(msgspec.Struct, frozen=True):
    type: str
    trades: list[_MarketTrade]


class _Tick(msgspec.Struct, frozen=True):
    product_id: str
    best_bid: str = ""
    best_ask: str = ""
    best_bid_quantity: str = ""
    best_ask_quantity: str = ""


class _TickerEvent(msgspec.Struct, frozen=True):
    type: str
    tickers: list[_Tick]


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_L2 = msgspec.json.Decoder(list[_L2Event])
_TRADES = msgspec.json.Decoder(list[_TradesEvent])
_TICKERS = msgspec.json.Decoder(list[_TickerEvent])
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)
_TAKER = {"BUY": Side.SELL, "SELL": Side.BUY}
"""The maker's side as sent -> the taker's side."""


class CoinbaseBook(msgspec.Struct, frozen=True, kw_only=True):
    """One ``l2_data`` event of one product."""

    symbol: str
    event: BookSnapshot | BookDelta


class CoinbaseTicker(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's best bid and ask for a product (0 where the ticker left a side empty)."""

    symbol: str
    bid_px: int
    bid_sz: int
    ask_px: int
    ask_sz: int
    recv_ts: int


class CoinbaseFrame(msgspec.Struct, frozen=True, kw_only=True):
    """One envelope: its place in the connection's sequence and what it carried."""

    channel: str
    sequence_num: int
    items: list[CoinbaseBook | Trade | CoinbaseTicker]


class CoinbaseParser(SymbolReader[Grids]):
    """Turns Advanced Trade market-data frames for a set of products into events.

    Frames with no market data are counted in ``ignored`` by channel.

    Args:
        instruments: the products subscribed, ``symbol`` being the ``product_id``.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__({inst.symbol: Grids(inst) for inst in instruments})
        self.history_trades = 0
        """Trades of ``market_trades`` snapshots (history), dropped."""

    def parse(self, raw: bytes, recv_ts: int) -> CoinbaseFrame:
        """Parse one WebSocket frame.

        Raises:
            MalformedMessage: the frame is not a valid envelope, an event has an unknown shape,
                side or type, or a number is off its grid. Events of products not subscribed
                here are counted as ignored (the frame's number still counts).
        """
        try:
            env = _ENVELOPE.decode(raw)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, "frame", str(exc), raw) from None
        channel = env.channel
        items: list[CoinbaseBook | Trade | CoinbaseTicker]
        try:
            if channel == "l2_data":
                items = [
                    book
                    for e in _L2.decode(env.events)
                    if (book := self._book(e, env.sequence_num, raw, recv_ts)) is not None
                ]
            elif channel == "market_trades":
                items = self._trades(_TRADES.decode(env.events), raw, recv_ts)
            elif channel == "ticker":
                items = [
                    tick
                    for event in _TICKERS.decode(env.events)
                    for t in event.tickers
                    if (tick := self._ticker(t, raw, recv_ts)) is not None
                ]
            else:
                self.ignored[channel] += 1
                items = []
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, channel, str(exc), raw) from None
        return CoinbaseFrame(channel=channel, sequence_num=env.sequence_num, items=items)

    def _book(self, event: _L2Event, seq: int, raw: bytes, recv_ts: int) -> CoinbaseBook | None:
        stream = f"l2_data:{event.product_id}"
        grids = self._grids_of(event.product_id)
        if grids is None:
            return None
        if event.type not in ("snapshot", "update"):
            raise MalformedMessage(VENUE, stream, f"unknown event type {event.type!r}", raw)
        bids: list[_L2Update] = []
        asks: list[_L2Update] = []
        for update in event.updates:
            if update.side == "bid":
                bids.append(update)
            elif update.side == "offer":
                asks.append(update)
            else:
                raise MalformedMessage(VENUE, stream, f"unknown side {update.side!r}", raw)
        bid_px, bid_sz = _levels(bids, grids, "bid", stream, raw)
        ask_px, ask_sz = _levels(asks, grids, "offer", stream, raw)
        last_time = event.updates[-1].event_time if event.updates else ""
        exch_ts = _time(last_time, stream, raw) if last_time else 0
        book = book_event(
            event.type == "snapshot",
            instrument=grids.instrument.instrument_id,
            update_id=seq,
            prev_id=-1,
            bids=(bid_px, bid_sz),
            asks=(ask_px, ask_sz),
            exch_ts=exch_ts,
            recv_ts=recv_ts,
        )
        return CoinbaseBook(symbol=event.product_id, event=book)

    def _trades(
        self, events: list[_TradesEvent], raw: bytes, recv_ts: int
    ) -> list[CoinbaseBook | Trade | CoinbaseTicker]:
        out: list[CoinbaseBook | Trade | CoinbaseTicker] = []
        for event in events:
            if event.type == "snapshot":
                self.history_trades += len(event.trades)
                continue
            for t in event.trades:
                stream = f"market_trades:{t.product_id}"
                grids = self._grids_of(t.product_id)
                if grids is None:
                    continue
                taker = _TAKER.get(t.side)
                if taker is None or not t.trade_id.isdigit():
                    raise MalformedMessage(
                        VENUE, stream, f"trade {t.trade_id!r}: side {t.side!r}", raw
                    )
                out.append(
                    Trade(
                        instrument=grids.instrument.instrument_id,
                        trade_id=int(t.trade_id),
                        price=steps(t.price, grids.price, VENUE, stream, "trade", raw),
                        size=steps(t.size, grids.size, VENUE, stream, "trade", raw),
                        aggressor=taker,
                        exch_ts=_time(t.time, stream, raw),
                        recv_ts=recv_ts,
                    )
                )
        return out

    def _ticker(self, t: _Tick, raw: bytes, recv_ts: int) -> CoinbaseTicker | None:
        stream = f"ticker:{t.product_id}"
        found = self._grids_of(t.product_id)
        if found is None:
            return None
        grids = found

        def value(text: str, grid_is_price: bool, where: str) -> int:
            if not text:
                return 0
            grid = grids.price if grid_is_price else grids.size
            return steps(text, grid, VENUE, stream, where, raw)

        return CoinbaseTicker(
            symbol=t.product_id,
            bid_px=value(t.best_bid, True, "best_bid"),
            bid_sz=value(t.best_bid_quantity, False, "best_bid_quantity"),
            ask_px=value(t.best_ask, True, "best_ask"),
            ask_sz=value(t.best_ask_quantity, False, "best_ask_quantity"),
            recv_ts=recv_ts,
        )


def _time(text: str, stream: str, raw: bytes) -> int:
    try:
        return rfc3339_ns(text)
    except ValueError as exc:
        raise MalformedMessage(VENUE, stream, str(exc), raw) from None


def _levels(
    updates: list[_L2Update], grids: Grids, where: str, stream: str, raw: bytes
) -> tuple[Int64Array, Int64Array]:
    """One side's updates as (ticks, lots), in order."""
    n = len(updates)
    px = np.empty(n, dtype=np.int64)
    sz = np.empty(n, dtype=np.int64)
    price, size = grids.price, grids.size
    for k, update in enumerate(updates):
        ticks = steps(update.price_level, price, VENUE, stream, where, raw)
        if ticks <= 0:
            raise MalformedMessage(
                VENUE, stream, f"{where} price {update.price_level!r} not positive", raw
            )
        px[k] = ticks
        sz[k] = steps(update.new_quantity, size, VENUE, stream, where, raw)
    return px, sz
