"""DeskTracker: pages, FILL and ALERT events and book grids into one Desk per frame."""

from __future__ import annotations

import msgspec

from engine.ipc.protocol import AlertRow, EventKind, Flag, PositionRow, pack, unpack
from hft_tui.desk import ALERTS_KEPT, FILLS_KEPT, DeskTracker, order_counter
from tests.hft_tui.conftest import book_view, order_row, trading_view


def _alert(n: int) -> AlertRow:
    return AlertRow(ts_ns=n, level="warning", source="risk", message=f"alert {n}")


def test_working_orders_positions_and_the_latest_order():
    """Open states count as working; the latest order is the one that changed last."""
    tracker = DeskTracker(["BTCUSDT"])
    orders = [
        order_row(1, instance="e", status="accepted", ts_ns=10),
        order_row(2, instance="e", status="rejected", ts_ns=30),
        order_row(3, instance="e", status="pending_cancel", ts_ns=20),
        order_row(4, instance="e", status="filled", ts_ns=5, instrument=1),
    ]
    position = PositionRow(instrument=0, net_lots=5, avg_entry="1", realised="0",
                           unrealised="0", fees="0")  # fmt: skip
    tracker.on_page(trading_view(orders=orders, positions=[position]))
    desk = tracker.desk()
    assert [o.client_order_id for o in desk.working(0)] == ["e-1", "e-3"]
    assert [o.client_order_id for o in desk.orders(1)] == ["e-4"]
    latest = desk.latest(0)
    assert latest is not None
    assert latest.client_order_id == "e-2"
    assert desk.position(0) == position
    assert desk.position(1) is None


def test_the_latest_order_is_the_one_our_latest_request_placed():
    """An order tagged with a higher UI request number wins over one that changed later."""
    tracker = DeskTracker(["BTCUSDT"])
    asked = msgspec.structs.replace(order_row(1, instance="e", ts_ns=10), request=7)
    later = order_row(2, instance="e", ts_ns=99)
    tracker.on_page(trading_view(orders=[asked, later]))
    latest = tracker.desk().latest(0)
    assert latest is not None
    assert latest.client_order_id == "e-1"


def test_alerts_merge_into_a_history_newest_first_without_repeats():
    """Each page's alerts join the history once; the history outlives the page's 20."""
    tracker = DeskTracker(["BTCUSDT"])
    tracker.on_page(trading_view(alerts=[_alert(1), _alert(2)]))
    tracker.on_page(trading_view(alerts=[_alert(2), _alert(3)]))
    assert [a.ts_ns for a in tracker.desk().alerts] == [3, 2, 1]
    for start in range(0, ALERTS_KEPT + 40, 20):
        tracker.on_page(trading_view(alerts=[_alert(10 + n) for n in range(start, start + 20)]))
    alerts = tracker.desk().alerts
    assert len(alerts) == ALERTS_KEPT
    assert alerts[0].ts_ns == 10 + ALERTS_KEPT + 40 - 1


def test_fill_and_alert_events_are_taken_others_are_not():
    """FILL events become fills (newest first, bounded); ALERT events count by level."""
    tracker = DeskTracker(["BTCUSDT"])
    for n in range(FILLS_KEPT + 3):
        fill = pack(EventKind.FILL, Flag.BUY, 0, engine_ts=n, price=100, size=n + 1, seq=n, aux=1)
        assert tracker.on_event(unpack(fill))
    assert tracker.on_event(unpack(pack(EventKind.ALERT, aux=3)))
    assert tracker.on_event(unpack(pack(EventKind.ALERT, aux=9)))  # an unknown level is not counted
    assert not tracker.on_event(unpack(pack(EventKind.TRADE)))
    desk = tracker.desk()
    assert len(desk.fills) == FILLS_KEPT
    newest = desk.fills[0]
    assert (newest.counter, newest.buy, newest.maker) == (FILLS_KEPT + 2, True, True)
    assert desk.alerts_raised == (0, 0, 1)


def test_grids_are_learned_from_book_pages():
    """An instrument's tick and lot size are known once its book page was seen."""
    tracker = DeskTracker(["ETHUSDT", "BTCUSDT"])
    assert tracker.unknown_grids() == [0, 1]
    tracker.on_book(book_view())
    assert tracker.unknown_grids() == [1]
    desk = tracker.desk()
    text = desk.market(0).text
    assert text is not None
    assert text.price(6_500_001) == "65000.01"
    assert desk.market(1).text is None
    assert desk.market(7).symbol == "#7"


def test_the_desk_is_the_same_object_until_something_changes():
    """Nothing new: the same Desk; a new page: a new one."""
    tracker = DeskTracker(["BTCUSDT"])
    first = tracker.desk()
    assert tracker.desk() is first
    tracker.on_page(trading_view())
    assert tracker.desk() is not first


def test_order_counters_are_read_from_client_ids():
    """The counter is the digits after the last dash; anything else has none."""
    assert order_counter("default-1234") == 1234
    assert order_counter("my-engine-7") == 7
    assert order_counter("default-") is None
    assert order_counter("default-12a") is None
    assert order_counter("nodash") is None
