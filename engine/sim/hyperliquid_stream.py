"""A local Hyperliquid WebSocket: ``l2Book`` (full snapshots) and ``trades`` from the sim market.

:class:`HyperliquidStreamVenue` serves ``/ws`` on 127.0.0.1 and speaks what a market-data client of
Hyperliquid needs (venues.md §7.1):

- on connect, the plain text ``Websocket connection established.``;
- ``{"method":"subscribe","subscription":{"type":"l2Book"|"trades","coin":..}}``, one coin a
  subscription, is answered on ``subscriptionResponse``; ``l2Book`` then sends the book at once;
  an unknown coin or type gets ``{"channel":"error",..}``. ``unsubscribe`` likewise;
- every ``interval_ms`` an ``l2Book`` message per coin: the top 20 levels a side, best first,
  ``{"px","sz","n"}``, with the venue ``time`` in ms (no sequence numbers, no checksum); and
  ``trades`` (``side`` the taker's, ``B``/``A``);
- ``{"method":"ping"}`` is answered ``{"channel":"pong"}``.

Faults: :meth:`HyperliquidStreamVenue.inject_crossed` (the next book of a coin is crossed),
:meth:`HyperliquidStreamVenue.inject_reordered` (an older book is sent after a newer one),
``inject_malformed`` and ``drop_connections``.
"""

from __future__ import annotations

import json

from engine.core.instruments import Instrument
from engine.sim.market import Level, MarketActivity, TradePrint
from engine.sim.public_stream import PublicStreamVenue, SimBook, SimSocket

BOOK_DEPTH = 20
BANNER = "Websocket connection established."
_MS = 1_000_000


class HyperliquidStreamVenue(PublicStreamVenue):
    """The local Hyperliquid public stream.

    Args:
        instruments: what it lists, ``symbol`` the coin (``BTC``).
        seed: the markets' seed.
        events_per_second: book events per second per coin.
        interval_ms: how often ``l2Book`` messages go out.
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
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            instruments,
            path="/ws",
            seed=seed,
            events_per_second=events_per_second,
            interval_ms=interval_ms,
            host=host,
            port=port,
        )
        self.pings = 0
        """Pings answered."""
        self._last: dict[str, str] = {}

    def inject_crossed(self, coin: str) -> None:
        """The next ``l2Book`` of ``coin`` has its best bid above its best ask."""
        self.add_fault(coin, "crossed")

    def inject_reordered(self, coin: str) -> None:
        """After the next ``l2Book`` of ``coin``, the one before it is sent again (older time)."""
        self.add_fault(coin, "reordered")

    def broken_frame(self) -> str:
        """A truncated ``l2Book`` frame."""
        return '{"channel":"l2Book","data":{"coin":'

    def on_open(self, sock: SimSocket) -> None:
        """The banner the venue sends first."""
        sock.send(BANNER)

    def on_request(self, sock: SimSocket, text: str) -> None:
        """Answer ``ping``, ``subscribe`` and ``unsubscribe`` (one coin each)."""
        try:
            request = json.loads(text)
            method = request["method"]
        except (ValueError, KeyError, TypeError):
            sock.send(json.dumps({"channel": "error", "data": f"Invalid request: {text[:40]}"}))
            return
        if method == "ping":
            self.pings += 1
            sock.send('{"channel":"pong"}')
            return
        sub = request.get("subscription") or {}
        kind, coin = sub.get("type"), sub.get("coin")
        if (
            method not in ("subscribe", "unsubscribe")
            or kind not in ("l2Book", "trades")
            or coin not in self.books
        ):
            sock.send(json.dumps({"channel": "error", "data": f"Invalid subscription {text}"}))
            return
        answer = {"method": method, "subscription": sub}
        sock.send(json.dumps({"channel": "subscriptionResponse", "data": answer}))
        if method == "unsubscribe":
            sock.subs.discard((kind, coin))
            return
        sock.subs.add((kind, coin))
        if kind == "l2Book":
            book = self.books[coin]
            sock.send(self._last.get(coin) or self._book(book, False))

    def step(self, book: SimBook, activity: MarketActivity) -> dict[str, list[str]]:
        """The coin's book now (every step) and its trades."""
        previous = self._last.get(book.symbol)
        frame = self._book(book, book.take_fault("crossed"))
        self._last[book.symbol] = frame
        books = [frame]
        if previous is not None and book.take_fault("reordered"):
            books.append(previous)
        frames = {"l2Book": books}
        if activity.trades:
            trades = ",".join(self._trade(book, t) for t in activity.trades)
            frames["trades"] = [f'{{"channel":"trades","data":[{trades}]}}']
        return frames

    def _book(self, book: SimBook, crossed: bool) -> str:
        bids = book.market.bids(BOOK_DEPTH)
        asks = book.market.asks(BOOK_DEPTH)
        if crossed and bids and asks:
            bids = [(asks[0][0] + 1, bids[0][1]), *bids]
        time_ms = self.wall_ns(book.market.now_ns) // _MS
        return (
            f'{{"channel":"l2Book","data":{{"coin":"{book.symbol}","time":{time_ms},'
            f'"levels":[[{_levels(book, bids)}],[{_levels(book, asks)}]]}}}}'
        )

    def _trade(self, book: SimBook, trade: TradePrint) -> str:
        return json.dumps(
            {
                "coin": book.symbol,
                "side": "A" if trade.buyer_is_maker else "B",
                "px": book.price.to_text(trade.price),
                "sz": book.size.to_text(trade.size),
                "time": self.wall_ns(trade.time_ns) // _MS,
                "hash": "0x" + f"{trade.trade_id:064x}",
                "tid": trade.trade_id,
                "users": ["0xbuyer", "0xseller"],
            }
        )


def _levels(book: SimBook, levels: list[Level]) -> str:
    return ",".join(
        f'{{"px":"{book.price.to_text(p)}","sz":"{book.size.to_text(s)}","n":1}}' for p, s in levels
    )
