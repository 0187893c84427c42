"""The local venue's trading desk: every account's orders through the matching core.

Each account trades each symbol through its own :class:`~engine.sim.matching.MatchingCore`, fed
with a snapshot of the market model's book when the desk opens and then with every level change
and trade the model makes (:meth:`TradingDesk.on_market`). Accounts therefore meet the public
market, not each other: one account's order never rests in another's book, but what one takes
from the public book shrinks it (and prints a public trade) for all. Trades an account's own
order printed are not fed back to that account's core (the core has applied them already). Our
resting orders are not shown in the public depth.

Commands (:meth:`~TradingDesk.place`, :meth:`~TradingDesk.cancel`,
:meth:`~TradingDesk.cancel_all`) run to the end at once and raise
:class:`~engine.sim.wire.RestError` with Binance's answer when refused; what they cause reaches
the :class:`~engine.sim.executions.DeskListener` as it happens (:mod:`engine.sim.executions`).
Cancel-replace is built on them in :mod:`engine.sim.cancel_replace`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

from engine.core.commands import CancelOrder, OrderType, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdate, OrderUpdateKind
from engine.core.instruments import Instrument
from engine.sim.accounts import Account, Accounts, InsufficientBalance
from engine.sim.desk_cores import feed, open_cores
from engine.sim.executions import AccountBook, DeskListener, Executions, SymbolBook
from engine.sim.ledger import PARTIALLY_FILLED, OrderRecord, TradeRecord
from engine.sim.market import LevelChange, MarketModel, TradePrint
from engine.sim.matching import MatchingCore, StpMode
from engine.sim.order_count import OrderCount
from engine.sim.order_params import CancelTarget, NewOrder
from engine.sim.order_wire import OrderText
from engine.sim.queue import QueueModel
from engine.sim.settlement import order_lock
from engine.sim.wire import RestError, invalid_symbol

UNKNOWN_ORDER = "Unknown order sent."
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
DUPLICATE_ORDER = "Duplicate order sent."
_STP = {
    "NONE": StpMode.NONE,
    "EXPIRE_TAKER": StpMode.EXPIRE_TAKER,
    "EXPIRE_MAKER": StpMode.EXPIRE_MAKER,
    "EXPIRE_BOTH": StpMode.EXPIRE_BOTH,
}


class Placed(NamedTuple):
    """A new order the desk took in, its fills while placed, and the order counts after it."""

    record: OrderRecord
    fills: list[TradeRecord]
    """The order's own fills while it was placed (not those of own orders it met)."""
    counts: tuple[int, int]
    """``X-MBX-ORDER-COUNT-10S`` and ``-1D`` after the order (and its fills' decrement)."""


class TradingDesk:
    """Every account's orders on every symbol of the venue.

    Args:
        instruments: the symbols listed.
        models: the market model of each symbol (the desk takes liquidity from them).
        accounts: the venue's accounts.
        listener: told about executions, balance changes and public takes.
        queue: makes each core's queue-position model; conservative when omitted.
        orders_per_10s: each account's unfilled-order limit per 10 s.
        orders_per_day: each account's unfilled-order limit per UTC day.
        seed: seeds the venue-made client order ids.
        clock: wall-clock nanoseconds (order times and the order-count intervals).
    """

    def __init__(
        self,
        instruments: list[Instrument],
        models: Mapping[str, MarketModel],
        accounts: Accounts,
        listener: DeskListener,
        *,
        queue: Callable[[], QueueModel] | None = None,
        orders_per_10s: int = 100,
        orders_per_day: int = 200_000,
        seed: int = 7,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.accounts = accounts
        self._listener = listener
        self._executions = Executions(listener)
        self._clock = clock
        self._symbols: dict[str, SymbolBook] = {}
        self.counts = {a.uid: OrderCount(orders_per_10s, orders_per_day) for a in accounts.all()}
        now = clock()
        for instrument in instruments:
            sym = SymbolBook(instrument, models[instrument.symbol], seed)
            cores = open_cores(instrument, sym.model, accounts, queue, now)
            for account in accounts.all():
                uid = account.uid
                sym.books[uid] = AccountBook(account, cores[uid], self.counts[uid])
            self._symbols[instrument.symbol] = sym

    # ---- reading ---------------------------------------------------------------------------------

    def text(self, symbol: str) -> OrderText:
        """The exact-text formatter of a symbol's orders.

        Raises:
            RestError: -1121 for a symbol the venue does not list.
        """
        return self._symbol(symbol).text

    def core(self, account: Account, symbol: str) -> MatchingCore:
        """The matching core an account trades ``symbol`` through."""
        return self._book(account, symbol).core

    def orders(
        self, account: Account | None = None, symbol: str | None = None
    ) -> list[OrderRecord]:
        """Orders the venue remembers, oldest first (every account and symbol unless named)."""
        out: list[OrderRecord] = []
        for name, sym in self._symbols.items():
            if symbol is not None and name != symbol:
                continue
            for uid, book in sym.books.items():
                if account is None or uid == account.uid:
                    out.extend(book.orders.values())
        return out

    def open_orders(self, account: Account, symbol: str | None = None) -> list[OrderRecord]:
        """An account's open orders, on one symbol or all."""
        return [r for r in self.orders(account, symbol) if r.is_open]

    def find(
        self, account: Account, symbol: str, order_id: int | None, client_order_id: str | None
    ) -> OrderRecord | None:
        """An order by ``orderId`` (checked against ``client_order_id`` when both are given)."""
        return self._book(account, symbol).find(order_id, client_order_id)

    def trades(self, account: Account, symbol: str) -> list[TradeRecord]:
        """An account's trades on ``symbol``, oldest first."""
        return list(self._book(account, symbol).trades)

    # ---- commands --------------------------------------------------------------------------------

    def place(self, account: Account, order: NewOrder) -> Placed:
        """Take in a new order, match it, and return it with its fills.

        Raises:
            RestError: -1015 over the order-count limit, -2010 for a duplicate client id,
                insufficient balance, a post-only order that would take, or no liquidity for a
                quote-sized market order.
        """
        now = self._clock()
        sym = self._symbol(order.symbol)
        book = sym.books[account.uid]
        book.counts.check(now)
        client_id = order.client_order_id or sym.client_id()
        if client_id in book.open_by_client:
            raise RestError(400, -2010, DUPLICATE_ORDER)
        lots, asset, units = order_lock(sym.text.assets, order, sym.model.asks(), sym.model.bids())
        try:
            account.lock(asset, units)
        except InsufficientBalance:
            raise RestError(400, -2010, INSUFFICIENT_BALANCE) from None
        record = OrderRecord(
            account,
            sym.symbol,
            sym.next_order_id,
            client_id,
            order.side,
            order.order_type,
            order.time_in_force,
            order.price,
            lots,
            order.quote_quantity,
            order.stp_mode,
            now // 1_000_000,
        )
        record.placed_ns = now
        record.lock_asset, record.lock_left = asset, units
        book.core.stp = _STP[order.stp_mode]
        reports = book.core.submit(_submit(book.core, record), now)
        first = reports[0] if reports else None
        if isinstance(first, OrderUpdate) and first.kind is OrderUpdateKind.REJECTED:
            account.unlock(asset, units)
            account.take_changed()
            raise RestError(400, -2010, first.reason)
        sym.next_order_id += 1
        book.add(record)
        book.counts.add(now)
        self._executions.apply(sym, book, reports, now)
        self._balances(account)
        return Placed(record, list(record.trades), book.counts.counts(now))

    def cancel(self, account: Account, target: CancelTarget) -> tuple[OrderRecord, str]:
        """Cancel one open order; returns it and the cancel's own client id.

        Raises:
            RestError: -2011 when no such order is open or a cancel restriction forbids it.
        """
        now = self._clock()
        sym = self._symbol(target.symbol)
        book = sym.books[account.uid]
        record = self.find(account, target.symbol, target.order_id, target.orig_client_order_id)
        if record is None or not record.is_open:
            raise RestError(400, -2011, UNKNOWN_ORDER)
        if (target.restriction == "ONLY_NEW" and record.status != "NEW") or (
            target.restriction == "ONLY_PARTIALLY_FILLED" and record.status != PARTIALLY_FILLED
        ):
            raise RestError(400, -2011, "Order was not canceled due to cancel restrictions.")
        cancel_id = target.new_client_order_id or sym.client_id()
        command = CancelOrder(
            client_order_id=str(record.order_id), instrument=book.core.instrument_id
        )
        reports = book.core.cancel(command, now)
        self._executions.apply(sym, book, reports, now, cancel_id=cancel_id)
        self._balances(account)
        if record.is_open:  # the core no longer had it working: it ended on its own
            raise RestError(400, -2011, UNKNOWN_ORDER)
        return record, cancel_id

    def cancel_all(self, account: Account, symbol: str) -> list[tuple[OrderRecord, str]]:
        """Cancel every open order of an account on ``symbol``, oldest first.

        Raises:
            RestError: -2011 when none is open.
        """
        open_now = self.open_orders(account, self._symbol(symbol).symbol)
        if not open_now:
            raise RestError(400, -2011, UNKNOWN_ORDER)
        return [
            self.cancel(
                account, CancelTarget(symbol=symbol, order_id=r.order_id, orig_client_order_id=None)
            )
            for r in open_now
        ]

    def rejected(self, account: Account, order: NewOrder, reason: str) -> None:
        """Report a new order refused inside a cancel-replace (``x=REJECTED``)."""
        self._executions.rejected(self._symbol(order.symbol), account, order, reason, self._clock())

    # ---- the market ------------------------------------------------------------------------------

    def on_market(
        self,
        symbol: str,
        events: list[LevelChange | TradePrint],
        taker: MatchingCore | None = None,
    ) -> None:
        """Feed the model's level changes and trades, in order, to every core of ``symbol``.

        Trades are not fed to ``taker``, the core whose order printed them.
        """
        if not events:
            return
        now = self._clock()
        sym = self._symbol(symbol)
        for book in sym.books.values():
            for reports in feed(book.core, events, taker, now):
                self._executions.apply(sym, book, reports, now)
            self._balances(book.account)

    # ---- helpers ---------------------------------------------------------------------------------

    def _balances(self, account: Account) -> None:
        changed = account.take_changed()
        if changed:
            self._listener.on_balances(account, changed)

    def _symbol(self, symbol: str) -> SymbolBook:
        sym = self._symbols.get(symbol)
        if sym is None:
            raise invalid_symbol()
        return sym

    def _book(self, account: Account, symbol: str) -> AccountBook:
        return self._symbol(symbol).books[account.uid]


def _submit(core: MatchingCore, record: OrderRecord) -> SubmitOrder:
    market = record.order_type == "MARKET"
    if record.order_type == "LIMIT_MAKER":
        tif = TimeInForce.POST_ONLY
    elif market:
        tif = TimeInForce.IOC
    else:
        tif = TimeInForce(record.time_in_force.lower())
    return SubmitOrder(
        client_order_id=str(record.order_id),
        instrument=core.instrument_id,
        side=record.side,
        size_lots=record.quantity,
        price_ticks=0 if market else record.price,
        order_type=OrderType.MARKET if market else OrderType.LIMIT,
        time_in_force=tif,
    )
