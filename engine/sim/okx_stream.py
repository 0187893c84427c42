"""A local OKX v5 public WebSocket: ``books`` (with checksums) and ``trades`` from the sim market.

:class:`OkxStreamVenue` serves ``/ws/v5/public`` on 127.0.0.1 for a set of instruments, each
driven by its own seeded :class:`~engine.sim.market.MarketModel` (the server, sockets and market
clock of :class:`~engine.sim.public_stream.PublicStreamVenue`). It speaks the parts of OKX a
market-data client needs (venues.md §6):

- ``{"op":"subscribe","args":[{"channel":"books"|"trades","instId":..}]}`` is acknowledged with
  ``{"event":"subscribe","arg":..,"connId":..}``; ``unsubscribe`` likewise; an unknown channel or
  instrument gets ``{"event":"error","code":"60018",..}``.
- ``books``: a ``snapshot`` (``prevSeqId`` -1) on subscribe, then every ``interval_ms`` an
  ``update`` with the levels that changed (absolute sizes, ``"0"`` deletes), ``prevSeqId`` the
  last ``seqId``, and the signed CRC32 of the top 25 levels a side in OKX's own text; a quiet
  interval sends an empty update with ``prevSeqId == seqId``. Levels are ``[px, sz, "0", n]``.
- ``trades``: one message per print, ``side`` the taker's.
- the text ``ping`` is answered ``pong``.
- ``GET /api/v5/market/books?instId=..`` answers the book now with its ``seqId`` (the REST
  snapshot of the 2026 procedure). With ``ws_snapshots=False`` the stream sends no ``books``
  snapshot on subscribe, as OKX announced for August 2026: only updates, and clients use REST.

Faults, for the client's tests: :meth:`OkxStreamVenue.inject_gap` skips a ``seqId`` on the next
update, :meth:`OkxStreamVenue.inject_bad_checksum` corrupts the next update's checksum,
:meth:`OkxStreamVenue.drop_connections` closes every socket, and
:meth:`OkxStreamVenue.inject_malformed` sends one broken frame.
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal

from aiohttp import web

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.market import Level, MarketActivity
from engine.sim.public_stream import PublicStreamVenue, SimBook, SimSocket

_NS_PER_MS = 1_000_000
CHECKSUM_DEPTH = 25


def okx_text(step: Decimal, steps: int) -> str:
    """OKX's text for a number of steps: the shortest exact decimal (``30316``, ``5.16``)."""
    text = format(step * steps, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """The signed CRC32 of the top 25 levels a side, interleaved ``bid:sz:ask:sz:...``."""
    parts: list[str] = []
    bids, asks = bids[:CHECKSUM_DEPTH], asks[:CHECKSUM_DEPTH]
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def _level(book: SimBook, level: Level) -> list[str]:
    tick, lot = _grids(book)
    return [okx_text(tick, level[0]), okx_text(lot, level[1]), "0", "1"]


def _grids(book: SimBook) -> tuple[Decimal, Decimal]:
    return Decimal(book.instrument.tick_size), Decimal(book.instrument.lot_size)


def _checksum(book: SimBook) -> int:
    tick, lot = _grids(book)
    bids = [(okx_text(tick, p), okx_text(lot, s)) for p, s in book.market.bids(CHECKSUM_DEPTH)]
    asks = [(okx_text(tick, p), okx_text(lot, s)) for p, s in book.market.asks(CHECKSUM_DEPTH)]
    return okx_checksum(bids, asks)


class OkxStreamVenue(PublicStreamVenue):
    """The local OKX public stream.

    Args:
        instruments: what it lists, ``symbol`` being the OKX ``instId``.
        seed: the markets' seed.
        events_per_second: book events per second per instrument.
        interval_ms: how often ``books`` updates go out (OKX: 100 ms).
        ws_snapshots: send a ``books`` snapshot on subscribe (False: updates only).
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
        ws_snapshots: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            instruments,
            path="/ws/v5/public",
            seed=seed,
            events_per_second=events_per_second,
            interval_ms=interval_ms,
            host=host,
            port=port,
        )
        self.ws_snapshots = ws_snapshots
        self.rest_snapshots = 0
        """REST book snapshots served."""
        self._seq_ids = dict.fromkeys(self.books, 1_000)

    @property
    def rest_url(self) -> str:
        """The REST base (``/api/v5/market/books`` lives under it)."""
        return f"http://{self._host}:{self._port}"

    @property
    def ws_url(self) -> str:
        """The public stream's URL (``ts`` fields are model time from the wall clock at start)."""
        return self.url

    # ---- faults --------------------------------------------------------------------------------

    def inject_gap(self, symbol: str) -> None:
        """The next update of ``symbol`` skips a ``seqId``."""
        self.add_fault(symbol, "gap")

    def inject_bad_checksum(self, symbol: str) -> None:
        """The next update of ``symbol`` carries a wrong checksum."""
        self.add_fault(symbol, "bad_checksum")

    def broken_frame(self) -> str:
        """A truncated ``books`` frame."""
        return '{"arg":{"channel":"books","instId":'

    # ---- requests ------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """``GET /api/v5/market/books``: the book now, with its ``seqId``."""
        app.router.add_get("/api/v5/market/books", self._rest_books)

    def on_request(self, sock: SimSocket, text: str) -> None:
        """Answer ``ping`` and one request; its acks and snapshots are queued at once, in order."""
        if text == "ping":
            sock.send("pong")
            return
        try:
            request = json.loads(text)
            op, args = request["op"], request["args"]
        except (ValueError, KeyError, TypeError):
            error = {"event": "error", "code": "60012", "msg": f"Invalid request: {text}"}
            sock.send(json.dumps(error))
            return
        conn_id = f"{sock.number:08x}"
        for arg in args:
            channel, symbol = arg.get("channel"), arg.get("instId")
            if channel not in ("books", "trades") or symbol not in self.books:
                error = {"event": "error", "code": "60018", "msg": f"{channel} doesn't exist"}
                sock.send(json.dumps(error))
                continue
            if op == "subscribe":
                sock.subs.add((channel, symbol))
                sock.send(json.dumps({"event": "subscribe", "arg": arg, "connId": conn_id}))
                if channel == "books" and self.ws_snapshots:
                    sock.send(self._snapshot(self.books[symbol]))
            elif op == "unsubscribe":
                sock.subs.discard((channel, symbol))
                ack = {"event": "unsubscribe", "arg": arg, "connId": conn_id}
                sock.send(json.dumps(ack))

    async def _rest_books(self, request: web.Request) -> web.Response:
        book = self.books.get(request.query.get("instId", ""))
        if book is None:
            return web.json_response(
                {"code": "51001", "msg": "Instrument ID doesn't exist", "data": []}
            )
        self.rest_snapshots += 1
        data = self._book_data(book)
        del data["checksum"], data["prevSeqId"]
        return web.json_response({"code": "0", "msg": "", "data": [data]})

    def _snapshot(self, book: SimBook) -> str:
        return json.dumps(
            {
                "arg": {"channel": "books", "instId": book.symbol},
                "action": "snapshot",
                "data": [self._book_data(book)],
            }
        )

    def _book_data(self, book: SimBook) -> dict[str, object]:
        market = book.market
        data: dict[str, object] = {
            "asks": [_level(book, lv) for lv in market.asks()],
            "bids": [_level(book, lv) for lv in market.bids()],
            "ts": self._ms(market.now_ns),
            "checksum": _checksum(book),
            "prevSeqId": -1,
            "seqId": self._seq_ids[book.symbol],
        }
        return data

    def _ms(self, model_ns: int) -> str:
        return str(self.wall_ns(model_ns) // _NS_PER_MS)

    # ---- the market ----------------------------------------------------------------------------

    def step(self, book: SimBook, activity: MarketActivity) -> dict[str, list[str]]:
        """One ``books`` update (empty when nothing changed) and the step's trades."""
        tick, lot = _grids(book)
        changed: dict[tuple[Side, int], int] = {}
        for change in activity.changes:
            changed[(change.side, change.price)] = change.size
        bids = [
            [okx_text(tick, p), okx_text(lot, s), "0", "1" if s else "0"]
            for (side, p), s in sorted(changed.items(), key=lambda kv: -kv[0][1])
            if side is Side.BUY
        ]
        asks = [
            [okx_text(tick, p), okx_text(lot, s), "0", "1" if s else "0"]
            for (side, p), s in sorted(changed.items(), key=lambda kv: kv[0][1])
            if side is Side.SELL
        ]
        symbol = book.symbol
        prev = self._seq_ids[symbol]
        if changed:
            self._seq_ids[symbol] += 1
        if book.take_fault("gap"):  # the update that should have come between is never sent
            prev = self._seq_ids[symbol] + 1
            self._seq_ids[symbol] += 2
        checksum = _checksum(book)
        if book.take_fault("bad_checksum"):
            checksum = checksum + 1 if checksum != -1 else 1
        update = json.dumps(
            {
                "arg": {"channel": "books", "instId": symbol},
                "action": "update",
                "data": [
                    {
                        "asks": asks,
                        "bids": bids,
                        "ts": self._ms(book.market.now_ns),
                        "checksum": checksum,
                        "prevSeqId": prev,
                        "seqId": self._seq_ids[symbol],
                    }
                ],
            }
        )
        trades = [
            json.dumps(
                {
                    "arg": {"channel": "trades", "instId": symbol},
                    "data": [
                        {
                            "instId": symbol,
                            "tradeId": str(t.trade_id),
                            "px": okx_text(tick, t.price),
                            "sz": okx_text(lot, t.size),
                            "side": "sell" if t.buyer_is_maker else "buy",
                            "ts": self._ms(t.time_ns),
                        }
                    ],
                }
            )
            for t in activity.trades
        ]
        return {"books": [update], "trades": trades}
