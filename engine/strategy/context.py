"""What a strategy sees and does: buffered orders through the OMS, read-only market and state.

:class:`StrategyContext` is handed to one strategy. ``submit``, ``cancel``, ``replace`` and
``cancel_all`` only record the action while a callback runs; the runner calls :meth:`flush` when
the callback returns, and every action then goes through the
:class:`~engine.oms.manager.OrderManager`, so each order passes the whole risk pipeline (a strategy
has no path around it). Refusals come back to the strategy as ``on_order`` REJECTED (or
REPLACE_REJECTED) updates carrying the check's reason.

Books, positions and open orders are read-only views: :class:`BookReader` exposes no way to change
a book, :class:`Holding` and :class:`OpenOrder` are frozen copies. Positions are the strategy's
own (only its fills), so each strategy has its own PnL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction

import msgspec

from engine.book.order_book import Level, OrderBook
from engine.core.clock import Clock
from engine.core.commands import OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.oms.manager import OrderManager
from engine.oms.order import TERMINAL, Order, OrderStatus
from engine.oms.positions import InvalidFill, Portfolio

MAX_ACTIONS = 256
"""Actions one callback may buffer; more is a runaway loop and stops the strategy."""


class StrategyStopped(EngineError, RuntimeError):
    """Raised when a stopped strategy tries to act, or a callback buffers too many actions."""


class BookReader:
    """A read-only view of one instrument's book.

    Args:
        book: the live book (never changed through this view).
    """

    __slots__ = ("_book",)

    def __init__(self, book: OrderBook) -> None:
        self._book = book

    def best_bid(self) -> Level | None:
        """Best bid (price ticks, size lots), or None."""
        return self._book.best_bid()

    def best_ask(self) -> Level | None:
        """Best ask (price ticks, size lots), or None."""
        return self._book.best_ask()

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side, best first."""
        return self._book.top(n)

    def mid_x2(self) -> int | None:
        """Best bid plus best ask (twice the mid, exact), or None."""
        return self._book.mid_x2()

    def spread(self) -> int | None:
        """Best ask minus best bid in ticks, or None."""
        return self._book.spread()

    def is_crossed(self) -> bool:
        """True when best bid >= best ask (never a valid book)."""
        return self._book.is_crossed()

    @property
    def update_id(self) -> int:
        """The venue update id the book is at."""
        return int(self._book.update_id)


class Holding(msgspec.Struct, frozen=True, kw_only=True):
    """A strategy's own position in one instrument (only its own fills)."""

    instrument: int
    net_lots: int
    """Positive long, negative short."""
    avg_entry: Fraction | None
    """Average entry in ticks, exact; None when flat."""
    realised: int
    """Realised PnL in tick*lot units, before fees."""
    fees: int
    """Fees in fee units (10**-8 quote)."""


class OpenOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A frozen copy of one of the strategy's orders."""

    client_order_id: str
    instrument: int
    side: Side
    price_ticks: int
    size_lots: int
    filled_lots: int
    status: OrderStatus

    @property
    def leaves_lots(self) -> int:
        """Lots still working."""
        return self.size_lots - self.filled_lots

    @property
    def working(self) -> bool:
        """True when acknowledged with no request pending: it can be replaced now."""
        return self.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


_Action = tuple[str, object]


class StrategyContext:
    """One strategy's window on the engine.

    Args:
        name: the strategy's name (tags its orders and log lines).
        oms: the order manager every action goes through.
        books: the engine's books by instrument id.
        portfolio: the strategy's own positions.
        clock: the engine's clock.
        halted: True while trading is halted (orders would be refused).
        set_timer: the runner's timer table, ``(name, interval_ns)``; 0 cancels.
    """

    def __init__(
        self,
        name: str,
        oms: OrderManager,
        books: Mapping[int, OrderBook],
        portfolio: Portfolio,
        clock: Clock,
        halted: Callable[[], bool],
        set_timer: Callable[[str, int], None],
    ) -> None:
        self.name = name
        self.clock = clock
        self.log = logging.getLogger(f"engine.strategy.{name}")
        self._oms = oms
        self._books = {i: BookReader(b) for i, b in books.items()}
        self._portfolio = portfolio
        self._halted = halted
        self._set_timer = set_timer
        self._actions: list[_Action] = []
        self._orders: dict[str, Order] = {}
        self._new_ids: list[str] = []
        self.active = True
        """False once stopped: every action then raises :class:`StrategyStopped`."""
        self.sent = 0
        """Orders this strategy has sent (refused ones included)."""
        self.refused = 0
        """Its orders and replaces refused by the OMS or risk."""

    # ---- reading ------------------------------------------------------------------------------

    def now_ns(self) -> int:
        """The engine's wall time."""
        return self.clock.time_ns()

    @property
    def halted(self) -> bool:
        """True while trading is halted: any order sent now is refused by risk."""
        return self._halted()

    def book(self, instrument: int) -> BookReader:
        """The read-only book of ``instrument``.

        Raises:
            KeyError: no such instrument.
        """
        return self._books[instrument]

    def instrument(self, instrument: int) -> Instrument:
        """The instrument's venue, symbol, tick size and lot size (frozen).

        Raises:
            KeyError: no such instrument.
        """
        return self._oms.instruments[instrument]

    def position(self, instrument: int) -> Holding:
        """The strategy's own position in ``instrument``."""
        pos = self._portfolio.position(instrument)
        return Holding(
            instrument=instrument,
            net_lots=pos.net,
            avg_entry=pos.avg_entry,
            realised=pos.realised,
            fees=pos.fees,
        )

    def net_lots(self, instrument: int) -> int:
        """Its own net lots in ``instrument``: ``position(instrument).net_lots`` without a copy."""
        return self._portfolio.position(instrument).net

    def owns(self, client_order_id: str) -> bool:
        """True when the order was sent by this strategy."""
        return client_order_id in self._orders

    def open_orders(self, instrument: int = -1) -> list[OpenOrder]:
        """Its orders not yet final (sent ones only, not those buffered now), oldest first."""
        return [  # _view inlined: this runs for every book update a market maker decides on
            OpenOrder(
                client_order_id=order.client_order_id,
                instrument=order.instrument,
                side=order.side,
                price_ticks=order.price_ticks,
                size_lots=order.size_lots,
                filled_lots=order.filled_lots,
                status=order.status,
            )
            for order in self._orders.values()
            if order.status not in TERMINAL and (instrument < 0 or order.instrument == instrument)
        ]

    # ---- acting (buffered) ----------------------------------------------------------------------

    def _buffer(self, action: _Action) -> None:
        if not self.active:
            raise StrategyStopped(f"strategy {self.name} is stopped; no action is taken")
        if len(self._actions) >= MAX_ACTIONS:
            raise StrategyStopped(
                f"strategy {self.name}: more than {MAX_ACTIONS} actions in one callback"
            )
        self._actions.append(action)

    def submit(
        self,
        instrument: int,
        side: Side,
        size_lots: int,
        price_ticks: int = 0,
        *,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
    ) -> str:
        """Send an order when the callback returns (a market order when ``price_ticks`` is 0).

        Returns:
            Its client order id, from the OMS.
        """
        cmd = SubmitOrder(
            client_order_id=self._oms.new_id(),
            instrument=instrument,
            side=side,
            size_lots=size_lots,
            price_ticks=price_ticks,
            order_type=OrderType.LIMIT if price_ticks else OrderType.MARKET,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            strategy=self.name,
        )
        self._buffer(("submit", cmd))
        return cmd.client_order_id

    def cancel(self, client_order_id: str) -> bool:
        """Cancel one of its open orders when the callback returns; False if not its own or open."""
        order = self._orders.get(client_order_id)
        if order is None or not order.is_open:
            return False
        self._buffer(("cancel", client_order_id))
        return True

    def replace(self, client_order_id: str, price_ticks: int, size_lots: int) -> bool:
        """Change one of its orders (new total size) when the callback returns.

        Returns:
            False when the order is not its own or not open; a refusal later comes as
            REPLACE_REJECTED.
        """
        order = self._orders.get(client_order_id)
        if order is None or not order.is_open:
            return False
        cmd = ReplaceOrder(
            client_order_id=client_order_id,
            instrument=order.instrument,
            price_ticks=price_ticks,
            size_lots=size_lots,
        )
        self._buffer(("replace", cmd))
        return True

    def cancel_all(self, instrument: int = -1) -> int:
        """Cancel all its open orders (on one instrument, or -1 all); returns how many."""
        count = 0
        for order in list(self._orders.values()):
            if order.is_open and (instrument < 0 or order.instrument == instrument):
                self._buffer(("cancel", order.client_order_id))
                count += 1
        return count

    def set_timer(self, name: str, interval_ns: int) -> None:
        """Call ``on_timer(name, now)`` every ``interval_ns`` (0 cancels the timer).

        Raises:
            ValueError: ``interval_ns`` is negative.
        """
        if interval_ns < 0:
            raise ValueError(f"timer {name}: interval {interval_ns} ns must not be negative")
        self._set_timer(name, interval_ns)

    # ---- runner side ----------------------------------------------------------------------------

    def discard(self) -> int:
        """Drop the buffered actions (the callback raised); returns how many were dropped."""
        dropped = len(self._actions)
        self._actions.clear()
        return dropped

    def flush(self) -> Sequence[OrderUpdate]:
        """Send the buffered actions through the OMS in order; returns the refusals as updates."""
        if not self._actions:
            return ()  # the usual book update acts on nothing: no list to build
        actions, self._actions = self._actions, []
        refusals: list[OrderUpdate] = []
        oms = self._oms
        for kind, payload in actions:
            if kind == "submit":
                assert isinstance(payload, SubmitOrder)
                order = oms.submit(payload)
                self.sent += 1
                self._orders[payload.client_order_id] = order
                self._new_ids.append(payload.client_order_id)
                if order.status is OrderStatus.REJECTED:
                    self.refused += 1
                    refusals.append(_refusal(order, OrderUpdateKind.REJECTED, order.reason))
            elif kind == "cancel":
                assert isinstance(payload, str)
                oms.cancel(payload, f"strategy {self.name}")
            else:
                assert isinstance(payload, ReplaceOrder)
                reason = oms.replace(payload)
                if reason is not None:
                    self.refused += 1
                    order = self._orders[payload.client_order_id]
                    refusals.append(_refusal(order, OrderUpdateKind.REPLACE_REJECTED, reason))
        return refusals

    def take_sent(self) -> Sequence[str]:
        """The ids of orders sent since the last call (the runner maps them to the strategy)."""
        if not self._new_ids:
            return ()
        ids, self._new_ids = self._new_ids, []
        return ids

    def apply_fill(self, fill: Fill) -> bool:
        """Book one of its fills into its own position; False when already booked."""
        try:
            return self._portfolio.apply(fill)
        except InvalidFill:
            return False

    def cancel_now(self, reason: str) -> int:
        """Cancel every open order of this strategy at once (not buffered); returns how many."""
        count = 0
        for order in list(self._orders.values()):
            if order.is_open and self._oms.cancel(order.client_order_id, reason):
                count += 1
        return count

    def forget_closed(self) -> None:
        """Drop final orders from the strategy's table (their late fills are still attributed)."""
        self._orders = {k: o for k, o in self._orders.items() if o.is_open}


def _refusal(order: Order, kind: OrderUpdateKind, reason: str) -> OrderUpdate:
    return OrderUpdate(
        venue=order.venue,
        instrument=order.instrument,
        client_order_id=order.client_order_id,
        kind=kind,
        reason=reason,
        price_ticks=order.price_ticks,
        size_lots=order.size_lots,
        filled_lots=order.filled_lots,
    )
