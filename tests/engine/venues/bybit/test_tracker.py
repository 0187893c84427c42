"""The Bybit gateway's order tracker: the ack goes first, everything else passes as it came."""

from __future__ import annotations

from engine.core.commands import SubmitOrder
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.venues.bybit.tracker import OrderTracker

K = OrderUpdateKind
ORDER = SubmitOrder(client_order_id="t-1", instrument=0, side=Side.BUY, size_lots=10, price_ticks=5)


def fill(trade_id: str, size: int) -> Fill:
    """A stream fill of t-1."""
    return Fill(
        venue="bybit",
        instrument=0,
        client_order_id="t-1",
        venue_order_id="v-1",
        trade_id=trade_id,
        side=Side.BUY,
        price=5,
        size=size,
        fee=1,
        recv_ts=7,
    )


def update(kind: OrderUpdateKind, client_order_id: str = "t-1") -> OrderUpdate:
    """A stream update."""
    return OrderUpdate(
        venue="bybit",
        instrument=0,
        client_order_id=client_order_id,
        kind=kind,
        venue_order_id="v-1",
        recv_ts=7,
    )


def test_a_fill_before_the_ack_gets_an_accepted_put_first():
    """A fill of an unacknowledged order is preceded by an ACCEPTED made from what was sent."""
    tracker = OrderTracker()
    tracker.add(ORDER)
    first = tracker.on_fill(fill("e-1", 4))
    assert [type(e).__name__ for e in first] == ["OrderUpdate", "Fill"]
    ack = first[0]
    assert isinstance(ack, OrderUpdate)
    assert (ack.kind, ack.venue_order_id, ack.price_ticks, ack.size_lots) == (
        K.ACCEPTED,
        "v-1",
        5,
        10,
    )
    assert tracker.on_fill(fill("e-2", 6)) == [fill("e-2", 6)]
    tracked = tracker.get("t-1")
    assert tracked is not None
    assert (tracked.filled, tracked.done) == (10, True)


def test_duplicate_fills_pass_but_count_once():
    """A fill id seen twice is passed on again (the OMS deduplicates) and counted once."""
    tracker = OrderTracker()
    tracked = tracker.add(ORDER)
    tracker.acked(tracked, "v-1", 1)
    tracker.on_fill(fill("e-1", 4))
    assert tracker.on_fill(fill("e-1", 4)) == [fill("e-1", 4)]
    assert tracked.filled == 4
    assert not tracked.done


def test_an_ending_before_the_ack_gets_an_accepted_first_but_a_reject_does_not():
    """A cancel or expiry of an unacknowledged order is preceded by ACCEPTED; a reject is not."""
    tracker = OrderTracker()
    tracker.add(ORDER)
    assert [u.kind for u in tracker.on_update(update(K.EXPIRED))] == [K.ACCEPTED, K.EXPIRED]
    tracker.add(ORDER)
    assert [u.kind for u in tracker.on_update(update(K.REJECTED))] == [K.REJECTED]


def test_the_rest_ack_and_the_stream_ack_both_pass():
    """An ACCEPTED from the stream and the REST ack both pass, with the same venue id."""
    tracker = OrderTracker()
    tracked = tracker.add(ORDER)
    assert tracker.on_update(update(K.ACCEPTED)) == [update(K.ACCEPTED)]
    again = tracker.acked(tracked, "v-other", 9)
    assert (again.kind, again.venue_order_id) == (K.ACCEPTED, "v-1")


def test_unknown_orders_pass_untouched_and_replaces_move_the_order():
    """Reports of untracked orders pass as they came; a replace updates price and size."""
    tracker = OrderTracker()
    assert tracker.on_update(update(K.CANCELED, "other")) == [update(K.CANCELED, "other")]
    tracked = tracker.add(ORDER)
    replaced = tracker.replaced(tracked, 6, 20, 3)
    assert (replaced.kind, replaced.price_ticks, replaced.size_lots) == (K.REPLACED, 6, 20)
    assert (tracked.price_ticks, tracked.size_lots) == (6, 20)


def test_finished_orders_are_forgotten_after_keep_done_more():
    """Only the last ``keep_done`` finished orders are remembered."""
    tracker = OrderTracker(keep_done=2)
    for n in range(4):
        tracker.finish(
            tracker.add(
                SubmitOrder(
                    client_order_id=f"f-{n}",
                    instrument=0,
                    side=Side.BUY,
                    size_lots=1,
                    price_ticks=1,
                )
            )
        )
    assert [tracker.get(f"f-{n}") is not None for n in range(4)] == [False, False, True, True]
