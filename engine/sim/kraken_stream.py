"""A local Kraken spot WebSocket v2: ``book`` (with checksums) and ``trade`` from the sim market.

:class:`KrakenStreamVenue` serves ``/v2`` on 127.0.0.1 and speaks what a market-data client of
Kraken v2 needs (venues.md §4.1 to §4.3):

- ``{"method":"subscribe","params":{"channel":"book"|"trade","symbol":[..],"depth":10}}`` is
  acknowledged once per symbol; ``book`` then sends a ``snapshot`` of the top ``depth`` levels.
  An unknown symbol gets ``"success":false`` with an error; ``unsubscribe`` likewise.
- ``book`` updates every ``interval_ms``: the levels of the top ``depth`` that changed, ``qty``
  0 for levels deleted inside the book, and **no delete for a level that fell off the bottom**
  (the client truncates); prices and quantities are JSON numbers written at the pair's
  decimals (the instrument's tick and lot); every message carries the CRC32 of the top 10.
- ``trade`` updates, ``side`` the taker's; ``{"channel":"heartbeat"}`` about once a second;
  ``{"method":"ping","req_id":n}`` answered by ``pong``.

Faults: :meth:`KrakenStreamVenue.inject_bad_checksum` (the next update's checksum is wrong),
:meth:`KrakenStreamVenue.inject_lost_update` (the next update is not sent: Kraken has no sequence
numbers, so the client sees it as a checksum mismatch), ``inject_malformed`` and
``drop_connections``.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.market import Level, MarketActivity, TradePrint
from engine.sim.public_stream import PublicStreamVenue, SimBook, SimSocket

CHECKSUM_DEPTH = 10
DEPTHS = (10, 25, 100, 500, 1000)


def kraken_checksum(book: SimBook, bids: list[Level], asks: list[Level]) -> int:
    """Kraken's unsigned CRC32 of the top 10 asks then the top 10 bids, at the pair's decimals."""
    parts: list[str] = []
    for levels in (asks[:CHECKSUM_DEPTH], bids[:CHECKSUM_DEPTH]):
        for price, size in levels:
            parts.append(book.price.to_text(price).replace(".", "").lstrip("0"))
            parts.append(book.size.to_text(size).replace(".", "").lstrip("0"))
    return zlib.crc32("".join(parts).encode("ascii"))


def _rfc3339(ns: int) -> str:
    stamp = datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{ns % 1_000_000_000 // 1000:06d}Z"


class _Shown:
    """The top of one pair's book as the stream last told it."""

    def __init__(self, book: SimBook, depth: int) -> None:
        self.bids = dict(book.market.bids(depth))
        self.asks = dict(book.market.asks(depth))


class KrakenStreamVenue(PublicStreamVenue):
    """The local Kraken v2 public stream.

    Args:
        instruments: what it lists, ``symbol`` the v2 pair (``BTC/USD``); tick and lot carry the
            pair's price and volume decimals.
        seed: the markets' seed.
        events_per_second: book events per second per pair.
        interval_ms: how often ``book`` updates go out.
        depth: the book depth served (every subscriber gets this one).
        heartbeat_ms: how often ``heartbeat`` goes out.
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
        depth: int = 10,
        heartbeat_ms: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            instruments,
            path="/v2",
            seed=seed,
            events_per_second=events_per_second,
            interval_ms=interval_ms,
            min_levels=max(30, depth + 5),
            host=host,
            port=port,
        )
        self.depth = depth
        self.heartbeat_every = max(1, heartbeat_ms // interval_ms)
        self._shown = {s: _Shown(b, depth) for s, b in self.books.items()}
        self._steps = 0

    # ---- faults --------------------------------------------------------------------------------

    def inject_bad_checksum(self, symbol: str) -> None:
        """The next update of ``symbol`` carries a wrong checksum."""
        self.add_fault(symbol, "bad_checksum")

    def inject_lost_update(self, symbol: str) -> None:
        """The next update of ``symbol`` that changes something is never sent."""
        self.add_fault(symbol, "lost")

    # ---- requests --------------------------------------------------------------------------------

    def on_request(self, sock: SimSocket, text: str) -> None:
        """Answer ``ping``, ``subscribe`` and ``unsubscribe`` (acks, then book snapshots)."""
        try:
            request = json.loads(text)
            method = request["method"]
        except (ValueError, KeyError, TypeError):
            sock.send(json.dumps({"error": f"invalid request {text[:40]}", "success": False}))
            return
        req_id = request.get("req_id")
        if method == "ping":
            sock.send(
                json.dumps({"method": "pong", "req_id": req_id, "time_in": "", "time_out": ""})
            )
            return
        params = request.get("params") or {}
        channel = params.get("channel")
        if method not in ("subscribe", "unsubscribe") or channel not in ("book", "trade"):
            sock.send(json.dumps({"method": method, "success": False, "error": "bad request"}))
            return
        for symbol in params.get("symbol") or []:
            book = self.books.get(symbol)
            if book is None:
                error = f"Currency pair not supported {symbol}"
                sock.send(json.dumps({"method": method, "success": False, "error": error}))
                continue
            result: dict[str, object] = {"channel": channel, "symbol": symbol}
            if channel == "book":
                result["depth"] = self.depth
            sock.send(json.dumps({"method": method, "result": result, "success": True}))
            if method == "unsubscribe":
                sock.subs.discard((channel, symbol))
                continue
            sock.subs.add((channel, symbol))
            if channel == "book" and params.get("snapshot", True):
                shown = self._shown[symbol]
                bids = sorted(shown.bids.items(), reverse=True)
                asks = sorted(shown.asks.items())
                sock.send(self._book_frame(book, "snapshot", bids, asks, None))

    # ---- the market ----------------------------------------------------------------------------

    def step(self, book: SimBook, activity: MarketActivity) -> dict[str, list[str]]:
        """One ``book`` update (when the top changed) and the step's trades."""
        shown = self._shown[book.symbol]
        new_bids = dict(book.market.bids(self.depth))
        new_asks = dict(book.market.asks(self.depth))
        bid_changes = _changes(shown.bids, new_bids, Side.BUY, self.depth)
        ask_changes = _changes(shown.asks, new_asks, Side.SELL, self.depth)
        shown.bids, shown.asks = new_bids, new_asks
        frames: dict[str, list[str]] = {"trade": [self._trade(book, t) for t in activity.trades]}
        if not (bid_changes or ask_changes):
            return frames
        if book.take_fault("lost"):
            return frames
        ts = _rfc3339(self.wall_ns(book.market.now_ns))
        frames["book"] = [self._book_frame(book, "update", bid_changes, ask_changes, ts)]
        return frames

    def after_step(self) -> None:
        """A ``heartbeat`` to every socket about once a second."""
        self._steps += 1
        if self._steps % self.heartbeat_every == 0:
            for sock in self.sockets.values():
                sock.send('{"channel":"heartbeat"}')

    def _book_frame(
        self, book: SimBook, kind: str, bids: list[Level], asks: list[Level], ts: str | None
    ) -> str:
        shown = self._shown[book.symbol]
        checksum = kraken_checksum(
            book, sorted(shown.bids.items(), reverse=True), sorted(shown.asks.items())
        )
        if kind == "update" and book.take_fault("bad_checksum"):
            checksum ^= 1
        stamp = f',"timestamp":"{ts}"' if ts else ""
        return (
            f'{{"channel":"book","type":"{kind}","data":[{{"symbol":{json.dumps(book.symbol)},'
            f'"bids":[{_levels(book, bids)}],"asks":[{_levels(book, asks)}],'
            f'"checksum":{checksum}{stamp}}}]}}'
        )

    def _trade(self, book: SimBook, trade: TradePrint) -> str:
        side = "sell" if trade.buyer_is_maker else "buy"
        return (
            f'{{"channel":"trade","type":"update","data":[{{"symbol":{json.dumps(book.symbol)},'
            f'"side":"{side}","price":{book.price.to_text(trade.price)},'
            f'"qty":{book.size.to_text(trade.size)},"ord_type":"market",'
            f'"trade_id":{trade.trade_id},'
            f'"timestamp":"{_rfc3339(self.wall_ns(trade.time_ns))}"}}]}}'
        )


def _levels(book: SimBook, levels: list[Level]) -> str:
    """Levels as JSON numbers at the pair's decimals (``{"price":45283.5,"qty":0.10000000}``)."""
    return ",".join(
        f'{{"price":{book.price.to_text(p)},"qty":{book.size.to_text(s)}}}' for p, s in levels
    )


def _changes(old: dict[int, int], new: dict[int, int], side: Side, depth: int) -> list[Level]:
    """What changed in the top ``depth``, best first; no delete for a level that fell off."""
    out = [(p, s) for p, s in new.items() if old.get(p) != s]
    full = len(new) >= depth
    worst = (min(new) if side is Side.BUY else max(new)) if new else 0
    for price in old:
        if price in new:
            continue
        inside = price > worst if side is Side.BUY else price < worst
        if inside or not full:
            out.append((price, 0))
    out.sort(key=lambda level: -level[0] if side is Side.BUY else level[0])
    return out
