"""From matching-core reports to the venue's records and ``executionReport`` events.

Each report the core returns (ACCEPTED, a fill, CANCELED, EXPIRED) updates the venue's
:class:`~engine.sim.ledger.OrderRecord` and becomes one :class:`~engine.sim.ledger.Execution`
for the account's user stream, in the core's order. A taker fill takes its lots out of the market
model's book and prints the public trade (whose id becomes the fill's ``t``); a maker fill gets a
fresh trade id from the same sequence, so an account never sees one trade id twice; two orders of
one account trading with each other (STP off) print one trade and leave the book alone. The public
side of those takes is handed to the listener once the reports are applied.
"""

from __future__ import annotations

import logging
import random
import string
from collections import deque
from typing import Protocol

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.kept_orders import KEEP_ORDERS, KeptOrders
from engine.sim.ledger import (
    CANCELED,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    REJECTED,
    Execution,
    OrderRecord,
    TradeRecord,
)
from engine.sim.market import MarketActivity, MarketModel
from engine.sim.matching import SELF_TRADE, MatchingCore
from engine.sim.order_count import OrderCount
from engine.sim.order_params import NewOrder
from engine.sim.order_wire import OrderText
from engine.sim.settlement import release, settle_fill

log = logging.getLogger("engine.sim")

_ID_CHARS = string.ascii_letters + string.digits


class DeskListener(Protocol):
    """What the venue hears from its desk, synchronously, as it happens."""

    def on_execution(self, text: OrderText, record: OrderRecord, execution: Execution) -> None:
        """An ``executionReport`` is due (read ``record`` now: it changes later)."""
        ...

    def on_balances(self, account: Account, assets: list[str]) -> None:
        """An ``outboundAccountPosition`` is due for these assets."""
        ...

    def on_taken(self, symbol: str, activity: MarketActivity, taker: MatchingCore) -> None:
        """An order took liquidity: publish ``activity``, feed it back (trades not to ``taker``)."""
        ...


class AccountBook(KeptOrders[OrderRecord]):
    """One account's orders and trades on one symbol, and the matching core it trades through."""

    def __init__(self, account: Account, core: MatchingCore, counts: OrderCount) -> None:
        super().__init__()
        self.account = account
        self.core = core
        self.counts = counts
        self.trades: deque[TradeRecord] = deque(maxlen=KEEP_ORDERS)

    def close(self, record: OrderRecord) -> None:
        """An order ended: off the open list, its lock released."""
        self.unlist(record)
        release(record)


class SymbolBook:
    """One listed symbol: its model, its text, its id sequences and every account's book."""

    def __init__(self, instrument: Instrument, model: MarketModel, seed: int) -> None:
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.model = model
        self.text = OrderText(instrument)
        self.books: dict[int, AccountBook] = {}
        self.next_order_id = 1
        self._next_execution_id = 1
        self._ids = random.Random(f"{seed}:{instrument.symbol}:client-ids")

    def client_id(self) -> str:
        """A venue-made client order id, as Binance makes them: 22 letters and digits."""
        return "".join(self._ids.choice(_ID_CHARS) for _ in range(22))

    def execution_id(self) -> int:
        """The next ``I`` (execution id) of this symbol."""
        self._next_execution_id += 1
        return self._next_execution_id - 1


class Executions:
    """Applies core reports to records and tells the listener.

    Args:
        listener: hears every execution and public take.
    """

    def __init__(self, listener: DeskListener) -> None:
        self._listener = listener

    def apply(
        self,
        sym: SymbolBook,
        book: AccountBook,
        reports: list[OrderUpdate | Fill],
        now: int,
        *,
        cancel_id: str = "",
    ) -> list[TradeRecord]:
        """Apply one entry point's reports; returns the trades among them, in order.

        Args:
            sym: the symbol.
            book: the account book whose core made the reports.
            reports: the core's reports.
            now: wall-clock ns.
            cancel_id: the client id of the cancel that caused CANCELED reports (made when empty).
        """
        trades: list[TradeRecord] = []
        taken: list[MarketActivity] = []
        self_trade_id = 0
        for n, report in enumerate(reports):
            record = book.orders.get(int(report.client_order_id))
            if record is None:
                log.warning("a report for an unknown order", extra={"id": report.client_order_id})
                continue
            if not isinstance(report, Fill):
                self._update(sym, book, record, report, now, cancel_id)
                continue
            if self_trade_id and report.liquidity == "maker":
                trade_id, self_trade_id = self_trade_id, 0
            elif report.liquidity == "taker":
                if _self_match(reports, n):
                    activity = sym.model.print_trade(
                        report.price, report.size, buyer_is_maker=report.side is Side.SELL
                    )
                else:
                    activity = sym.model.take(_opposite(report.side), report.price, report.size)
                trade_id = activity.trades[0].trade_id
                self_trade_id = trade_id if _self_match(reports, n) else 0
                taken.append(activity)
            else:
                trade_id = sym.model.reserve_trade_id()
            trades.append(self._fill(sym, book, record, report, trade_id, now))
        for activity in taken:
            self._listener.on_taken(sym.symbol, activity, book.core)
        return trades

    def rejected(
        self, sym: SymbolBook, account: Account, order: NewOrder, reason: str, now: int
    ) -> None:
        """Report a new order refused inside a cancel-replace (``x=REJECTED``), as Binance does."""
        now_ms = now // 1_000_000
        record = OrderRecord(
            account,
            sym.symbol,
            -1,
            order.client_order_id or sym.client_id(),
            order.side,
            order.order_type,
            order.time_in_force,
            order.price,
            order.quantity,
            order.quote_quantity,
            order.stp_mode,
            now_ms,
        )
        record.status = REJECTED
        execution = Execution(
            exec_type="REJECTED",
            time_ms=now_ms,
            execution_id=sym.execution_id(),
            reject_reason=reason,
        )
        self._listener.on_execution(sym.text, record, execution)

    def _fill(
        self,
        sym: SymbolBook,
        book: AccountBook,
        record: OrderRecord,
        fill: Fill,
        trade_id: int,
        now: int,
    ) -> TradeRecord:
        commission, asset = settle_fill(record, sym.text.assets, fill)
        now_ms = record.update_ms = book.account.update_ms = now // 1_000_000
        if not record.filled_once:
            record.filled_once = True
            book.counts.filled(record.placed_ns, now)
        maker = fill.liquidity == "maker"
        trade = TradeRecord(
            trade_id=trade_id,
            order_id=record.order_id,
            symbol=record.symbol,
            side=record.side,
            price=fill.price,
            quantity=fill.size,
            commission=commission,
            commission_asset=asset,
            time_ms=now_ms,
            maker=maker,
        )
        record.trades.append(trade)
        book.trades.append(trade)
        if record.status == FILLED:
            book.close(record)
        execution = Execution(
            exec_type="TRADE",
            time_ms=now_ms,
            execution_id=sym.execution_id(),
            last_quantity=fill.size,
            last_price=fill.price,
            commission=commission,
            commission_asset=asset,
            trade_id=trade_id,
            maker=maker,
        )
        self._listener.on_execution(sym.text, record, execution)
        return trade

    def _update(
        self,
        sym: SymbolBook,
        book: AccountBook,
        record: OrderRecord,
        update: OrderUpdate,
        now: int,
        cancel_id: str,
    ) -> None:
        now_ms = now // 1_000_000
        kind = update.kind
        execution_id = sym.execution_id()
        if kind is OrderUpdateKind.ACCEPTED:
            execution = Execution(exec_type="NEW", time_ms=now_ms, execution_id=execution_id)
        elif kind is OrderUpdateKind.CANCELED:
            record.status = CANCELED
            execution = Execution(
                exec_type="CANCELED",
                time_ms=now_ms,
                execution_id=execution_id,
                client_order_id=cancel_id or sym.client_id(),
                orig_client_order_id=record.client_order_id,
            )
        elif kind is OrderUpdateKind.EXPIRED:
            stp = update.reason == SELF_TRADE
            record.status = EXPIRED_IN_MATCH if stp else EXPIRED
            execution = Execution(
                exec_type="TRADE_PREVENTION" if stp else "EXPIRED",
                time_ms=now_ms,
                execution_id=execution_id,
                prevented_quantity=record.quantity - record.executed if stp else 0,
                prevented_match_id=execution_id if stp else -1,
            )
        else:
            log.warning(
                "a matching-core report the venue does not expect",
                extra={"kind": kind.value, "order": record.order_id, "reason": update.reason},
            )
            return
        record.update_ms = now_ms
        if not record.is_open:
            book.close(record)
        self._listener.on_execution(sym.text, record, execution)


def _self_match(reports: list[OrderUpdate | Fill], n: int) -> bool:
    """Is the taker fill at ``n`` one half of a trade between two of the account's own orders?"""
    if n + 1 >= len(reports):
        return False
    taker, maker = reports[n], reports[n + 1]
    return (
        isinstance(taker, Fill)
        and isinstance(maker, Fill)
        and maker.liquidity == "maker"
        and maker.side is not taker.side
        and maker.price == taker.price
        and maker.size == taker.size
    )


def _opposite(side: Side) -> Side:
    return Side.SELL if side is Side.BUY else Side.BUY
