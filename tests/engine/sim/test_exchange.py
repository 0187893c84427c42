import numpy as np
import pytest

from engine.core.commands import CancelAll, CancelOrder, SubmitOrder, TimeInForce
from engine.core.events import (
    BookDelta,
    BookSnapshot,
    Fill,
    Int64Array,
    OrderUpdate,
    OrderUpdateKind,
    Side,
    Trade,
)
from engine.core.instruments import Instrument
from engine.sim.exchange import ExchangeSetupError, SimulatedExchange
from engine.sim.latency import ConstantLatency, LatencyModel, SampledLatency
from engine.sim.matching import MatchingCore, Report

K = OrderUpdateKind
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
ETH = Instrument(
    venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", instrument_id=1
)


def arr(*values: int) -> Int64Array:
    """An int64 array."""
    return np.array(values, dtype=np.int64)


def updates(reports: list[Report]) -> list[OrderUpdate]:
    """The reports, which must all be order updates."""
    assert all(isinstance(r, OrderUpdate) for r in reports), reports
    return [r for r in reports if isinstance(r, OrderUpdate)]


def snapshot(instrument: int = 0, ts: int = 0) -> BookSnapshot:
    """Bids 100 (5 lots), asks 101 (3 lots) at exchange time ``ts``."""
    return BookSnapshot(
        instrument=instrument,
        update_id=1,
        bid_px=arr(100),
        bid_sz=arr(5),
        ask_px=arr(101),
        ask_sz=arr(3),
        exch_ts=ts,
    )


def exchange(latency: LatencyModel | None = None) -> SimulatedExchange:
    """Two instruments behind ``latency`` (100 ns in, 50 ns back, 30 ns feed by default)."""
    latency = latency or ConstantLatency(entry=100, response=50, feed=30)
    ex = SimulatedExchange({0: MatchingCore(BTC), 1: MatchingCore(ETH)}, latency)
    ex.on_snapshot(snapshot(0))
    ex.on_snapshot(snapshot(1))
    return ex


def buy(
    cid: str,
    size: int = 1,
    price: int = 101,
    instrument: int = 0,
    tif: TimeInForce = TimeInForce.GTC,
) -> SubmitOrder:
    """A limit buy."""
    return SubmitOrder(
        client_order_id=cid,
        instrument=instrument,
        side=Side.BUY,
        size_lots=size,
        price_ticks=price,
        time_in_force=tif,
    )


def level(ts: int, price: int = 101, size: int = 0, side: Side = Side.SELL) -> BookDelta:
    """A delta changing one level at exchange time ``ts``."""
    bids = (arr(price), arr(size)) if side is Side.BUY else (arr(), arr())
    asks = (arr(price), arr(size)) if side is Side.SELL else (arr(), arr())
    return BookDelta(
        instrument=0,
        first_id=2,
        last_id=2,
        prev_id=-1,
        bid_px=bids[0],
        bid_sz=bids[1],
        ask_px=asks[0],
        ask_sz=asks[1],
        exch_ts=ts,
        recv_ts=ts,
    )


def test_a_command_reaches_the_core_after_the_entry_latency():
    """An order sent at 0 is not on the book at 99 ns, and is at 100 ns."""
    ex = exchange()
    assert ex.send(buy("a", price=90), 0) == 100
    ex.on_delta(level(99, price=99, size=1, side=Side.BUY))
    assert ex.cores[0].order("a") is None
    ex.on_delta(level(100, price=98, size=1, side=Side.BUY))
    assert ex.cores[0].order("a") is not None


def test_reports_become_visible_after_the_response_latency():
    """The ack of an order matched at 100 ns is visible from 150 ns, not before."""
    ex = exchange()
    ex.send(buy("a", price=90), 0)
    assert ex.poll(149) == []
    reports = ex.poll(150)
    assert [r.kind for r in reports if isinstance(r, OrderUpdate)] == [K.ACCEPTED]
    assert reports[0].exch_ts == 100


def test_a_command_arriving_with_a_market_event_is_matched_first():
    """Tie rule: an order landing in the same nanosecond as an event sees the book before it."""
    ex = exchange()
    ex.send(buy("a", size=3, tif=TimeInForce.IOC), 0)  # lands at 100
    ex.on_delta(level(100, price=101, size=0))  # the ask leaves at 100 too
    reports = ex.poll(10_000)
    assert [(r.price, r.size) for r in reports if isinstance(r, Fill)] == [(101, 3)]


def test_an_event_before_the_arrival_is_applied_first():
    """A market event earlier than the order's arrival changes the book the order meets."""
    ex = exchange()
    ex.send(buy("a", size=3, tif=TimeInForce.IOC), 0)
    ex.on_delta(level(99, price=101, size=0))
    kinds = [r.kind for r in ex.poll(10_000) if isinstance(r, OrderUpdate)]
    assert kinds == [K.ACCEPTED, K.EXPIRED]


def test_commands_keep_their_order_whatever_latency_is_drawn():
    """With random entry latency a cancel never overtakes the order it cancels."""
    latency = SampledLatency.from_samples([1_000, 10], [5], [1], seed=4)
    ex = exchange(latency)
    for n in range(20):
        ex.send(buy(f"o{n}", price=90), n)
        ex.send(CancelOrder(client_order_id=f"o{n}", instrument=0), n)
    reports = updates(ex.poll(10**9))
    assert [r.kind for r in reports] == [K.ACCEPTED, K.CANCELED] * 20
    assert [r.client_order_id for r in reports][::2] == [f"o{n}" for n in range(20)]


def test_reports_leave_in_the_order_the_core_made_them():
    """Visible times never decrease, so poll returns reports in the core's order."""
    latency = SampledLatency.lognormal(1_000, 1_000, 1_000, sigma=1.5, seed=2)
    ex = exchange(latency)
    for n in range(30):
        ex.send(buy(f"o{n}", price=90 + n % 5), n * 10)
    ex.poll(10**9)
    ex.on_trade(
        Trade(
            instrument=0,
            trade_id=1,
            price=89,
            size=1,
            aggressor=Side.SELL,
            exch_ts=10**9,
            recv_ts=0,
        )
    )
    fills = [r for r in ex.poll(10**10) if isinstance(r, Fill)]
    assert [f.client_order_id for f in fills] == [
        f"o{n}" for price in (94, 93, 92, 91, 90) for n in range(30) if 90 + n % 5 == price
    ]


def test_next_due_names_the_next_arrival_or_visible_report():
    """The scheduler hook gives the next command arrival, then the next report time, then None."""
    ex = exchange()
    assert ex.next_due_ns() is None
    ex.send(buy("a", price=90), 0)
    assert ex.next_due_ns() == 100
    ex.advance(100)
    assert ex.next_due_ns() == 150
    ex.poll(150)
    assert ex.next_due_ns() is None
    assert (ex.pending_commands, ex.pending_reports) == (0, 0)


def test_cancel_all_reaches_every_core():
    """Cancel-all with instrument -1 cancels open orders on every instrument."""
    ex = exchange()
    ex.send(buy("a", price=90), 0)
    ex.send(buy("b", price=90, instrument=1), 0)
    ex.send(CancelAll(reason="kill switch"), 0)
    reports = updates(ex.poll(1_000))
    cancels = [(r.instrument, r.client_order_id) for r in reports if r.kind is K.CANCELED]
    assert cancels == [(0, "a"), (1, "b")]


def test_cancel_all_for_one_instrument_leaves_the_others_working():
    """Cancel-all naming an instrument cancels only that core's orders; an unknown one, none."""
    ex = exchange()
    ex.send(buy("a", price=90), 0)
    ex.send(buy("b", price=90, instrument=1), 0)
    ex.send(CancelAll(instrument=1, reason="one market"), 0)
    ex.send(CancelAll(instrument=9, reason="no such market"), 0)
    reports = updates(ex.poll(1_000))
    cancels = [(r.instrument, r.client_order_id) for r in reports if r.kind is K.CANCELED]
    assert cancels == [(1, "b")]
    assert [v.client_order_id for v in ex.cores[0].open_orders()] == ["a"]


def test_a_command_for_an_instrument_without_a_core_is_rejected_after_the_round_trip():
    """An order for an unknown instrument comes back REJECTED, naming the instrument."""
    ex = exchange()
    ex.send(buy("a", instrument=9), 0)
    ex.send(CancelOrder(client_order_id="a", instrument=9), 0)
    reports = updates(ex.poll(150))
    assert [r.kind for r in reports] == [K.REJECTED, K.CANCEL_REJECTED]
    assert "Unknown instrument 9" in reports[0].reason


def test_late_events_are_applied_at_the_exchange_clock():
    """An event older than the exchange clock is counted and stamped with the clock's time."""
    ex = exchange()
    ex.send(buy("a", price=100), 0)
    ex.advance(100)
    ex.on_trade(
        Trade(
            instrument=0, trade_id=1, price=99, size=1, aggressor=Side.SELL, exch_ts=50, recv_ts=0
        )
    )
    fill = next(r for r in ex.poll(1_000) if isinstance(r, Fill))
    assert (fill.exch_ts, ex.late_events) == (100, 1)


def test_feed_arrival_adds_the_feed_latency():
    """Market data stamped at exchange time t reaches us at t + feed latency."""
    assert exchange().feed_arrival_ns(1_000) == 1_030


def test_a_core_under_the_wrong_id_is_refused():
    """Filing a core under another instrument's id is a setup error."""
    with pytest.raises(ExchangeSetupError, match="filed under instrument 1"):
        SimulatedExchange({1: MatchingCore(BTC)})


def test_same_seed_gives_the_same_reports():
    """Two runs with the same inputs and latency seed produce identical report streams."""

    def run() -> list[Report]:
        ex = exchange(SampledLatency.lognormal(500, 500, 500, sigma=1.0, seed=9))
        for n in range(10):
            ex.send(buy(f"o{n}", size=2, price=100 + n % 2), n * 300)
            ex.on_delta(level(n * 300 + 150, price=101, size=n + 1))
        return ex.poll(10**9)

    assert run() == run()
