"""The backtest race's peers: hftbacktest and NautilusTrader quoting over the same Binance capture.

Both get the capture files of one session (hftbacktest raw format: ``<receive ns> <json>``
lines, gzip), the instrument's grid and the quoting loop (``loop``: half spread, size, requote
threshold, inventory cap, order latency), run one untimed warm-up on the first few thousand
events (numba compiles, NautilusTrader starts its kernel), then ``reps`` timed runs over the
whole input. Events are the capture's ``depthUpdate`` and ``trade`` messages, the count the
engine's side divides by too; ``events_per_s`` is that count over the wall time of the run
(loading and converting the data excluded).

* hftbacktest: the capture converted to its event array as its own Binance converter does (spot
  frames carry ``E`` where futures carry ``T``; the REST snapshot becomes clear + snapshot
  events), ``HashMapMarketDepthBacktest`` with ``risk_adverse_queue_model``,
  ``constant_order_latency``, ``no_partial_fill_exchange`` and zero fees, and the loop in a
  ``numba.njit`` function woken by ``wait_next_feed`` on every feed event.
* NautilusTrader: ``BacktestEngine`` with one Binance-like cash venue (L2 book), the frames as
  ``OrderBookDeltas`` and ``TradeTick``, a ``Strategy`` that runs the loop on every book update
  (``modify_order`` when the wanted price moved past the threshold, post-only limit orders), and
  a ``LatencyModel`` of the loop's order latency.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from decimal import Decimal
from importlib import metadata
from typing import Any

import numpy as np

WARM_EVENTS = 3_000


def _messages(captures: list[str], max_events: int | None) -> tuple[list[tuple[int, Any]], int]:
    """(receive ns, decoded message) for the snapshot, depthUpdates and trades; and the count."""
    out: list[tuple[int, Any]] = []
    events = 0
    for path in captures:
        with gzip.open(path, "rb") as f:
            for line in f:
                stamp, _, payload = line.rstrip(b"\n").partition(b" ")
                head = payload[:120]
                is_event = b'"depthUpdate"' in head or b'@trade"' in head
                if not is_event and b"lastUpdateId" not in head:
                    continue
                if is_event:
                    if max_events is not None and events >= max_events:
                        return out, events
                    events += 1
                out.append((int(stamp), json.loads(payload)))
    return out, events


# ---- hftbacktest ---------------------------------------------------------------------------------


def _hbt_events(messages: list[tuple[int, Any]]) -> Any:  # noqa: ANN401 - numpy record array
    from hftbacktest import (
        BUY_EVENT,
        DEPTH_CLEAR_EVENT,
        DEPTH_EVENT,
        DEPTH_SNAPSHOT_EVENT,
        SELL_EVENT,
        TRADE_EVENT,
        event_dtype,
    )
    from hftbacktest.data.validation import (
        correct_event_order,
        correct_local_timestamp,
        validate_event_order,
    )

    rows: list[tuple[int, int, int, float, float, int, int, float]] = []
    add = rows.append
    for local, message in messages:
        data = message.get("data")
        if data is None:  # the REST snapshot (spot: no transaction time; use the receive time)
            for flag, levels in ((BUY_EVENT, message["bids"]), (SELL_EVENT, message["asks"])):
                if levels:
                    add(
                        (
                            DEPTH_CLEAR_EVENT | flag,
                            local,
                            local,
                            float(levels[-1][0]),
                            0.0,
                            0,
                            0,
                            0.0,
                        )
                    )
                    for px, qty in levels:
                        add(
                            (
                                DEPTH_SNAPSHOT_EVENT | flag,
                                local,
                                local,
                                float(px),
                                float(qty),
                                0,
                                0,
                                0.0,
                            )
                        )
        elif data["e"] == "trade":
            side = SELL_EVENT if data["m"] else BUY_EVENT
            add(
                (
                    TRADE_EVENT | side,
                    data["T"] * 1_000_000,
                    local,
                    float(data["p"]),
                    float(data["q"]),
                    0,
                    0,
                    0.0,
                )
            )
        else:
            exch = data["E"] * 1_000_000
            for px, qty in data["b"]:
                add((DEPTH_EVENT | BUY_EVENT, exch, local, float(px), float(qty), 0, 0, 0.0))
            for px, qty in data["a"]:
                add((DEPTH_EVENT | SELL_EVENT, exch, local, float(px), float(qty), 0, 0, 0.0))
    tmp = np.array(rows, dtype=event_dtype)
    tmp = correct_local_timestamp(tmp, 0)
    data = correct_event_order(
        tmp,
        np.argsort(tmp["exch_ts"], kind="mergesort"),
        np.argsort(tmp["local_ts"], kind="mergesort"),
    )
    validate_event_order(data)
    return data


_compiled: dict[str, Any] = {}


def _hbt_loop() -> Any:  # noqa: ANN401 - a numba dispatcher
    """The quoting loop, compiled once (on the warm-up's call) and kept for the timed runs."""
    if "quote" in _compiled:
        return _compiled["quote"]
    from hftbacktest import GTX, LIMIT
    from numba import njit

    @njit
    def quote(hbt, half_spread: int, qty: float, requote: int, max_inventory: float) -> tuple:  # noqa: ANN001
        orders_sent = 0
        next_id = 1
        bid_id = 0
        ask_id = 0
        bid_tick = 0
        ask_tick = 0
        tick = hbt.depth(0).tick_size
        while hbt.wait_next_feed(False, 60_000_000_000) in (0, 2, 3):
            depth = hbt.depth(0)
            best_bid, best_ask = depth.best_bid_tick, depth.best_ask_tick
            if best_bid <= 0 or best_ask <= best_bid or best_ask > 2**40:
                continue
            hbt.clear_inactive_orders(0)
            orders = hbt.orders(0)
            mid2 = best_bid + best_ask
            want_bid = (mid2 - 2 * half_spread) // 2
            want_ask = -((-(mid2 + 2 * half_spread)) // 2)
            position = hbt.position(0)
            if bid_id and orders.get(bid_id) is None:
                bid_id = 0
            if ask_id and orders.get(ask_id) is None:
                ask_id = 0
            if bid_id and abs(want_bid - bid_tick) > requote:
                hbt.cancel(0, bid_id, False)
                bid_id = 0
            if ask_id and abs(want_ask - ask_tick) > requote:
                hbt.cancel(0, ask_id, False)
                ask_id = 0
            if not bid_id and position < max_inventory:
                bid_id = next_id
                next_id += 1
                bid_tick = want_bid
                hbt.submit_buy_order(0, bid_id, want_bid * tick, qty, GTX, LIMIT, False)
                orders_sent += 1
            if not ask_id and position > -max_inventory:
                ask_id = next_id
                next_id += 1
                ask_tick = want_ask
                hbt.submit_sell_order(0, ask_id, want_ask * tick, qty, GTX, LIMIT, False)
                orders_sent += 1
        return orders_sent, hbt.state_values(0).num_trades

    _compiled["quote"] = quote
    return quote


def _hbt_run(data: Any, tick: float, lot: float, loop: dict[str, Any]) -> tuple[float, int, int]:  # noqa: ANN401
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest

    latency = int(loop["order_latency_ns"])
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(latency, latency)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(tick)
        .lot_size(lot)
        .last_trades_capacity(0)
    )
    hbt = HashMapMarketDepthBacktest([asset])
    quote = _hbt_loop()
    qty = loop["size_lots"] * lot
    start = time.perf_counter()
    orders, fills = quote(hbt, int(loop["half_spread_ticks"]), qty, int(loop["requote_ticks"]),
                          loop["max_inventory_lots"] * lot)  # fmt: skip
    seconds = time.perf_counter() - start
    hbt.close()
    return seconds, int(orders), int(fills)


def hftbacktest(request: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then ``reps`` timed runs of the loop in hftbacktest."""
    messages, events = _messages(request["captures"], request.get("max_events"))
    tick, lot = float(request["tick_size"]), float(request["lot_size"])
    data = _hbt_events(messages)
    warm = _hbt_events(messages[: WARM_EVENTS + 1])
    _hbt_run(warm, tick, lot, request["loop"])
    rates: list[float] = []
    orders = fills = 0
    for _ in range(int(request["reps"])):
        seconds, orders, fills = _hbt_run(data, tick, lot, request["loop"])
        rates.append(events / seconds)
        sys.stderr.write(f"[peers hftbacktest] {events / seconds:,.0f} events/s\n")
    return {
        "events_per_s": rates,
        "events": events,
        "orders": orders,
        "fills": fills,
        "detail": (
            f"hftbacktest {metadata.version('hftbacktest')} (numba API, "
            "HashMapMarketDepthBacktest, "
            f"{len(data):,} rows from {events:,} events, risk_adverse_queue_model, "
            f"constant_order_latency {request['loop']['order_latency_ns']} ns each way, "
            "no partial fills, loop woken by wait_next_feed)"
        ),
    }


# ---- NautilusTrader ------------------------------------------------------------------------------


def _nautilus_data(messages: list[tuple[int, Any]], instrument: Any) -> list[Any]:  # noqa: ANN401
    from nautilus_trader.model.data import BookOrder, OrderBookDelta, OrderBookDeltas, TradeTick
    from nautilus_trader.model.enums import AggressorSide, BookAction, OrderSide, RecordFlag
    from nautilus_trader.model.identifiers import TradeId
    from nautilus_trader.model.objects import Price, Quantity

    iid = instrument.id
    pp, sp = instrument.price_precision, instrument.size_precision
    out: list[Any] = []
    last_ts = 0
    for local, message in messages:
        ts = max(local, last_ts)
        last_ts = ts
        data = message.get("data")
        deltas: list[Any] = []
        if data is None:
            deltas.append(OrderBookDelta.clear(iid, 0, ts, ts))
            for side, levels in (
                (OrderSide.BUY, message["bids"]),
                (OrderSide.SELL, message["asks"]),
            ):
                for p, q in levels:
                    order = BookOrder(side, Price(float(p), pp), Quantity(float(q), sp), 0)
                    deltas.append(OrderBookDelta(iid, BookAction.ADD, order, 0, 0, ts, ts))
        elif data["e"] == "trade":
            out.append(
                TradeTick(
                    iid,
                    Price(float(data["p"]), pp),
                    Quantity(float(data["q"]), sp),
                    AggressorSide.SELLER if data["m"] else AggressorSide.BUYER,
                    TradeId(str(data["t"])),
                    ts,
                    ts,
                )
            )
            continue
        else:
            for side, levels in ((OrderSide.BUY, data["b"]), (OrderSide.SELL, data["a"])):
                for p, q in levels:
                    size = float(q)
                    order = BookOrder(side, Price(float(p), pp), Quantity(size, sp), 0)
                    action = BookAction.UPDATE if size else BookAction.DELETE
                    deltas.append(OrderBookDelta(iid, action, order, 0, data["u"], ts, ts))
        if deltas:
            tail = deltas[-1]
            deltas[-1] = OrderBookDelta(iid, tail.action, tail.order, RecordFlag.F_LAST,
                                        tail.sequence, ts, ts)  # fmt: skip
            out.append(OrderBookDeltas(iid, deltas))
    return out


def _nautilus_strategy(loop: dict[str, Any], instrument: Any) -> Any:  # noqa: ANN401
    from nautilus_trader.config import StrategyConfig
    from nautilus_trader.model.enums import BookType, OrderSide, TimeInForce
    from nautilus_trader.trading.strategy import Strategy

    half, requote = int(loop["half_spread_ticks"]), int(loop["requote_ticks"])
    tick = float(instrument.price_increment)
    qty = instrument.make_qty(Decimal(loop["size_lots"]) * instrument.size_increment.as_decimal())
    cap = float(Decimal(loop["max_inventory_lots"]) * instrument.size_increment.as_decimal())

    class Quoter(Strategy):
        def __init__(self) -> None:
            super().__init__(StrategyConfig(strategy_id="Quoter-001"))
            self.bid: Any = None
            self.ask: Any = None
            self.sent = 0
            self.fills = 0

        def on_start(self) -> None:
            self.subscribe_order_book_deltas(instrument.id, BookType.L2_MBP)

        def on_order_filled(self, event: Any) -> None:  # noqa: ANN401
            self.fills += 1

        def _side(self, current: Any, side: OrderSide, ticks: int, room: bool) -> Any:  # noqa: ANN401
            if current is not None and not current.is_open:
                current = None
            price = instrument.make_price(ticks * tick)
            if current is not None:
                if (
                    abs(round(float(current.price) / tick) - ticks) > requote
                    and not current.is_pending_update
                ):
                    self.modify_order(current, price=price)
                    self.sent += 1
                return current
            if not room:
                return None
            order = self.order_factory.limit(
                instrument.id, side, qty, price, time_in_force=TimeInForce.GTC, post_only=True
            )
            self.submit_order(order)
            self.sent += 1
            return order

        def on_order_book_deltas(self, deltas: Any) -> None:  # noqa: ANN401
            book = self.cache.order_book(instrument.id)
            bid, ask = book.best_bid_price(), book.best_ask_price()
            if bid is None or ask is None:
                return
            b, a = round(float(bid) / tick), round(float(ask) / tick)
            if a <= b:
                return
            position = self.portfolio.net_position(instrument.id)
            pos = float(position) if position is not None else 0.0
            mid2 = a + b
            self.bid = self._side(self.bid, OrderSide.BUY, (mid2 - 2 * half) // 2, pos < cap)
            self.ask = self._side(
                self.ask, OrderSide.SELL, -((-(mid2 + 2 * half)) // 2), pos > -cap
            )

    return Quoter()


def _nautilus_instrument(tick_size: str, lot_size: str) -> Any:  # noqa: ANN401
    from nautilus_trader.model.currencies import BTC, USDT
    from nautilus_trader.model.identifiers import InstrumentId, Symbol
    from nautilus_trader.model.instruments import CurrencyPair
    from nautilus_trader.model.objects import Price, Quantity

    pp = len(tick_size.partition(".")[2])
    sp = len(lot_size.partition(".")[2])
    return CurrencyPair(
        instrument_id=InstrumentId.from_str("BTCUSDT.BINANCE"),
        raw_symbol=Symbol("BTCUSDT"),
        base_currency=BTC,
        quote_currency=USDT,
        price_precision=pp,
        size_precision=sp,
        price_increment=Price.from_str(tick_size),
        size_increment=Quantity.from_str(lot_size),
        lot_size=None,
        max_quantity=Quantity.from_str("9000"),
        min_quantity=Quantity.from_str(lot_size),
        max_notional=None,
        min_notional=None,
        max_price=Price.from_str("1000000"),
        min_price=Price.from_str(tick_size),
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        ts_event=0,
        ts_init=0,
    )


def _nautilus_run(data: list[Any], instrument: Any, loop: dict[str, Any]) -> tuple[float, int, int]:  # noqa: ANN401
    from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import BTC, USDT
    from nautilus_trader.model.enums import AccountType, BookType, OmsType
    from nautilus_trader.model.identifiers import Venue
    from nautilus_trader.model.objects import Money

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(
        venue=Venue("BINANCE"),
        oms_type=OmsType.NETTING,
        account_type=AccountType.CASH,
        base_currency=None,
        starting_balances=[Money(10_000_000, USDT), Money(1_000, BTC)],
        book_type=BookType.L2_MBP,
        latency_model=LatencyModel(base_latency_nanos=int(loop["order_latency_ns"])),
    )
    engine.add_instrument(instrument)
    engine.add_data(data, sort=True)  # sorted before the clock starts
    strategy = _nautilus_strategy(loop, instrument)
    engine.add_strategy(strategy)
    start = time.perf_counter()
    engine.run()
    seconds = time.perf_counter() - start
    sent, fills = strategy.sent, strategy.fills
    engine.dispose()
    return seconds, sent, fills


def nautilus(request: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then ``reps`` timed runs of the loop in NautilusTrader's BacktestEngine."""
    messages, events = _messages(request["captures"], request.get("max_events"))
    instrument = _nautilus_instrument(request["tick_size"], request["lot_size"])
    _nautilus_run(
        _nautilus_data(messages[: WARM_EVENTS + 1], instrument), instrument, request["loop"]
    )
    rates: list[float] = []
    sent = fills = 0
    for _ in range(int(request["reps"])):
        data = _nautilus_data(messages, instrument)  # the engine consumes its data objects
        seconds, sent, fills = _nautilus_run(data, instrument, request["loop"])
        rates.append(events / seconds)
        sys.stderr.write(f"[peers nautilus] {events / seconds:,.0f} events/s\n")
    return {
        "events_per_s": rates,
        "events": events,
        "orders": sent,
        "fills": fills,
        "detail": (
            f"NautilusTrader {metadata.version('nautilus_trader')} BacktestEngine (L2_MBP cash "
            f"venue, OrderBookDeltas + TradeTick from {events:,} events, a Strategy quoting on "
            f"every book update, LatencyModel {request['loop']['order_latency_ns']} ns, default "
            "fill model)"
        ),
    }
