"""The book race's NautilusTrader contestant: raw Binance depth frames into its L2 OrderBook.

``load`` reads the frames file (the REST snapshot on the first line, then one ``depthUpdate``
frame per line, the bytes the engine's side times); ``rep`` times one pass: for every frame
``orjson.loads``, a ``BookOrder``/``OrderBookDelta`` per level with ``Price``/``Quantity`` from
the text (UPDATE, or DELETE at size zero), ``apply_deltas`` with the last delta flagged, then
``best_bid_price``/``best_ask_price``. The top-10 read is ``bids()[:10]``/``asks()[:10]`` with
each level's price and size, the book's public read API.
"""

from __future__ import annotations

import time
from importlib import metadata
from typing import Any

import orjson
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas
from nautilus_trader.model.enums import BookAction, BookType, OrderSide, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Price, Quantity

_INSTRUMENT = InstrumentId.from_str("BTCUSDT.BINANCE")
_state: dict[str, Any] = {}


def load(request: dict[str, Any]) -> dict[str, Any]:
    """Keep the frames in memory for the reps."""
    with open(request["frames"], "rb") as f:
        lines = f.read().splitlines()
    _state["snapshot"] = lines[0]
    _state["frames"] = lines[1:]
    return {"version": metadata.version("nautilus_trader"), "frames": len(lines) - 1}


def _snapshot_book() -> OrderBook:
    book = OrderBook(_INSTRUMENT, BookType.L2_MBP)
    body = orjson.loads(_state["snapshot"])
    deltas = []
    for side, levels in ((OrderSide.BUY, body["bids"]), (OrderSide.SELL, body["asks"])):
        for p, q in levels:
            order = BookOrder(side, Price.from_str(p), Quantity.from_str(q), 0)
            deltas.append(OrderBookDelta(_INSTRUMENT, BookAction.ADD, order, 0, 0, 0, 0))
    book.apply_deltas(OrderBookDeltas(_INSTRUMENT, deltas))
    return book


def _deltas(levels: list[list[str]], side: OrderSide, out: list[OrderBookDelta], seq: int) -> None:
    update, delete = BookAction.UPDATE, BookAction.DELETE
    for p, q in levels:
        size = Quantity.from_str(q)
        order = BookOrder(side, Price.from_str(p), size, 0)
        action = update if size.as_double() else delete
        out.append(OrderBookDelta(_INSTRUMENT, action, order, 0, seq, 0, 0))


def rep(request: dict[str, Any]) -> dict[str, Any]:
    """One timed pass over the frames, then the top-10 read timed ``reads`` times."""
    book = _snapshot_book()
    loads, buy, sell = orjson.loads, OrderSide.BUY, OrderSide.SELL
    last = RecordFlag.F_LAST
    start = time.perf_counter_ns()
    for raw in _state["frames"]:
        data = loads(raw)["data"]
        seq = data["u"]
        deltas: list[OrderBookDelta] = []
        _deltas(data["b"], buy, deltas, seq)
        _deltas(data["a"], sell, deltas, seq)
        if deltas:
            tail = deltas[-1]
            deltas[-1] = OrderBookDelta(_INSTRUMENT, tail.action, tail.order, last, seq, 0, 0)
            book.apply_deltas(OrderBookDeltas(_INSTRUMENT, deltas))
        book.best_bid_price()
        book.best_ask_price()
    seconds = (time.perf_counter_ns() - start) / 1e9
    n = int(request.get("n", 10))
    reads = int(request.get("reads", 1))

    def top() -> list[tuple[float, float]]:
        return [(lv.price.as_double(), lv.size()) for lv in book.bids()[:n]] + [
            (lv.price.as_double(), lv.size()) for lv in book.asks()[:n]
        ]

    begin = time.perf_counter_ns()
    done = 0
    budget = begin + 200_000_000  # its read copies the whole side: stop after 0.2 s
    while done < reads:
        top()
        done += 1
        if not done & 15 and time.perf_counter_ns() > budget:
            break
    read_ns = (time.perf_counter_ns() - begin) / done
    return {"seconds": seconds, "read_ns": read_ns, "top": top()}
