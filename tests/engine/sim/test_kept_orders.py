"""Tests for engine.sim.kept_orders: one account's orders by id, by client id and open."""

from __future__ import annotations

from dataclasses import dataclass

from engine.sim.kept_orders import KEEP_ORDERS, KeptOrders


@dataclass
class _Order:
    order_id: int
    client_order_id: str
    is_open: bool = True


def test_find_by_id_checks_the_client_id_when_both_are_given() -> None:
    """An order is found by orderId, by client id, and not when the two disagree."""
    kept: KeptOrders[_Order] = KeptOrders()
    order = _Order(1, "a")
    kept.add(order)
    assert kept.find(1, None) is order
    assert kept.find(None, "a") is order
    assert kept.find(1, "a") is order
    assert kept.find(1, "b") is None
    assert kept.find(2, None) is None
    assert kept.find(None, None) is None


def test_unlist_takes_only_that_order_off_the_open_list() -> None:
    """Unlisting an order whose client id was reused leaves the newer open order listed."""
    kept: KeptOrders[_Order] = KeptOrders()
    old, new = _Order(1, "a"), _Order(2, "a")
    kept.add(old)
    kept.add(new)
    kept.unlist(old)
    assert kept.open_by_client == {"a": new}
    kept.unlist(new)
    assert kept.open_by_client == {}
    assert kept.find(None, "a") is new


def test_oldest_finished_orders_beyond_the_limit_are_forgotten() -> None:
    """Past KEEP_ORDERS the oldest finished order is dropped, but an open oldest one stays."""
    kept: KeptOrders[_Order] = KeptOrders()
    first = _Order(0, "c0")
    kept.add(first)
    for i in range(1, KEEP_ORDERS + 1):
        kept.add(_Order(i, f"c{i}", is_open=False))
    assert len(kept.orders) == KEEP_ORDERS + 1
    assert kept.find(0, None) is first
    first.is_open = False
    kept.add(_Order(KEEP_ORDERS + 1, "last", is_open=False))
    assert len(kept.orders) == KEEP_ORDERS
    assert kept.find(0, None) is None
    assert kept.find(None, "c0") is None
    assert kept.find(1, None) is None
    assert kept.find(2, None) is not None
