"""From matching-core reports to the Bybit linear desk's records, money and pushes.

Each report a core returns (ACCEPTED, REPLACED, CANCELED, EXPIRED, a fill) changes one
:class:`~engine.sim.bybit_ledger.LinearOrder` and is told to the :class:`LinearListener` in the
core's order: an ``order`` push per change, and per fill an ``execution`` push then the order's.
A fill also moves the account's :class:`~engine.sim.bybit_ledger.LinearPosition` and pays its
realised PnL less the fee into the settle coin's balance; after a batch with fills the position
and the wallet are pushed once. A taker fill takes its lots out of the market model's book (the
public trade prints), handed to ``taken`` once the batch is applied.

How the venue words an order the core ended (``orderStatus`` ``Cancelled`` in each case):

=========================  ===================================================
core report                ``cancelType`` / ``rejectReason``
=========================  ===================================================
CANCELED                   ``CancelByUser``
EXPIRED, self-trade        ``CancelBySmp`` / ``EC_BySelfMatch``
EXPIRED, reduce-only       ``CancelByReduceOnly``
EXPIRED, FOK               ``EC_CancelForNoFullFill``
EXPIRED, IOC or market     ``EC_NoImmediateQtyToFill``
=========================  ===================================================
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Protocol

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.sim.accounts import Account
from engine.sim.bybit_ledger import (
    CANCELLED,
    FILLED,
    NEW,
    PARTIALLY_FILLED,
    LinearExecution,
    LinearOrder,
    LinearPosition,
)
from engine.sim.bybit_params import OrderRef
from engine.sim.bybit_wire import LinearText
from engine.sim.market import MarketActivity, MarketModel
from engine.sim.matching import REDUCE_ONLY_EXPIRED, SELF_TRADE, MatchingCore
from engine.venues.bybit.orders import settle_coin_of

log = logging.getLogger("engine.sim")

KEEP_ORDERS = 10_000
"""Finished orders kept per account and symbol for queries and ``orderLinkId`` uniqueness."""
KEEP_EXECUTIONS = 50_000
"""Executions kept per account and symbol for ``/v5/execution/list``."""
_K = OrderUpdateKind


class LinearListener(Protocol):
    """What the venue hears from the desk, synchronously, as it happens."""

    def on_order(self, text: LinearText, order: LinearOrder) -> None:
        """An order changed (read it now: it changes later)."""
        ...

    def on_execution(self, text: LinearText, order: LinearOrder, fill: LinearExecution) -> None:
        """An order filled."""
        ...

    def on_position(self, text: LinearText, position: LinearPosition) -> None:
        """A position changed after fills."""
        ...

    def on_wallet(self, account: Account) -> None:
        """An account's balance changed after fills."""
        ...


Taken = Callable[[str, MarketActivity, MatchingCore], None]
"""Publishes liquidity an order took and feeds it to every core (trades not to the taker's)."""


class LinearBook:
    """One account's orders, position and core on one symbol."""

    def __init__(self, account: Account, core: MatchingCore, position: LinearPosition) -> None:
        self.account = account
        self.core = core
        self.position = position
        self.orders: OrderedDict[str, LinearOrder] = OrderedDict()
        self.by_link: dict[str, LinearOrder] = {}
        self.executions: deque[tuple[LinearOrder, LinearExecution]] = deque(maxlen=KEEP_EXECUTIONS)
        """The account's fills on the symbol, oldest first, with the order each belongs to."""

    def add(self, order: LinearOrder) -> None:
        """Book an order, forgetting the oldest finished ones beyond :data:`KEEP_ORDERS`."""
        self.orders[order.order_id] = order
        if order.order_link_id:
            self.by_link[order.order_link_id] = order
        while len(self.orders) > KEEP_ORDERS:
            oldest = next(iter(self.orders.values()))
            if oldest.is_open:
                break
            del self.orders[oldest.order_id]
            if self.by_link.get(oldest.order_link_id) is oldest:
                del self.by_link[oldest.order_link_id]

    def find(self, ref: OrderRef) -> LinearOrder | None:
        """An order by ``orderId`` (checked against ``orderLinkId`` when both are given)."""
        if ref.order_id:
            order = self.orders.get(ref.order_id)
            if order is not None and ref.order_link_id and order.order_link_id != ref.order_link_id:
                return None
            return order
        return self.by_link.get(ref.order_link_id)


class LinearFills:
    """Applies core reports to the desk's records and tells the listener.

    Args:
        models: each symbol's market model (taker fills take from it).
        texts: each symbol's exact-text formatter.
        listener: hears every order change, fill, position and wallet change.
        taken: publishes what taker fills took.
        seed: seeds the order and execution ids.
    """

    def __init__(
        self,
        models: Mapping[str, MarketModel],
        texts: Mapping[str, LinearText],
        listener: LinearListener,
        taken: Taken,
        seed: int,
    ) -> None:
        self._models = models
        self._texts = texts
        self._listener = listener
        self._taken = taken
        self._ids = random.Random(f"{seed}:bybit-linear")
        self._seq = 0

    def new_id(self) -> str:
        """A fresh order or execution id: a UUID, as Bybit's linear ids are."""
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def apply(self, book: LinearBook, reports: list[OrderUpdate | Fill], now: int) -> None:
        """One entry point's reports, in order; then the position, wallet and public takes."""
        symbol = book.position.symbol
        text = self._texts[symbol]
        now_ms = now // 1_000_000
        taken: list[MarketActivity] = []
        filled = False
        for report in reports:
            record = book.orders.get(report.client_order_id)
            if record is None:
                log.warning(
                    "report for an unknown linear order", extra={"id": report.client_order_id}
                )
                continue
            record.updated_ms = now_ms
            if isinstance(report, Fill):
                if report.liquidity == "taker":
                    other = Side.SELL if report.side is Side.BUY else Side.BUY
                    taken.append(self._models[symbol].take(other, report.price, report.size))
                self._fill(book, text, record, report, now_ms)
                filled = True
            else:
                _update(record, report)
                self._listener.on_order(text, record)
        if filled:
            self._listener.on_position(text, book.position)
            self._listener.on_wallet(book.account)
        for activity in taken:
            self._taken(symbol, activity, book.core)

    def _fill(
        self, book: LinearBook, text: LinearText, record: LinearOrder, fill: Fill, now_ms: int
    ) -> None:
        record.filled += fill.size
        record.cum_value += fill.price * fill.size
        record.cum_fee += fill.fee
        record.status = FILLED if record.filled >= record.qty else PARTIALLY_FILLED
        closed, pnl = book.position.fill(fill.side, fill.price, fill.size, now_ms)
        book.account.credit(settle_coin_of(record.symbol), pnl - fill.fee)
        maker = fill.liquidity == "maker"
        rates = book.account.rates
        self._seq += 1
        execution = LinearExecution(
            exec_id=self.new_id(),
            price=fill.price,
            qty=fill.size,
            fee=fill.fee,
            fee_rate=rates.maker_text if maker else rates.taker_text,
            maker=maker,
            time_ms=now_ms,
            closed_lots=closed,
            pnl=pnl,
            seq=self._seq,
            leaves=record.leaves,
        )
        book.executions.append((record, execution))
        self._listener.on_execution(text, record, execution)
        self._listener.on_order(text, record)


def _update(record: LinearOrder, update: OrderUpdate) -> None:
    kind = update.kind
    if kind is _K.ACCEPTED:
        record.status = NEW
    elif kind is _K.REPLACED:
        record.price, record.qty = update.price_ticks, update.size_lots
    elif kind is _K.CANCELED:
        record.status = CANCELLED
        record.cancel_type = "CancelByUser"
    elif kind is _K.EXPIRED:
        record.status = CANCELLED
        if update.reason == SELF_TRADE:
            record.cancel_type, record.reject_reason = "CancelBySmp", "EC_BySelfMatch"
        elif update.reason == REDUCE_ONLY_EXPIRED:
            record.cancel_type = "CancelByReduceOnly"
        elif record.time_in_force == "FOK":
            record.reject_reason = "EC_CancelForNoFullFill"
        else:
            record.reject_reason = "EC_NoImmediateQtyToFill"
