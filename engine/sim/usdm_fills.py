"""From matching-core reports to the USD-M desk's records, money and user-stream events.

Each report a core returns (ACCEPTED, REPLACED, CANCELED, EXPIRED, a fill) changes one
:class:`~engine.sim.usdm_ledger.FuturesOrder` and becomes one
:class:`~engine.sim.usdm_ledger.FuturesExecution` told to the :class:`FuturesListener` (an
``ORDER_TRADE_UPDATE``), in the core's order:

==========================  =======================================================
core report                 ``x`` / ``X``
==========================  =======================================================
ACCEPTED                    ``NEW`` / ``NEW``
REPLACED (a modify)         ``AMENDMENT`` / ``NEW`` or ``PARTIALLY_FILLED``
a fill                      ``TRADE`` / ``PARTIALLY_FILLED`` or ``FILLED``
CANCELED                    ``CANCELED`` / ``CANCELED``
EXPIRED, self-trade         ``EXPIRED`` / ``EXPIRED_IN_MATCH``
EXPIRED (IOC, FOK, reduce)  ``EXPIRED`` / ``EXPIRED``
==========================  =======================================================

A fill moves the account's net position and pays its realised PnL less the fee into the futures
wallet (:mod:`engine.sim.usdm_ledger`); after a batch with fills the listener hears of the
account once (``ACCOUNT_UPDATE``). A reduce-only order larger than the position was given the
core only the position: when that much has filled, the rest of the order expires. Trade ids are
the public trade's when our order took liquidity (the lots leave the market model's book and
print, handed to ``taken`` once the batch is applied), a fresh id of the same sequence for a
maker fill, and one printed trade for two of the account's own orders meeting (STP ``NONE``).
"""

from __future__ import annotations

import logging
import random
import string
from collections import deque
from collections.abc import Callable
from typing import Protocol

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.bybit_ledger import LinearPosition
from engine.sim.kept_orders import KEEP_ORDERS, KeptOrders
from engine.sim.market import MarketActivity, MarketModel
from engine.sim.matching import REDUCE_ONLY_EXPIRED, SELF_TRADE, MatchingCore
from engine.sim.usdm_ledger import (
    CANCELED,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    PARTIALLY_FILLED,
    FuturesExecution,
    FuturesOrder,
    FuturesTrade,
    FuturesWallet,
)
from engine.sim.usdm_params import OrderRef
from engine.sim.usdm_wire import FuturesText

log = logging.getLogger("engine.sim")

_K = OrderUpdateKind
_ID_CHARS = string.ascii_letters + string.digits


class FuturesListener(Protocol):
    """What the venue hears from the USD-M desk, synchronously, as it happens."""

    def on_order(self, text: FuturesText, order: FuturesOrder, execution: FuturesExecution) -> None:
        """An ``ORDER_TRADE_UPDATE`` is due (read ``order`` now: it changes later)."""
        ...

    def on_account(self, account: Account, symbol: str) -> None:
        """An ``ACCOUNT_UPDATE`` is due: fills moved the wallet and the position of ``symbol``."""
        ...


Taken = Callable[[str, MarketActivity, MatchingCore], None]
"""Publishes liquidity an order took and feeds it to every core (trades not to the taker's)."""


class FuturesBook(KeptOrders[FuturesOrder]):
    """One account's orders, trades, position and core on one symbol."""

    def __init__(
        self, account: Account, core: MatchingCore, position: LinearPosition, wallet: FuturesWallet
    ) -> None:
        super().__init__()
        self.account = account
        self.core = core
        self.position = position
        self.wallet = wallet
        self.trades: deque[FuturesTrade] = deque(maxlen=KEEP_ORDERS)

    def close(self, order: FuturesOrder) -> None:
        """An order ended: off the open list."""
        self.unlist(order)

    def find_ref(self, ref: OrderRef) -> FuturesOrder | None:
        """An order by ``orderId`` (checked against the client id when both are given)."""
        return self.find(ref.order_id, ref.orig_client_order_id)


class FuturesSymbol:
    """One listed symbol: its model, its text, its order ids and every account's book."""

    def __init__(self, instrument: Instrument, model: MarketModel, seed: int) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.model = model
        self.text = FuturesText(instrument)
        self.books: dict[int, FuturesBook] = {}
        self.next_order_id = 1
        self._ids = random.Random(f"{seed}:{instrument.symbol}:usdm-client-ids")

    def client_id(self) -> str:
        """A venue-made client order id, as Binance makes them: 22 letters and digits."""
        return "".join(self._ids.choice(_ID_CHARS) for _ in range(22))


class FuturesFills:
    """Applies core reports to the desk's records and tells the listener.

    Args:
        listener: hears every order change and account change.
        taken: publishes what taker fills took.
    """

    def __init__(self, listener: FuturesListener, taken: Taken) -> None:
        self._listener = listener
        self._taken = taken

    def apply(
        self, sym: FuturesSymbol, book: FuturesBook, reports: list[OrderUpdate | Fill], now: int
    ) -> None:
        """One entry point's reports, in order; then the account, then the public takes."""
        now_ms = now // 1_000_000
        taken: list[MarketActivity] = []
        self_trade_id = 0
        filled = False
        for n, report in enumerate(reports):
            order = book.orders.get(int(report.client_order_id))
            if order is None:
                log.warning(
                    "report for an unknown futures order", extra={"id": report.client_order_id}
                )
                continue
            order.update_ms = now_ms
            if not isinstance(report, Fill):
                self._update(sym, book, order, report, now_ms)
                continue
            pair = _self_match(reports, n)
            if self_trade_id and report.liquidity == "maker":
                trade_id, self_trade_id = self_trade_id, 0
            elif report.liquidity == "taker":
                if pair:
                    activity = sym.model.print_trade(
                        report.price, report.size, buyer_is_maker=report.side is Side.SELL
                    )
                else:
                    other = Side.SELL if report.side is Side.BUY else Side.BUY
                    activity = sym.model.take(other, report.price, report.size)
                trade_id = activity.trades[0].trade_id
                self_trade_id = trade_id if pair else 0
                taken.append(activity)
            else:
                trade_id = sym.model.reserve_trade_id()
            self._fill(sym, book, order, report, trade_id, now_ms)
            filled = True
        if filled:
            self._listener.on_account(book.account, sym.symbol)
        for activity in taken:
            self._taken(sym.symbol, activity, book.core)

    def _fill(
        self,
        sym: FuturesSymbol,
        book: FuturesBook,
        order: FuturesOrder,
        fill: Fill,
        trade_id: int,
        now_ms: int,
    ) -> None:
        text = sym.text
        _, pnl = book.position.fill(fill.side, fill.price, fill.size, now_ms)
        book.wallet.credit(text.margin_asset, pnl - fill.fee, now_ms)
        order.executed += fill.size
        order.cum_quote += fill.price * fill.size
        order.status = FILLED if order.executed >= order.quantity else PARTIALLY_FILLED
        maker = fill.liquidity == "maker"
        book.trades.append(
            FuturesTrade(
                trade_id=trade_id,
                order_id=order.order_id,
                symbol=order.symbol,
                side=order.side,
                price=fill.price,
                quantity=fill.size,
                commission=fill.fee,
                commission_asset=text.margin_asset,
                realized_pnl=pnl,
                time_ms=now_ms,
                maker=maker,
            )
        )
        if order.status == FILLED:
            book.close(order)
        execution = FuturesExecution(
            exec_type="TRADE",
            time_ms=now_ms,
            last_quantity=fill.size,
            last_price=fill.price,
            commission=fill.fee,
            trade_id=trade_id,
            maker=maker,
            realized_pnl=pnl,
        )
        self._listener.on_order(text, order, execution)
        if order.is_open and order.executed >= order.core_quantity:
            # a reduce-only order cut to the position: the position is closed, the rest expires
            order.status = EXPIRED
            book.close(order)
            ended = FuturesExecution(
                exec_type="EXPIRED", time_ms=now_ms, expiry_reason=REDUCE_ONLY_EXPIRED
            )
            self._listener.on_order(text, order, ended)

    def _update(
        self,
        sym: FuturesSymbol,
        book: FuturesBook,
        order: FuturesOrder,
        update: OrderUpdate,
        now_ms: int,
    ) -> None:
        kind = update.kind
        if kind is _K.ACCEPTED:
            execution = FuturesExecution(exec_type="NEW", time_ms=now_ms)
        elif kind is _K.REPLACED:
            order.price = update.price_ticks
            order.core_quantity = update.size_lots
            execution = FuturesExecution(exec_type="AMENDMENT", time_ms=now_ms)
        elif kind is _K.CANCELED:
            order.status = CANCELED
            execution = FuturesExecution(exec_type="CANCELED", time_ms=now_ms)
        elif kind is _K.EXPIRED:
            order.status = EXPIRED_IN_MATCH if update.reason == SELF_TRADE else EXPIRED
            execution = FuturesExecution(
                exec_type="EXPIRED", time_ms=now_ms, expiry_reason=update.reason
            )
        else:
            log.warning(
                "a matching-core report the futures desk does not expect",
                extra={"kind": kind.value, "order": order.order_id, "reason": update.reason},
            )
            return
        if not order.is_open:
            book.close(order)
        self._listener.on_order(sym.text, order, execution)


def _self_match(reports: list[OrderUpdate | Fill], n: int) -> bool:
    """Is the taker fill at ``n`` one half of a trade between two of the account's own orders?"""
    if n + 1 >= len(reports):
        return False
    taker, maker = reports[n], reports[n + 1]
    return (
        isinstance(taker, Fill)
        and isinstance(maker, Fill)
        and taker.liquidity == "taker"
        and maker.liquidity == "maker"
        and maker.side is not taker.side
        and maker.price == taker.price
        and maker.size == taker.size
    )
