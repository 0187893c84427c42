"""The gateway's working-order table: one order per client id through acks, fills and replaces."""

from __future__ import annotations

from engine.core.commands import ReplaceOrder, SubmitOrder
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.venues.base import VenueOrder
from engine.venues.binance.replace import ReplaceOutcome
from engine.venues.binance.working import WorkingOrders

K = OrderUpdateKind
ORDER = SubmitOrder(
    client_order_id="d-1", instrument=0, side=Side.BUY, size_lots=500, price_ticks=1000
)
REPLACE = ReplaceOrder(client_order_id="d-1", instrument=0, price_ticks=990, size_lots=600)


def update(
    kind: OrderUpdateKind,
    venue_id: str,
    size: int = 500,
    filled: int = 0,
    price: int = 1000,
    cid: str = "d-1",
) -> OrderUpdate:
    """One update about d-1."""
    return OrderUpdate(
        venue="binance",
        instrument=0,
        client_order_id=cid,
        kind=kind,
        venue_order_id=venue_id,
        price_ticks=price,
        size_lots=size,
        filled_lots=filled,
    )


def fill(trade: str, size: int, venue_id: str = "1") -> Fill:
    """One fill of d-1."""
    return Fill(
        venue="binance",
        instrument=0,
        client_order_id="d-1",
        venue_order_id=venue_id,
        trade_id=trade,
        side=Side.BUY,
        price=1000,
        size=size,
        fee=0,
    )


def placed() -> WorkingOrders:
    """A table with d-1 acked as venue order 1."""
    table = WorkingOrders()
    table.add(ORDER)
    table.on_events([update(K.ACCEPTED, "1")], stream=False)
    return table


def test_acks_and_fills_pass_through_and_duplicates_count_once():
    """Every report is passed on; a fill seen twice counts its lots once."""
    table = placed()
    out = table.on_events([fill("BTCUSDT:7:B", 100), fill("BTCUSDT:7:B", 100)], stream=True)
    assert len(out) == 2
    working = table.get("d-1")
    assert working is not None
    assert (working.venue_order_id, working.filled) == ("1", 100)


def test_a_filled_order_is_done():
    """Once every lot filled the order is finished."""
    table = placed()
    table.on_events([fill("a", 200), fill("b", 300)], stream=False)
    assert table.get("d-1").done  # type: ignore[union-attr]


def test_the_rest_answer_to_a_replace_is_replaced_and_its_cancel_half_held_back():
    """REST first: REPLACED; the stream's late cancel half is held back, its NEW a duplicate."""
    table = placed()
    working = table.get("d-1")
    assert working is not None
    table.begin_replace(working, REPLACE)
    outcome = ReplaceOutcome(
        events=[update(K.REPLACED, "2", size=600, price=990)],
        canceled_order_id="1",
        new_order_id="2",
    )
    assert [u.kind for u in table.end_replace(working, outcome)] == [K.REPLACED]  # type: ignore[union-attr]
    late = table.on_events(
        [update(K.CANCELED, "1"), update(K.ACCEPTED, "2", size=600, price=990)], stream=True
    )
    assert [(u.kind, u.venue_order_id) for u in late] == [(K.ACCEPTED, "2")]  # type: ignore[union-attr]


def test_the_streams_new_before_the_rest_answer_is_the_replace():
    """Stream first: its NEW of the new venue order is REPLACED, the REST answer a duplicate ack."""
    table = placed()
    working = table.get("d-1")
    assert working is not None
    table.on_events([fill("a", 100)], stream=True)
    table.begin_replace(working, REPLACE)
    early = table.on_events(
        [update(K.CANCELED, "1", filled=100), update(K.ACCEPTED, "2", size=500, price=990)],
        stream=True,
    )
    assert [(u.kind, u.size_lots, u.filled_lots) for u in early] == [(K.REPLACED, 600, 100)]  # type: ignore[union-attr]
    outcome = ReplaceOutcome(
        events=[update(K.REPLACED, "2", size=600, filled=100, price=990)],
        canceled_order_id="1",
        new_order_id="2",
        filled_before=100,
    )
    assert [u.kind for u in table.end_replace(working, outcome)] == [K.ACCEPTED]  # type: ignore[union-attr]


def test_the_streams_late_new_of_an_order_replaced_again_is_dropped():
    """Two replaces answered over REST before the stream's NEW of the first replacement."""
    table = placed()
    working = table.get("d-1")
    assert working is not None
    for old, new in (("1", "2"), ("2", "3")):
        table.begin_replace(working, REPLACE)
        outcome = ReplaceOutcome(
            events=[update(K.REPLACED, new, size=600, price=990)],
            canceled_order_id=old,
            new_order_id=new,
        )
        assert [u.kind for u in table.end_replace(working, outcome)] == [K.REPLACED]  # type: ignore[union-attr]
    late = table.on_events(
        [update(K.ACCEPTED, "2", size=600, price=990), update(K.ACCEPTED, "3", size=600)],
        stream=True,
    )
    assert [(u.kind, u.venue_order_id) for u in late] == [(K.ACCEPTED, "3")]  # type: ignore[union-attr]
    assert working.venue_order_id == "3"


def test_stream_reports_of_a_replacement_count_the_lots_filled_before():
    """The replacement's own fill counts are lifted by what its predecessors filled."""
    table = placed()
    working = table.get("d-1")
    assert working is not None
    table.begin_replace(working, REPLACE)
    table.end_replace(
        working,
        ReplaceOutcome(
            events=[update(K.REPLACED, "2", size=600, filled=100, price=990)],
            canceled_order_id="1",
            new_order_id="2",
            filled_before=100,
        ),
    )
    (canceled,) = table.on_events([update(K.CANCELED, "2", size=500, filled=50)], stream=True)
    assert (canceled.size_lots, canceled.filled_lots) == (600, 150)  # type: ignore[union-attr]


def test_a_held_cancel_is_passed_on_when_the_replace_fails():
    """If the replace is refused, a CANCELED the stream sent meanwhile was real: passed on."""
    table = placed()
    working = table.get("d-1")
    assert working is not None
    table.begin_replace(working, REPLACE)
    assert table.on_events([update(K.CANCELED, "1")], stream=True) == []
    rejected = update(K.REPLACE_REJECTED, "", size=600, price=990)
    out = table.end_replace(working, ReplaceOutcome(events=[rejected]))
    assert [u.kind for u in out] == [K.REPLACE_REJECTED, K.CANCELED]  # type: ignore[union-attr]


def test_an_abandoned_replace_releases_what_the_stream_said():
    """A replace with no usable answer passes on the held cancel."""
    table = placed()
    working = table.get("d-1")
    assert working is not None
    table.begin_replace(working, REPLACE)
    table.on_events([update(K.CANCELED, "1")], stream=True)
    assert [u.kind for u in table.abandon_replace(working)] == [K.CANCELED]  # type: ignore[union-attr]
    assert working.done


def test_reports_for_orders_never_seen_pass_through():
    """Reports about unknown client ids are passed on unchanged: the OMS decides."""
    table = WorkingOrders()
    foreign = update(K.CANCELED, "9", cid="other")
    assert table.on_events([foreign], stream=True) == [foreign]


def test_open_orders_from_the_venue_are_adopted_for_later_replaces():
    """An open order the table did not know is tracked with its side and fills."""
    table = WorkingOrders()
    order = VenueOrder(
        instrument=0,
        client_order_id="x-1",
        venue_order_id="5",
        side=Side.SELL,
        price_ticks=10,
        size_lots=8,
        filled_lots=3,
    )
    assert table.adopt(order) == order
    working = table.get("x-1")
    assert working is not None
    assert (working.side, working.filled, working.venue_order_id) == (Side.SELL, 3, "5")


def test_finished_orders_are_forgotten_after_enough_others_finish():
    """The table keeps only the last ``keep_done`` finished orders."""
    table = WorkingOrders(keep_done=2)
    for n in range(4):
        working = table.add(
            SubmitOrder(
                client_order_id=f"o{n}", instrument=0, side=Side.BUY, size_lots=1, price_ticks=1
            )
        )
        table.finish(working)
    assert len(table) == 2
    assert table.get("o0") is None
    assert table.get("o3") is not None
