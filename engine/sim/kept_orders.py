"""The orders one account keeps on one symbol: by ``orderId``, by client id, and the open ones.

Shared by the spot and USD-M desks' books (:class:`~engine.sim.executions.AccountBook`,
:class:`~engine.sim.usdm_fills.FuturesBook`): the newest :data:`KEEP_ORDERS` orders stay
queryable, the oldest finished ones beyond that are forgotten.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, Protocol, TypeVar

KEEP_ORDERS = 10_000
"""Finished orders (and trades) kept per account and symbol for queries."""


class _Order(Protocol):
    @property
    def order_id(self) -> int: ...

    @property
    def client_order_id(self) -> str: ...

    @property
    def is_open(self) -> bool: ...


R = TypeVar("R", bound=_Order)


class KeptOrders(Generic[R]):
    """One account's orders on one symbol, oldest first."""

    def __init__(self) -> None:
        self.orders: OrderedDict[int, R] = OrderedDict()
        self.open_by_client: dict[str, R] = {}
        self.by_client: dict[str, R] = {}

    def add(self, record: R) -> None:
        """Book a new order, forgetting the oldest finished ones beyond :data:`KEEP_ORDERS`."""
        self.orders[record.order_id] = record
        self.open_by_client[record.client_order_id] = record
        self.by_client[record.client_order_id] = record
        while len(self.orders) > KEEP_ORDERS:
            oldest = next(iter(self.orders.values()))
            if oldest.is_open:
                break
            del self.orders[oldest.order_id]
            if self.by_client.get(oldest.client_order_id) is oldest:
                del self.by_client[oldest.client_order_id]

    def unlist(self, record: R) -> None:
        """An order ended: off the open list."""
        if self.open_by_client.get(record.client_order_id) is record:
            del self.open_by_client[record.client_order_id]

    def find(self, order_id: int | None, client_order_id: str | None) -> R | None:
        """An order by ``orderId`` (checked against ``client_order_id`` when both are given)."""
        if order_id is not None:
            record = self.orders.get(order_id)
            if record is not None and client_order_id and record.client_order_id != client_order_id:
                return None
            return record
        return self.by_client.get(client_order_id or "")
