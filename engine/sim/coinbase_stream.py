"""A local Coinbase Advanced Trade market-data WebSocket: ``level2``, ``market_trades``, heartbeats.

:class:`CoinbaseStreamVenue` serves ``/`` on 127.0.0.1 and speaks what a market-data client of
Advanced Trade needs (venues.md §5.1):

- ``{"type":"subscribe","product_ids":[..],"channel":"level2"|"market_trades"|"heartbeats"}``,
  one channel a message, is acknowledged on ``subscriptions``; ``level2`` then sends one
  ``l2_data`` ``snapshot`` event per product with the **whole** book, and ``market_trades`` a
  ``snapshot`` of recent trades (history). ``unsubscribe`` drops the channel's products.
- every ``interval_ms``: ``l2_data`` ``update`` events with the levels that changed (absolute
  ``new_quantity``, ``"0"`` deletes, asks on side ``offer``), and ``market_trades`` updates whose
  ``side`` is the maker's (as the 2026 capture shows);
- ``heartbeats`` once a second with a rising ``heartbeat_counter``;
- every frame of a connection, of every channel, carries the connection's next
  ``sequence_num`` (0, 1, 2, ...).

Faults: :meth:`CoinbaseStreamVenue.inject_gap` (every socket skips one ``sequence_num``),
:meth:`CoinbaseStreamVenue.inject_crossed` (an update crosses one product's book),
``inject_malformed`` (a broken frame, which used a number: the client sees the jump after it)
and ``drop_connections``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.market import MarketActivity, TradePrint
from engine.sim.public_stream import PublicStreamVenue, SimBook, SimSocket

_SEQ = "__SEQ__"
CHANNELS = ("level2", "market_trades", "heartbeats")


def _rfc3339(ns: int) -> str:
    stamp = datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ns % 1_000_000_000:09d}Z"


class CoinbaseStreamVenue(PublicStreamVenue):
    """The local Advanced Trade market-data stream.

    Args:
        instruments: what it lists, ``symbol`` the ``product_id`` (``BTC-USD``).
        seed: the markets' seed.
        events_per_second: book events per second per product.
        interval_ms: how often ``l2_data`` updates go out.
        heartbeat_ms: how often ``heartbeats`` go out.
        host: address to listen on.
        port: port to listen on; 0 picks a free one.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        *,
        seed: int = 1,
        events_per_second: float = 500.0,
        interval_ms: int = 100,
        heartbeat_ms: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            instruments,
            path="/",
            seed=seed,
            events_per_second=events_per_second,
            interval_ms=interval_ms,
            host=host,
            port=port,
        )
        self.heartbeat_every = max(1, heartbeat_ms // interval_ms)
        self._steps = 0
        self._gaps = 0
        self._gapped: set[int] = set()
        """Sockets whose next frame skips a number."""

    def inject_crossed(self, product: str) -> None:
        """The next update of ``product`` carries a bid one tick above the best ask."""
        self.add_fault(product, "crossed")

    def inject_gap(self) -> None:
        """Every socket's next frame skips one ``sequence_num``."""
        self._gaps += 1

    def broken_frame(self) -> str:
        """A truncated ``l2_data`` frame (it used a ``sequence_num``)."""
        return '{"channel":"l2_data","sequence_num":'

    # ---- frames ----------------------------------------------------------------------------------

    def _frame(self, channel: str, events: str) -> str:
        stamp = _rfc3339(self._now_ns())
        return (
            f'{{"channel":"{channel}","client_id":"","timestamp":"{stamp}",'
            f'"sequence_num":{_SEQ},"events":[{events}]}}'
        )

    def _now_ns(self) -> int:
        return self.wall_ns(next(iter(self.books.values())).market.now_ns)

    def _send(self, sock: SimSocket, frame: str) -> None:
        """Queue one frame with the socket's next number (skipping one when a gap is due)."""
        if sock.number in self._gapped:
            self._gapped.discard(sock.number)
            sock.sequence += 1
        sock.send(frame.replace(_SEQ, str(sock.sequence), 1))
        sock.sequence += 1

    # ---- requests --------------------------------------------------------------------------------

    def on_request(self, sock: SimSocket, text: str) -> None:
        """Answer ``subscribe``/``unsubscribe`` of one channel: the ack, then snapshots."""
        try:
            request = json.loads(text)
            kind, channel = request["type"], request["channel"]
            products = list(request.get("product_ids") or [])
        except (ValueError, KeyError, TypeError):
            error = json.dumps({"type": "error", "message": f"invalid request {text[:40]}"})
            sock.send(error)
            return
        if kind not in ("subscribe", "unsubscribe") or channel not in CHANNELS:
            sock.send(json.dumps({"type": "error", "message": f"unknown channel {channel!r}"}))
            return
        unknown = [p for p in products if p not in self.books]
        if unknown:
            sock.send(json.dumps({"type": "error", "message": f"unknown products {unknown}"}))
            return
        if channel == "heartbeats":
            products = [""]
        for product in products:
            if kind == "subscribe":
                sock.subs.add((channel, product))
            else:
                sock.subs.discard((channel, product))
        subscribed: dict[str, list[str]] = {}
        for ch, product in sorted(sock.subs):
            subscribed.setdefault(ch, []).append(product)
        self._send(sock, self._frame("subscriptions", json.dumps({"subscriptions": subscribed})))
        if kind != "subscribe":
            return
        for product in products:
            if channel == "level2":
                self._send(sock, self._snapshot(self.books[product]))
            elif channel == "market_trades":
                self._send(sock, self._frame("market_trades", '{"type":"snapshot","trades":[]}'))

    def _snapshot(self, book: SimBook) -> str:
        stamp = _rfc3339(self.wall_ns(book.market.now_ns))
        updates = [
            _update("bid", book.price.to_text(p), book.size.to_text(s), stamp)
            for p, s in book.market.bids()
        ] + [
            _update("offer", book.price.to_text(p), book.size.to_text(s), stamp)
            for p, s in book.market.asks()
        ]
        event = (
            f'{{"type":"snapshot","product_id":"{book.symbol}","updates":[{",".join(updates)}]}}'
        )
        return self._frame("l2_data", event)

    # ---- the market ----------------------------------------------------------------------------

    def step(self, book: SimBook, activity: MarketActivity) -> dict[str, list[str]]:
        """The step's ``l2_data`` update (when something changed) and its trades."""
        stamp = _rfc3339(self.wall_ns(book.market.now_ns))
        changed: dict[tuple[Side, int], int] = {}
        for change in activity.changes:
            changed[(change.side, change.price)] = change.size
        updates = [
            _update(
                "bid" if side is Side.BUY else "offer",
                book.price.to_text(price),
                book.size.to_text(size) if size else "0",
                stamp,
            )
            for (side, price), size in changed.items()
        ]
        asks = book.market.asks(1)
        if asks and book.take_fault("crossed"):
            bad = book.price.to_text(asks[0][0] + 1)
            updates.append(_update("bid", bad, book.size.to_text(1), stamp))
        frames: dict[str, list[str]] = {}
        if updates:
            event = (
                f'{{"type":"update","product_id":"{book.symbol}","updates":[{",".join(updates)}]}}'
            )
            frames["level2"] = [self._frame("l2_data", event)]
        if activity.trades:
            trades = ",".join(self._trade(book, t) for t in activity.trades)
            frames["market_trades"] = [
                self._frame("market_trades", f'{{"type":"update","trades":[{trades}]}}')
            ]
        return frames

    def deliver(self, sock: SimSocket, channel: str, symbol: str, frames: list[str]) -> None:
        """Number each frame for this socket."""
        for frame in frames:
            self._send(sock, frame)

    def after_step(self) -> None:
        """Due gaps land on every socket; heartbeats about once a second."""
        gaps, self._gaps = self._gaps, 0
        if gaps:
            self._gapped.update(s.number for s in self.sockets.values())
        self._steps += 1
        if self._steps % self.heartbeat_every:
            return
        counter = self._steps // self.heartbeat_every
        stamp = _rfc3339(self._now_ns())
        event = f'{{"current_time":"{stamp}","heartbeat_counter":{counter}}}'
        for sock in self.sockets.values():
            if ("heartbeats", "") in sock.subs:
                self._send(sock, self._frame("heartbeats", event))

    def _trade(self, book: SimBook, trade: TradePrint) -> str:
        maker = "BUY" if trade.buyer_is_maker else "SELL"
        return json.dumps(
            {
                "trade_id": str(trade.trade_id),
                "product_id": book.symbol,
                "price": book.price.to_text(trade.price),
                "size": book.size.to_text(trade.size),
                "side": maker,
                "time": _rfc3339(self.wall_ns(trade.time_ns)),
            }
        )


def _update(side: str, price: str, size: str, stamp: str) -> str:
    return (
        f'{{"side":"{side}","event_time":"{stamp}","price_level":"{price}",'
        f'"new_quantity":"{size}"}}'
    )
