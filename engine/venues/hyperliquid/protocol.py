"""Hyperliquid WebSocket market data, bytes to events: ``l2Book`` and ``trades`` (venues.md §7.1).

Every ``l2Book`` message is a full snapshot of up to 20 levels a side (``levels[0]`` bids and
``levels[1]`` asks, each best first, ``{"px", "sz", "n"}``); it becomes a
:class:`~engine.core.events.BookSnapshot` whose ``update_id`` is the venue's ``time`` in ms (there
are no sequence numbers). ``trades`` become :class:`~engine.core.events.Trade` with ``tid``;
``side`` is the taker's (``B`` buy, ``A`` sell).

msgspec decodes the frames into typed structs and prices and sizes become exact ticks and lots.
The connect banner, subscription answers, pongs, other channels and coins not subscribed here are
counted in :attr:`HyperliquidParser.ignored`; every problem raises
:class:`~engine.errors.MalformedMessage` with the venue, the channel and a short excerpt.
"""

from __future__ import annotations

import msgspec
import numpy as np

from engine.core.events import BookSnapshot, Int64Array, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.level_text import steps
from engine.venues.symbol_reader import Grids, SymbolReader

VENUE = "hyperliquid"
_MS = 1_000_000
_BANNER = b"Websocket connection established."


class _Envelope(msgspec.Struct, frozen=True):
    channel: str
    data: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _Level(msgspec.Struct, frozen=True):
    px: str
    sz: str
    n: int = 0


class _Book(msgspec.Struct, frozen=True):
    coin: str
    time: int
    levels: tuple[list[_Level], list[_Level]]


class _Trade(msgspec.Struct, frozen=True):
    coin: str
    side: str
    px: str
    sz: str
    time: int
    tid: int


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_BOOK = msgspec.json.Decoder(_Book)
_TRADES = msgspec.json.Decoder(list[_Trade])
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)
_SIDES = {"B": Side.BUY, "A": Side.SELL}


class HyperliquidBook(msgspec.Struct, frozen=True, kw_only=True):
    """One ``l2Book`` message: the whole book of one coin."""

    symbol: str
    """The coin, e.g. ``BTC``."""
    event: BookSnapshot


class HyperliquidParser(SymbolReader[Grids]):
    """Turns Hyperliquid public frames for a set of coins into events.

    Frames with no market data are counted in ``ignored`` by channel (``banner`` for the
    connect text).

    Args:
        instruments: the coins subscribed, ``symbol`` being the coin name.
    """

    def __init__(self, instruments: list[Instrument]) -> None:
        super().__init__({inst.symbol: Grids(inst) for inst in instruments})

    def parse(self, raw: bytes, recv_ts: int) -> list[HyperliquidBook | Trade]:
        """Parse one WebSocket frame; control frames and other channels give ``[]``.

        Raises:
            MalformedMessage: the frame is not valid JSON of the expected shape, or a number is
                off the coin's grid. Coins not subscribed are counted as ignored.
        """
        if raw.strip() == _BANNER:
            self.ignored["banner"] += 1
            return []
        try:
            env = _ENVELOPE.decode(raw)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, "frame", str(exc), raw) from None
        try:
            if env.channel == "l2Book":
                book = self._book(_BOOK.decode(env.data), raw, recv_ts)
                return [book] if book is not None else []
            if env.channel == "trades":
                return self._trades(_TRADES.decode(env.data), raw, recv_ts)
        except _DECODE_ERRORS as exc:
            raise MalformedMessage(VENUE, env.channel, f"data: {exc}", raw) from None
        self.ignored[env.channel] += 1
        return []

    def _book(self, book: _Book, raw: bytes, recv_ts: int) -> HyperliquidBook | None:
        stream = f"l2Book:{book.coin}"
        grids = self._grids_of(book.coin)
        if grids is None:
            return None
        bid_px, bid_sz = _levels(book.levels[0], grids, "bid", stream, raw)
        ask_px, ask_sz = _levels(book.levels[1], grids, "ask", stream, raw)
        return HyperliquidBook(
            symbol=book.coin,
            event=BookSnapshot(
                instrument=grids.instrument.instrument_id,
                update_id=book.time,
                bid_px=bid_px,
                bid_sz=bid_sz,
                ask_px=ask_px,
                ask_sz=ask_sz,
                exch_ts=book.time * _MS,
                recv_ts=recv_ts,
            ),
        )

    def _trades(
        self, trades: list[_Trade], raw: bytes, recv_ts: int
    ) -> list[HyperliquidBook | Trade]:
        out: list[HyperliquidBook | Trade] = []
        for t in trades:
            stream = f"trades:{t.coin}"
            grids = self._grids_of(t.coin)
            if grids is None:
                continue
            side = _SIDES.get(t.side)
            if side is None:
                raise MalformedMessage(VENUE, stream, f"trade {t.tid}: side {t.side!r}", raw)
            out.append(
                Trade(
                    instrument=grids.instrument.instrument_id,
                    trade_id=t.tid,
                    price=steps(t.px, grids.price, VENUE, stream, "trade", raw),
                    size=steps(t.sz, grids.size, VENUE, stream, "trade", raw),
                    aggressor=side,
                    exch_ts=t.time * _MS,
                    recv_ts=recv_ts,
                )
            )
        return out


def _levels(
    levels: list[_Level], grids: Grids, where: str, stream: str, raw: bytes
) -> tuple[Int64Array, Int64Array]:
    """One side's levels as (ticks, lots); a size of 0 has no place in a snapshot."""
    n = len(levels)
    px = np.empty(n, dtype=np.int64)
    sz = np.empty(n, dtype=np.int64)
    for k, level in enumerate(levels):
        ticks = steps(level.px, grids.price, VENUE, stream, where, raw)
        lots = steps(level.sz, grids.size, VENUE, stream, where, raw)
        if ticks <= 0 or lots <= 0:
            raise MalformedMessage(
                VENUE, stream, f"{where} level {level.px}@{level.sz} is not positive", raw
            )
        px[k] = ticks
        sz[k] = lots
    return px, sz
