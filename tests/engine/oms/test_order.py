import logging
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.events import Fill, Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.oms.order import (
    FILLED_AFTER_END,
    TERMINAL,
    TRANSITIONS,
    Anomaly,
    DuplicateFill,
    InvalidTransition,
    LateFill,
    LateReport,
    Order,
    OrderEventKind,
    OrderStatus,
    Resume,
    Transition,
    validate_order,
)

S, E = OrderStatus, OrderEventKind
SIZE = 10

EXPECTED: dict[tuple[OrderStatus, OrderEventKind], OrderStatus | Resume] = {
    (S.NEW, E.SUBMIT): S.SUBMITTED,
    (S.NEW, E.REJECTED): S.REJECTED,
    (S.SUBMITTED, E.ACCEPTED): S.ACCEPTED,
    (S.SUBMITTED, E.REJECTED): S.REJECTED,
    (S.ACCEPTED, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.ACCEPTED, E.FILL): S.FILLED,
    (S.ACCEPTED, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.ACCEPTED, E.REPLACE_REQUEST): S.PENDING_REPLACE,
    (S.ACCEPTED, E.CANCELED): S.CANCELED,
    (S.ACCEPTED, E.EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, E.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, E.FILL): S.FILLED,
    (S.PARTIALLY_FILLED, E.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, E.REPLACE_REQUEST): S.PENDING_REPLACE,
    (S.PARTIALLY_FILLED, E.CANCELED): S.CANCELED,
    (S.PARTIALLY_FILLED, E.EXPIRED): S.EXPIRED,
    (S.PENDING_CANCEL, E.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, E.FILL): S.FILLED,
    (S.PENDING_CANCEL, E.CANCELED): S.CANCELED,
    (S.PENDING_CANCEL, E.EXPIRED): S.EXPIRED,
    (S.PENDING_CANCEL, E.CANCEL_REJECTED): Resume.LIVE,
    (S.PENDING_REPLACE, E.PARTIAL_FILL): S.PENDING_REPLACE,
    (S.PENDING_REPLACE, E.FILL): S.FILLED,
    (S.PENDING_REPLACE, E.CANCELED): S.CANCELED,
    (S.PENDING_REPLACE, E.EXPIRED): S.EXPIRED,
    (S.PENDING_REPLACE, E.REPLACED): Resume.LIVE,
    (S.PENDING_REPLACE, E.REPLACE_REJECTED): Resume.LIVE,
}

# How to reach each state from New; "fill" steps carry the lots filled.
PATHS: dict[OrderStatus, list[OrderEventKind | int]] = {
    S.NEW: [],
    S.SUBMITTED: [E.SUBMIT],
    S.ACCEPTED: [E.SUBMIT, E.ACCEPTED],
    S.PARTIALLY_FILLED: [E.SUBMIT, E.ACCEPTED, 1],
    S.FILLED: [E.SUBMIT, E.ACCEPTED, SIZE],
    S.PENDING_CANCEL: [E.SUBMIT, E.ACCEPTED, E.CANCEL_REQUEST],
    S.CANCELED: [E.SUBMIT, E.ACCEPTED, E.CANCEL_REQUEST, E.CANCELED],
    S.PENDING_REPLACE: [E.SUBMIT, E.ACCEPTED, E.REPLACE_REQUEST],
    S.REJECTED: [E.SUBMIT, E.REJECTED],
    S.EXPIRED: [E.SUBMIT, E.ACCEPTED, E.EXPIRED],
}


def make_order(*, strict: bool = False) -> Order:
    """A fresh 10-lot limit buy."""
    return Order("eng-7", "sim", 0, Side.BUY, SIZE, price_ticks=100, strict=strict)


def make_fill(size: int, price: int = 100, trade_id: str = "t1", order_id: str = "eng-7") -> Fill:
    """One execution of the test order."""
    return Fill(
        venue="sim",
        instrument=0,
        client_order_id=order_id,
        venue_order_id="v1",
        trade_id=trade_id,
        side=Side.BUY,
        price=price,
        size=size,
        fee=0,
        exch_ts=5,
    )


def order_in(status: OrderStatus, *, strict: bool = False) -> Order:
    """An order driven to ``status`` through valid events."""
    order = make_order(strict=strict)
    for n, step in enumerate(PATHS[status]):
        if isinstance(step, int):
            result = order.apply_fill(make_fill(step, trade_id=f"path-{n}"))
        else:
            result = order.apply(step, n)
        assert isinstance(result, Transition)
    assert order.status is status
    return order


def apply_kind(
    order: Order, kind: OrderEventKind
) -> Transition | Anomaly | LateReport | DuplicateFill | LateFill:
    """Apply one event of ``kind``, making up a fill when it is a fill kind."""
    if kind is E.PARTIAL_FILL:
        return order.apply_fill(make_fill(1, trade_id="probe"))
    if kind is E.FILL:
        leaves = order.size_lots - order.filled_lots
        return order.apply_fill(make_fill(max(leaves, 1), trade_id="probe"))
    return order.apply(kind, 99)


def result_lots(kind: OrderEventKind, filled: int) -> int:
    """The lots :func:`apply_kind` fills for ``kind`` on an order with ``filled`` lots done."""
    return 1 if kind is E.PARTIAL_FILL else max(SIZE - filled, 1)


def test_table_is_exactly_the_lifecycle():
    """The transition table holds exactly the documented transitions."""
    assert TRANSITIONS == EXPECTED


def test_every_path_reaches_its_state():
    """Each state used below is reachable from New through valid events."""
    assert set(PATHS) == set(OrderStatus)


@pytest.mark.parametrize(("status", "kind"), [(s, e) for s in S for e in E])
def test_every_state_and_event(status, kind, caplog):
    """Each (state, event) pair moves as the table says, or is an anomaly that changes nothing."""
    order = order_in(status)
    before = (order.status, order.filled_lots, len(order.history))
    result = apply_kind(order, kind)
    target = EXPECTED.get((status, kind))
    if status in TERMINAL and kind in (E.CANCEL_REJECTED, E.REPLACE_REJECTED):
        assert result == LateReport("eng-7", kind, status, 99, "")
        assert (order.status, order.filled_lots, len(order.history)) == before
        assert not order.needs_reconcile
        assert not order.anomalies
        assert not [r for r in caplog.records if r.name == "engine.oms"]
    elif status in FILLED_AFTER_END and kind in (E.PARTIAL_FILL, E.FILL):
        # matched before the cancel or expiry took effect: counted, the state stays
        assert result == LateFill("eng-7", "probe", status, 5)
        assert order.status is status
        assert order.filled_lots == before[1] + result_lots(kind, before[1])
        assert len(order.history) == before[2]
        assert not order.needs_reconcile
        assert not order.anomalies
    elif target is None:
        assert isinstance(result, Anomaly)
        # on a filled order any fill completes (over) the size, so it is reported as a FILL
        seen_kind = E.FILL if status is S.FILLED and kind is E.PARTIAL_FILL else kind
        assert (result.client_order_id, result.from_status, result.kind) == (
            "eng-7",
            status,
            seen_kind,
        )
        assert (order.status, order.filled_lots, len(order.history)) == before
        assert order.needs_reconcile
        assert order.anomalies == [result]
        [record] = [r for r in caplog.records if r.name == "engine.oms"]
        assert record.levelno == logging.WARNING
        assert (record.client_order_id, record.from_status, record.order_event) == (
            "eng-7",
            str(status),
            str(seen_kind),
        )
    else:
        expected = target if isinstance(target, OrderStatus) else S.ACCEPTED
        assert isinstance(result, Transition)
        assert result == Transition(kind, status, expected, result.ts_ns)
        assert order.status is expected
        assert not order.needs_reconcile


@pytest.mark.parametrize(
    ("status", "kind"), [(S.REJECTED, E.PARTIAL_FILL), (S.ACCEPTED, E.ACCEPTED)]
)
def test_strict_order_raises_invalid_transition(status, kind):
    """A strict order raises InvalidTransition naming the order, state and event."""
    order = order_in(status, strict=True)
    with pytest.raises(InvalidTransition, match=f"eng-7: {kind} in state {status}"):
        apply_kind(order, kind)
    assert order.status is status


def test_three_partial_fills_then_filled_with_exact_average_price():
    """Three partial fills then the last one fill the order at the exact volume-weighted price."""
    order = order_in(S.ACCEPTED)
    sizes_prices = [(3, 100), (2, 101), (1, 103), (4, 104)]
    statuses = []
    for n, (size, price) in enumerate(sizes_prices):
        order.apply_fill(make_fill(size, price, trade_id=f"t{n}"))
        statuses.append(order.status)
    assert statuses == [S.PARTIALLY_FILLED] * 3 + [S.FILLED]
    assert [t.kind for t in order.history[-4:]] == [E.PARTIAL_FILL] * 3 + [E.FILL]
    assert order.filled_lots == SIZE
    assert order.fill_notional == 300 + 202 + 103 + 416
    assert order.avg_price == Fraction(1021, 10)
    assert order.leaves_lots == 0
    assert not order.is_open


def test_duplicate_fill_changes_nothing():
    """The same (venue, trade id) applied twice fills once and reports the second as duplicate."""
    order = order_in(S.ACCEPTED)
    assert isinstance(order.apply_fill(make_fill(4, trade_id="x")), Transition)
    snapshot = (order.status, order.filled_lots, order.fill_notional, list(order.history))
    assert order.apply_fill(make_fill(4, trade_id="x")) == DuplicateFill("sim", "x")
    assert (order.status, order.filled_lots, order.fill_notional, order.history) == snapshot
    assert not order.needs_reconcile
    assert isinstance(order.apply_fill(make_fill(4, trade_id="y")), Transition)
    assert order.filled_lots == 8


def test_partial_fill_while_pending_cancel_then_cancel_rejected():
    """A fill keeps a pending cancel pending; a cancel-reject then gives PartiallyFilled."""
    order = order_in(S.PENDING_CANCEL)
    order.apply_fill(make_fill(3))
    assert (order.status, order.filled_lots) == (S.PENDING_CANCEL, 3)
    result = order.apply(E.CANCEL_REJECTED, 7, reason="too late")
    assert result == Transition(E.CANCEL_REJECTED, S.PENDING_CANCEL, S.PARTIALLY_FILLED, 7)
    assert order.reason == "too late"


def test_full_fill_while_pending_cancel_then_late_cancel_is_an_anomaly():
    """A fill completing a pending-cancel order ends Filled; a later cancel confirm is flagged."""
    order = order_in(S.PENDING_CANCEL)
    order.apply_fill(make_fill(SIZE))
    assert order.status is S.FILLED
    assert isinstance(order.apply(E.CANCELED, 9), Anomaly)
    assert order.status is S.FILLED
    assert order.needs_reconcile


@pytest.mark.parametrize("kind", [E.CANCEL_REJECTED, E.REPLACE_REJECTED])
def test_a_refusal_racing_a_fill_is_a_late_report_not_an_anomaly(kind):
    """Request sent, the order fills, the venue refuses the request: benign, even when strict."""
    order = order_in(S.ACCEPTED, strict=True)
    order.apply(E.CANCEL_REQUEST if kind is E.CANCEL_REJECTED else E.REPLACE_REQUEST, 1)
    order.apply_fill(make_fill(SIZE))
    assert order.status is S.FILLED
    history = list(order.history)
    result = order.apply(kind, 9, reason="Unknown order sent.")
    assert result == LateReport("eng-7", kind, S.FILLED, 9, "Unknown order sent.")
    assert (order.status, order.history, order.anomalies) == (S.FILLED, history, [])
    assert not order.needs_reconcile
    assert order.reason == ""


def test_cancel_rejected_returns_to_accepted():
    """A cancel-reject with no fills returns the order to Accepted."""
    order = order_in(S.PENDING_CANCEL)
    order.apply(E.CANCEL_REJECTED, 8)
    assert order.status is S.ACCEPTED


def test_replaced_updates_price_and_size():
    """A confirmed replace takes the new price and size and returns to the live state."""
    order = order_in(S.PARTIALLY_FILLED)
    order.apply(E.REPLACE_REQUEST, 1)
    result = order.apply(E.REPLACED, 2, price_ticks=105, size_lots=20, venue_order_id="v2")
    assert result == Transition(E.REPLACED, S.PENDING_REPLACE, S.PARTIALLY_FILLED, 2)
    assert (order.price_ticks, order.size_lots, order.venue_order_id) == (105, 20, "v2")
    assert order.leaves_lots == 19


def test_replaced_below_filled_size_is_an_anomaly():
    """A replace that shrinks the order to its filled lots or less is flagged, not applied."""
    order = order_in(S.PARTIALLY_FILLED)
    order.apply(E.REPLACE_REQUEST, 1)
    assert isinstance(order.apply(E.REPLACED, 2, size_lots=1), Anomaly)
    assert (order.status, order.size_lots) == (S.PENDING_REPLACE, SIZE)


def test_overfill_is_an_anomaly():
    """A fill beyond the order's size changes no quantity and marks the order for reconciliation."""
    order = order_in(S.PARTIALLY_FILLED)
    result = order.apply_fill(make_fill(SIZE, trade_id="big"))
    assert isinstance(result, Anomaly)
    assert "overfill" in result.reason
    assert (order.status, order.filled_lots) == (S.PARTIALLY_FILLED, 1)
    assert order.needs_reconcile


def test_fill_for_another_order_is_an_anomaly():
    """A fill carrying another client order id is flagged and not applied."""
    order = order_in(S.ACCEPTED)
    assert isinstance(order.apply_fill(make_fill(1, order_id="eng-8")), Anomaly)
    assert order.filled_lots == 0


def test_accepted_records_venue_order_id():
    """The ack records the venue's order id."""
    order = order_in(S.SUBMITTED)
    order.apply(E.ACCEPTED, 3, venue_order_id="123")
    assert order.venue_order_id == "123"


def test_apply_refuses_fill_kinds():
    """Fills go through apply_fill, which needs the execution itself."""
    with pytest.raises(ValueError, match="apply_fill"):
        make_order().apply(E.FILL, 1)


def test_size_must_be_positive():
    """An order of zero lots cannot be created."""
    with pytest.raises(InstrumentError, match="must be > 0"):
        Order("eng-1", "sim", 0, Side.SELL, 0)


EVENTS = st.one_of(
    st.sampled_from([k for k in E if k not in (E.FILL, E.PARTIAL_FILL)]),
    st.tuples(st.integers(1, 6), st.integers(90, 110), st.sampled_from("abcdefgh")),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(EVENTS, max_size=25))
def test_random_event_sequences_never_break_the_order(events):
    """Any event sequence is absorbed: no exception, filled <= size, terminal states stay put."""
    order = make_order()
    terminal_at: OrderStatus | None = None
    for ts, event in enumerate(events):
        if isinstance(event, tuple):
            size, price, trade_id = event
            order.apply_fill(make_fill(size, price, trade_id=trade_id))
        else:
            order.apply(event, ts)
        assert 0 <= order.filled_lots <= order.size_lots
        if terminal_at is not None:
            assert order.status is terminal_at
        elif order.status in TERMINAL:
            terminal_at = order.status
    assert (order.status is S.FILLED) == (order.filled_lots == order.size_lots)
    for before, after in zip(order.history, order.history[1:], strict=False):
        assert after.from_status is before.to_status
    avg = order.avg_price
    assert (avg is None) == (order.filled_lots == 0)
    assert avg is None or 90 <= avg <= 110


BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.001", min_notional="5"
)


def test_validate_order_converts_on_grid_text():
    """A price and size on the grids become exact ticks and lots."""
    assert validate_order(BTC, "0.010", "65000.01") == (10, 6500001)


def test_validate_market_order_has_no_price():
    """A market order is checked for its size only."""
    assert validate_order(BTC, "0.001") == (1, 0)


@pytest.mark.parametrize(
    ("size", "price", "message"),
    [
        ("0.001", "65000.015", "price '65000.015' is not a multiple of 0.01"),
        ("0.0015", "65000", "size '0.0015' is not a multiple of 0.001"),
        ("0.001", "4000", "notional 4.000 is below the minimum 5"),
        ("0", "65000", "size 0 must be positive"),
        ("0.001", "0", "price 0 must be positive"),
        ("abc", "1", "not a decimal number"),
    ],
)
def test_validate_order_rejects_with_a_reason(size, price, message):
    """Off-grid prices and sizes and orders below min notional are rejected with the reason."""
    with pytest.raises(InstrumentError, match="sim:BTCUSDT: order rejected") as info:
        validate_order(BTC, size, price)
    assert message in str(info.value)
