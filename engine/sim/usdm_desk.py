"""The local venue's Binance USD-M desk: futures orders through the shared matching core.

Each account trades each symbol through its own :class:`~engine.sim.matching.MatchingCore`, fed
with a snapshot of the venue's market model when the desk opens and then with every level change
and trade the market makes (:meth:`UsdmDesk.on_market`), as the spot and Bybit desks' cores are:
accounts meet the public market, and what an order of theirs takes leaves the model's book and
prints on the public trade stream. Positions are netted per account and symbol (one-way mode;
the core keeps ``position_lots``), and money moves in the account's futures wallet (the margin
model is in :mod:`engine.sim.usdm_ledger`).

USD-M's rules kept here, beyond the core's matching (venues.md §2.6, §2.8):

- ``GTX`` is the core's post-only: an order that would take is refused, -5022, and not
  recorded;
- a reduce-only order with nothing to reduce (flat, or the same side as the position) is
  refused, -2022; one larger than the position is taken in, and what is beyond the position
  expires once the position is closed;
- an order that opens or grows a position needs its initial margin available, else -2019;
- ``newClientOrderId`` must not be that of an open order (-4116);
- modify (``PUT``) changes a LIMIT order's price and total quantity and keeps its ``orderId``;
  a new quantity at or below what has filled, or a ``GTX`` order that would now cross, cancels
  the order instead; the same price and quantity is -5027; at most :data:`MAX_MODIFIES` times.
  (The core keeps the queue position of a same-price size cut, where Binance puts every
  modified order at the back.)
- unknown or finished orders cannot be canceled (-2011) nor modified (-2013).

Commands run to the end at once and raise :class:`~engine.sim.wire.RestError` when refused;
what they cause reaches the :class:`~engine.sim.usdm_fills.FuturesListener` as it happens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from engine.core.commands import CancelOrder, OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account, Accounts
from engine.sim.bybit_ledger import LinearPosition
from engine.sim.desk_cores import feed, open_cores
from engine.sim.market import LevelChange, MarketModel, TradePrint
from engine.sim.matching import POST_ONLY_WOULD_TAKE, REDUCE_ONLY_REFUSED, MatchingCore, StpMode
from engine.sim.queue import QueueModel
from engine.sim.usdm_fills import FuturesBook, FuturesFills, FuturesListener, FuturesSymbol, Taken
from engine.sim.usdm_ledger import (
    MAX_MODIFIES,
    FuturesOrder,
    FuturesTrade,
    FuturesWallet,
    MarginState,
)
from engine.sim.usdm_margin import check_margin, margin_states, room
from engine.sim.usdm_params import Modify, NewFuturesOrder, OrderRef
from engine.sim.usdm_wire import FuturesText
from engine.sim.wire import RestError, invalid_symbol

_K = OrderUpdateKind
_STP = {
    "NONE": StpMode.NONE,
    "EXPIRE_TAKER": StpMode.EXPIRE_TAKER,
    "EXPIRE_MAKER": StpMode.EXPIRE_MAKER,
    "EXPIRE_BOTH": StpMode.EXPIRE_BOTH,
}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_TIF["GTX"] = TimeInForce.POST_ONLY
POST_ONLY_REJECTED = (
    "Due to the order could not be executed as maker, the Post Only order will be rejected. "
    "The order will not be recorded in the order history"
)
REDUCE_ONLY_REJECTED = "ReduceOnly Order is rejected."
UNKNOWN_ORDER = "Unknown order sent."
NO_SUCH_ORDER = "Order does not exist."


class UsdmDesk:
    """Every account's USD-M orders on every symbol of the venue.

    Args:
        instruments: the symbols listed.
        models: the market model of each symbol.
        accounts: the venue's accounts.
        listener: told about every order change and account change.
        taken: publishes liquidity an order took.
        queue: makes each core's queue-position model; conservative when omitted.
        seed: seeds the venue-made client order ids.
        clock: wall-clock nanoseconds.
    """

    def __init__(
        self,
        instruments: list[Instrument],
        models: Mapping[str, MarketModel],
        accounts: Accounts,
        listener: FuturesListener,
        taken: Taken,
        *,
        queue: Callable[[], QueueModel] | None = None,
        seed: int = 7,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.accounts = accounts
        self._clock = clock
        self._fills = FuturesFills(listener, taken)
        assets = list(dict.fromkeys(FuturesText(i).margin_asset for i in instruments))
        self.wallets = {a.uid: FuturesWallet(a, assets) for a in accounts.all()}
        self._symbols: dict[str, FuturesSymbol] = {}
        now = clock()
        for instrument in instruments:
            model = models[instrument.symbol]
            sym = FuturesSymbol(instrument, model, seed)
            cores = open_cores(instrument, model, accounts, queue, now)
            for account in accounts.all():
                core = cores[account.uid]
                position = LinearPosition(account, instrument.symbol, sym.text.unit)
                sym.books[account.uid] = FuturesBook(
                    account, core, position, self.wallets[account.uid]
                )
            self._symbols[instrument.symbol] = sym

    # ---- reading ---------------------------------------------------------------------------------

    @property
    def symbols(self) -> list[str]:
        """The symbols listed."""
        return list(self._symbols)

    def text(self, symbol: str) -> FuturesText:
        """The exact-text formatter of a listed symbol.

        Raises:
            RestError: -1121 for a symbol the venue does not list.
        """
        return self._symbol(symbol).text

    def book(self, account: Account, symbol: str) -> FuturesBook:
        """An account's book on a listed symbol.

        Raises:
            RestError: -1121 for a symbol the venue does not list.
        """
        return self._symbol(symbol).books[account.uid]

    def find(self, account: Account, ref: OrderRef) -> FuturesOrder | None:
        """An order the venue remembers, by ``orderId`` or ``origClientOrderId``."""
        return self.book(account, ref.symbol).find_ref(ref)

    def open_orders(self, account: Account, symbol: str | None = None) -> list[FuturesOrder]:
        """An account's open orders, oldest first, on one symbol or all."""
        out: list[FuturesOrder] = []
        for name, sym in self._symbols.items():
            if symbol is None or name == symbol:
                out += [o for o in sym.books[account.uid].orders.values() if o.is_open]
        return out

    def mark(self, symbol: str) -> int:
        """The mark price in ticks: the middle of the model's touch, rounded down."""
        model = self._symbol(symbol).model
        return (model.best_bid() + model.best_ask()) // 2

    def positions(self, account: Account) -> list[tuple[FuturesText, LinearPosition, int]]:
        """Every symbol's position of ``account`` with its text and mark, open or not."""
        return [
            (sym.text, sym.books[account.uid].position, self.mark(name))
            for name, sym in self._symbols.items()
        ]

    def margin(self, account: Account) -> list[MarginState]:
        """Every margin asset of ``account`` now: wallet, unrealised PnL, initial margins."""
        books = [
            (sym.text, sym.books[account.uid], self.mark(name))
            for name, sym in self._symbols.items()
        ]
        return margin_states(self.wallets[account.uid], books)

    def trades(self, account: Account, symbol: str) -> list[FuturesTrade]:
        """An account's trades on ``symbol``, oldest first."""
        return list(self.book(account, symbol).trades)

    # ---- commands --------------------------------------------------------------------------------

    def place(self, account: Account, order: NewFuturesOrder) -> FuturesOrder:
        """Take in a new order and match it.

        Raises:
            RestError: -4116 duplicate client id, -2022 reduce-only with nothing to reduce,
                -2019 not enough margin, -5022 a ``GTX`` order that would take.
        """
        now = self._clock()
        sym = self._symbol(order.symbol)
        book = sym.books[account.uid]
        client_id = order.client_order_id or sym.client_id()
        if client_id in book.open_by_client:
            raise RestError(400, -4116, "ClientOrderId is duplicated.")
        core_quantity = order.quantity
        if order.reduce_only:
            reducible = room(book.core.position_lots, order.side)
            if reducible <= 0:
                raise RestError(400, -2022, REDUCE_ONLY_REJECTED)
            core_quantity = min(order.quantity, reducible)
        else:
            self._check_margin(account, sym, book, order.side, order.quantity, order.price)
        record = FuturesOrder(
            account,
            sym.symbol,
            sym.next_order_id,
            client_id,
            order.side,
            order.order_type,
            order.time_in_force,
            order.price,
            order.quantity,
            reduce_only=order.reduce_only,
            stp_mode=order.stp_mode,
            now_ms=now // 1_000_000,
        )
        record.core_quantity = core_quantity
        book.core.stp = _STP[order.stp_mode]
        reports = book.core.submit(_submit(book.core, record), now)
        first = reports[0] if reports else None
        if isinstance(first, OrderUpdate) and first.kind is _K.REJECTED:
            if first.reason == POST_ONLY_WOULD_TAKE:
                raise RestError(400, -5022, POST_ONLY_REJECTED)
            if first.reason == REDUCE_ONLY_REFUSED:
                raise RestError(400, -2022, REDUCE_ONLY_REJECTED)
            raise RestError(400, -1000, first.reason)
        sym.next_order_id += 1
        book.add(record)
        self._fills.apply(sym, book, reports, now)
        return record

    def modify(self, account: Account, change: Modify) -> FuturesOrder:
        """Change a working LIMIT order's price and total quantity, keeping its ``orderId``.

        Raises:
            RestError: -2013 no such open order, -5025 not a LIMIT order, -5027 nothing to
                change, -5026 too many modifies, -2022 a reduce-only order that would outgrow
                the position, -2019 not enough margin, -4xxx from the core otherwise.
        """
        now = self._clock()
        sym = self._symbol(change.ref.symbol)
        book = sym.books[account.uid]
        record = book.find_ref(change.ref)
        if record is None or not record.is_open:
            raise RestError(400, -2013, NO_SUCH_ORDER)
        if record.order_type != "LIMIT":
            raise RestError(400, -5025, "Only limit order is supported.")
        if change.side is not record.side:
            raise RestError(400, -1117, "Invalid side.")
        if (change.price, change.quantity) == (record.price, record.quantity):
            raise RestError(400, -5027, "No need to modify the order.")
        if record.modifies >= MAX_MODIFIES:
            raise RestError(400, -5026, "Exceed maximum modify order limit.")
        core = book.core
        command = CancelOrder(client_order_id=str(record.order_id), instrument=core.instrument_id)
        if change.quantity <= record.executed:  # the venue cancels instead
            self._fills.apply(sym, book, core.cancel(command, now), now)
            return record
        core_quantity = change.quantity
        if record.reduce_only:
            core_quantity = min(
                change.quantity, record.executed + room(core.position_lots, record.side)
            )
            if core_quantity <= record.executed:
                raise RestError(400, -2022, REDUCE_ONLY_REJECTED)
        else:
            growth = max(0, change.quantity - record.quantity)
            self._check_margin(account, sym, book, record.side, growth, change.price)
        replace = ReplaceOrder(
            client_order_id=str(record.order_id),
            instrument=core.instrument_id,
            price_ticks=change.price,
            size_lots=core_quantity,
        )
        reports = core.replace(replace, now)
        first = reports[0] if reports else None
        if isinstance(first, OrderUpdate) and first.kind is _K.REPLACE_REJECTED:
            if first.reason == POST_ONLY_WOULD_TAKE:  # a GTX order that would now cross
                self._fills.apply(sym, book, core.cancel(command, now), now)
                return record
            if first.reason == REDUCE_ONLY_REFUSED:
                raise RestError(400, -2022, REDUCE_ONLY_REJECTED)
            raise RestError(400, -1000, first.reason)
        record.quantity = change.quantity
        record.modifies += 1
        self._fills.apply(sym, book, reports, now)
        return record

    def cancel(self, account: Account, ref: OrderRef) -> FuturesOrder:
        """Cancel one working order.

        Raises:
            RestError: -2011 when no such order works.
        """
        now = self._clock()
        sym = self._symbol(ref.symbol)
        book = sym.books[account.uid]
        record = book.find_ref(ref)
        if record is None or not record.is_open:
            raise RestError(400, -2011, UNKNOWN_ORDER)
        command = CancelOrder(
            client_order_id=str(record.order_id), instrument=book.core.instrument_id
        )
        self._fills.apply(sym, book, book.core.cancel(command, now), now)
        if record.is_open:  # the core no longer had it working: it ended on its own
            raise RestError(400, -2011, UNKNOWN_ORDER)
        return record

    def cancel_all(self, account: Account, symbol: str) -> list[FuturesOrder]:
        """Cancel every working order of ``account`` on ``symbol``, oldest first."""
        done = []
        for record in self.open_orders(account, self._symbol(symbol).symbol):
            ref = OrderRef(symbol=symbol, order_id=record.order_id, orig_client_order_id=None)
            done.append(self.cancel(account, ref))
        return done

    def _check_margin(
        self,
        account: Account,
        sym: FuturesSymbol,
        book: FuturesBook,
        side: Side,
        lots: int,
        price: int,
    ) -> None:
        """Refuse an order whose opening lots need more initial margin than is available."""
        state = next(s for s in self.margin(account) if s.asset == sym.text.margin_asset)
        position = book.core.position_lots
        check_margin(state, sym.text, position, side, lots, price or self.mark(sym.symbol))

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
        sym = self._symbols.get(symbol)
        if sym is None or not events:
            return
        now = self._clock()
        for book in sym.books.values():
            for reports in feed(book.core, events, taker, now):
                self._fills.apply(sym, book, reports, now)

    def _symbol(self, symbol: str) -> FuturesSymbol:
        sym = self._symbols.get(symbol)
        if sym is None:
            raise invalid_symbol()
        return sym


def _submit(core: MatchingCore, record: FuturesOrder) -> SubmitOrder:
    market = record.order_type == "MARKET"
    return SubmitOrder(
        client_order_id=str(record.order_id),
        instrument=core.instrument_id,
        side=record.side,
        size_lots=record.core_quantity,
        price_ticks=0 if market else record.price,
        order_type=OrderType.MARKET if market else OrderType.LIMIT,
        time_in_force=TimeInForce.IOC if market else _TIF[record.time_in_force],
        reduce_only=record.reduce_only,
    )
