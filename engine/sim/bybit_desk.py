"""The local venue's Bybit linear desk: USDT perpetual orders through the shared matching core.

Each account trades each symbol through its own :class:`~engine.sim.matching.MatchingCore`, fed
with a snapshot of the venue's market model when the desk opens and then with every level change
and trade the venue's market makes (:meth:`LinearDesk.on_market`), as the Binance spot desk's
cores are: accounts meet the public market, and what an order of theirs takes leaves the model's
book and prints on the public trade stream (``taken``). Positions are netted per account and
symbol (one-way mode; the core keeps ``position_lots``, :class:`LinearPosition` the cost and PnL).
The settle coin's balance of the account (a unified account: the same balance the spot side
uses) takes realised PnL and fees as they happen.

Bybit's rules kept here, beyond the core's matching:

- a post-only order that would take is created and then cancelled: the answer is ``retCode`` 0,
  the ``order`` topic says ``Cancelled`` with ``rejectReason`` ``EC_PostOnlyWillTakeLiquidity``;
- a reduce-only order larger than the position is cut down to it; with nothing to reduce it is
  refused, 110017; reduce-only lots never exceed the position while they rest;
- an order that adds to the position needs ``value / leverage`` of the settle coin free (110007);
  nothing is locked;
- ``orderLinkId`` is unique among the orders the venue remembers (110072); unknown or finished
  orders cannot be cancelled or amended (110001);
- amend keeps the order id and, at the same price with a smaller qty, the queue position.

Commands run to the end at once and raise :class:`~engine.sim.bybit_wire.BybitError` when
refused; what they cause reaches the :class:`LinearListener` as it happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from fractions import Fraction

from engine.core.commands import CancelOrder, OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account, Accounts
from engine.sim.bybit_fills import LinearBook, LinearFills, LinearListener, Taken
from engine.sim.bybit_ledger import CANCELLED, LinearOrder, LinearPosition
from engine.sim.bybit_params import Amend, CreateOrder, OrderRef
from engine.sim.bybit_wire import LEVERAGE, BybitError, LinearText
from engine.sim.desk_cores import feed, open_cores
from engine.sim.market import LevelChange, MarketModel, TradePrint
from engine.sim.matching import POST_ONLY_WOULD_TAKE, REDUCE_ONLY_REFUSED, MatchingCore, StpMode
from engine.sim.queue import QueueModel
from engine.venues.bybit.orders import settle_coin_of

_K = OrderUpdateKind
_STP = {
    "CancelTaker": StpMode.EXPIRE_TAKER,
    "CancelMaker": StpMode.EXPIRE_MAKER,
    "CancelBoth": StpMode.EXPIRE_BOTH,
}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIF["PostOnly"] = TimeInForce.POST_ONLY
NOT_FOUND_CANCEL = "order not exists or too late to cancel"
NOT_FOUND_AMEND = "order not exists or too late to replace"


class LinearDesk:
    """Every account's linear orders on every symbol of the venue.

    Args:
        instruments: the symbols listed.
        models: the market model of each symbol.
        accounts: the venue's accounts.
        listener: told about orders, fills, positions and balances.
        taken: publishes liquidity an order took.
        queue: makes each core's queue-position model; conservative when omitted.
        seed: seeds order and execution ids.
        clock: wall-clock nanoseconds.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        models: Mapping[str, MarketModel],
        accounts: Accounts,
        listener: LinearListener,
        taken: Taken,
        *,
        queue: Callable[[], QueueModel] | None = None,
        seed: int = 7,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.accounts = accounts
        self._listener = listener
        self._clock = clock
        self._models = dict(models)
        self._text = {i.symbol: LinearText(i) for i in instruments}
        self._fills = LinearFills(self._models, self._text, listener, taken, seed)
        self._books: dict[str, dict[int, LinearBook]] = {}
        now = clock()
        for instrument in instruments:
            model = self._models[instrument.symbol]
            unit = Fraction(instrument.tick_size) * Fraction(instrument.lot_size) * 10**8
            books = self._books[instrument.symbol] = {}
            cores = open_cores(instrument, model, accounts, queue, now)
            for account in accounts.all():
                core = cores[account.uid]
                position = LinearPosition(account, instrument.symbol, unit)
                books[account.uid] = LinearBook(account, core, position)

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def symbols(self) -> list[str]:
        """The symbols listed."""
        return list(self._books)

    def text(self, symbol: str) -> LinearText:
        """The exact-text formatter of a listed symbol."""
        return self._text[symbol]

    def book(self, account: Account, symbol: str) -> LinearBook:
        """An account's book on a listed symbol."""
        return self._books[symbol][account.uid]

    def orders(self, account: Account, symbol: str) -> list[LinearOrder]:
        """An account's remembered orders on ``symbol``, newest first (as Bybit lists them)."""
        return list(reversed(self.book(account, symbol).orders.values()))

    def mark(self, symbol: str) -> int:
        """The mark price in ticks: the middle of the model's touch, rounded down."""
        model = self._models[symbol]
        return (model.best_bid() + model.best_ask()) // 2

    def positions(self, account: Account) -> list[tuple[LinearPosition, int]]:
        """Every open position of ``account`` with its mark price."""
        return [
            (books[account.uid].position, self.mark(symbol))
            for symbol, books in self._books.items()
            if books[account.uid].position.size
        ]

    # ---- commands --------------------------------------------------------------------------------

    def place(self, account: Account, order: CreateOrder) -> LinearOrder:
        """Take in a new order and match it.

        Raises:
            BybitError: 110072 duplicate ``orderLinkId``, 110017 reduce-only with nothing to
                reduce, 110007 not enough balance, 10001 any other refusal of the core.
        """
        now = self._clock()
        book = self.book(account, order.symbol)
        if order.order_link_id and order.order_link_id in book.by_link:
            raise BybitError(110072, "OrderLinkedID is duplicate")
        qty = self._reduce_only_qty(book, order) if order.reduce_only else order.qty
        if not order.reduce_only:
            self._check_margin(book, order)
        record = LinearOrder(
            account,
            order.symbol,
            self._fills.new_id(),
            order.order_link_id,
            order.side,
            order.order_type,
            order.time_in_force,
            order.price,
            qty,
            reduce_only=order.reduce_only,
            smp_type=order.smp_type,
            created_ms=now // 1_000_000,
        )
        book.core.stp = _STP[order.smp_type]
        reports = book.core.submit(_submit(book.core, record), now)
        first = reports[0] if reports else None
        if isinstance(first, OrderUpdate) and first.kind is _K.REJECTED:
            if first.reason != POST_ONLY_WOULD_TAKE:
                raise BybitError(10001, first.reason)
            record.status = CANCELLED
            record.reject_reason = "EC_PostOnlyWillTakeLiquidity"
            book.add(record)
            self._listener.on_order(self._text[order.symbol], record)
            return record
        book.add(record)
        self._fills.apply(book, reports, now)
        return record

    def cancel(self, account: Account, ref: OrderRef) -> LinearOrder:
        """Cancel one working order.

        Raises:
            BybitError: 110001 when no such order works.
        """
        now = self._clock()
        book = self.book(account, ref.symbol)
        record = book.find(ref)
        if record is None or not record.is_open:
            raise BybitError(110001, NOT_FOUND_CANCEL)
        command = CancelOrder(client_order_id=record.order_id, instrument=book.core.instrument_id)
        self._fills.apply(book, book.core.cancel(command, now), now)
        return record

    def amend(self, account: Account, change: Amend) -> LinearOrder:
        """Change a working order's qty and/or price, keeping its ids.

        Raises:
            BybitError: 110001 when no such order works, 110017 when a reduce-only order would
                outgrow the position, 10001 when the core refuses otherwise or nothing changes.
        """
        now = self._clock()
        book = self.book(account, change.ref.symbol)
        record = book.find(change.ref)
        if record is None or not record.is_open:
            raise BybitError(110001, NOT_FOUND_AMEND)
        price = record.price if change.price is None else change.price
        qty = record.qty if change.qty is None else change.qty
        if (price, qty) == (record.price, record.qty):
            raise BybitError(10001, "The order remains unchanged as the parameters match.")
        if record.order_type == "Market":
            raise BybitError(10001, "params error: a market order cannot be amended")
        command = ReplaceOrder(
            client_order_id=record.order_id,
            instrument=book.core.instrument_id,
            price_ticks=price,
            size_lots=qty,
        )
        reports = book.core.replace(command, now)
        first = reports[0] if reports else None
        if isinstance(first, OrderUpdate) and first.kind is _K.REPLACE_REJECTED:
            code = 110017 if first.reason == REDUCE_ONLY_REFUSED else 10001
            raise BybitError(code, first.reason)
        self._fills.apply(book, reports, now)
        return record

    def cancel_all(self, account: Account, symbols: list[str]) -> list[LinearOrder]:
        """Cancel every working order of ``account`` on ``symbols``, oldest first."""
        done = []
        for symbol in symbols:
            book = self.book(account, symbol)
            for record in [o for o in book.orders.values() if o.is_open]:
                ref = OrderRef(symbol=symbol, order_id=record.order_id, order_link_id="")
                done.append(self.cancel(account, ref))
        return done

    def _reduce_only_qty(self, book: LinearBook, order: CreateOrder) -> int:
        position = book.core.position_lots
        room = -position if order.side is Side.BUY else position
        if room <= 0:
            raise BybitError(110017, "current position is zero, cannot fix reduce-only order qty")
        return min(order.qty, room)

    def _check_margin(self, book: LinearBook, order: CreateOrder) -> None:
        position = book.core.position_lots
        closing = -position if order.side is Side.BUY else position
        opening = order.qty - max(0, closing)
        if opening <= 0:
            return
        price = order.price or self.mark(order.symbol)
        needed = -(-int(price * opening * book.position.unit) // LEVERAGE)
        settle = settle_coin_of(order.symbol)
        free = book.account.balance(settle).free
        if needed > free:
            raise BybitError(110007, "ab not enough for new order")

    # ---- the market ------------------------------------------------------------------------------

    def on_market(
        self,
        symbol: str,
        events: list[LevelChange | TradePrint],
        taker: MatchingCore | None = None,
    ) -> None:
        """Feed the market's level changes and trades, in order, to every core of ``symbol``.

        Trades are not fed to ``taker``, the core whose order printed them.
        """
        books = self._books.get(symbol)
        if not books or not events:
            return
        now = self._clock()
        for book in books.values():
            for reports in feed(book.core, events, taker, now):
                self._fills.apply(book, reports, now)


def _submit(core: MatchingCore, record: LinearOrder) -> SubmitOrder:
    market = record.order_type == "Market"
    return SubmitOrder(
        client_order_id=record.order_id,
        instrument=core.instrument_id,
        side=record.side,
        size_lots=record.qty,
        price_ticks=0 if market else record.price,
        order_type=OrderType.MARKET if market else OrderType.LIMIT,
        time_in_force=TimeInForce.IOC if market else _TIF[record.time_in_force],
        reduce_only=record.reduce_only,
    )
