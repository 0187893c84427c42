"""The pre-trade risk pipeline: every order through every check, first rejection wins.

:class:`RiskPipeline` owns the bookkeeping the checks read (open orders, pending lots, sliding
order-rate windows, the drawdown peak, daily PnL) and runs :data:`~engine.risk.checks.CHECKS` in
order. Each rejection is logged on the ``engine.risk`` logger with its numbers. The per-order path
is integers only; PnL (exact Decimals from the portfolio) is converted when the OMS reports a change
through :meth:`RiskPipeline.on_pnl`, never inside :meth:`RiskPipeline.check`.

The OMS calls the hooks: :meth:`~RiskPipeline.on_submitted` when an order that passed is sent,
:meth:`~RiskPipeline.on_fill` for each fill, :meth:`~RiskPipeline.on_done` when it reaches a
terminal state, and :meth:`~RiskPipeline.on_pnl` after fills and mark updates.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

from engine.core.clock import Clock
from engine.core.commands import SubmitOrder
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.oms.positions import Portfolio, Position
from engine.risk.checks import CHECKS, CheckState, MarketState, Rejection, RejectReason
from engine.risk.limits import PNL_UNIT, CompiledLimits, RiskLimits, compile_limits

logger = logging.getLogger("engine.risk")

SECOND_NS = 1_000_000_000
MINUTE_NS = 60 * SECOND_NS

_ACCOUNT_REASONS = frozenset(
    {
        RejectReason.HALTED,
        RejectReason.DAILY_LOSS,
        RejectReason.DRAWDOWN,
        RejectReason.MARKET_DATA_DOWN,
        RejectReason.MARKET_DATA_STALE,
    }
)
"""Rejections that say trading as a whole is unsafe: logged at WARNING, the rest at INFO."""

_NO_MARKET = MarketState(best_bid=0, best_ask=0, live=False, recv_ts=0)


def _pnl_units(value: Decimal) -> int:
    """Quote currency as whole PNL units, rounded down (a loss never looks smaller)."""
    return int((value / PNL_UNIT).to_integral_value(rounding=ROUND_FLOOR))


def _quote(units: int) -> str:
    """PNL units as quote-currency text."""
    return f"{(Decimal(units) * PNL_UNIT).normalize():f}"


class _InstrumentBook:
    """One instrument's bookkeeping: the check state plus the send times of the rate windows."""

    __slots__ = ("last_minute", "last_second", "position", "state")

    def __init__(self, position: Position) -> None:
        self.position = position
        self.state = CheckState(_NO_MARKET)
        self.last_second: deque[int] = deque()
        self.last_minute: deque[int] = deque()


class RiskPipeline:
    """Pre-trade checks over every instrument, with the state they need.

    Args:
        instruments: every tradable instrument.
        limits: the initial limits; validated here.
        clock: wall time for data age, monotonic time for rates and the drawdown window.
        portfolio: positions (read per order as integer lots) and PnL (read by :meth:`on_pnl`).

    Raises:
        LimitsError: the initial limits are invalid.
    """

    def __init__(
        self,
        instruments: Iterable[Instrument],
        limits: RiskLimits,
        clock: Clock,
        portfolio: Portfolio,
    ) -> None:
        self._instruments = tuple(instruments)
        self._compiled: CompiledLimits = compile_limits(limits, self._instruments)
        self._clock = clock
        self._portfolio = portfolio
        self._books = {
            i.instrument_id: _InstrumentBook(portfolio.position(i.instrument_id))
            for i in self._instruments
        }
        #: client order id -> [instrument id, side, unfilled lots]
        self._orders: dict[str, tuple[int, Side, list[int]]] = {}
        #: (monotonic ns, net PnL units), net strictly decreasing: the front is the window's peak
        self._peaks: deque[tuple[int, int]] = deque()
        self._net = 0
        self._daily = 0
        self._halted = False
        self._halt_reason = ""
        self.rejections: dict[RejectReason, int] = dict.fromkeys(RejectReason, 0)
        """How many orders each check refused since start."""
        self.on_pnl()

    # ---- limits and halting ------------------------------------------------------------------

    @property
    def limits(self) -> RiskLimits:
        """The limits in force."""
        return self._compiled.source

    def set_limits(self, new: RiskLimits) -> None:
        """Validate ``new`` and put it in force in one step; invalid limits leave the old ones.

        Raises:
            LimitsError: naming the instrument, field and value that are wrong.
        """
        compiled = compile_limits(new, self._instruments)
        self._compiled = compiled
        logger.warning("risk limits changed", extra={"limits": repr(new)})

    @property
    def halted(self) -> bool:
        """True while every order is rejected with :attr:`RejectReason.HALTED`."""
        return self._halted

    @property
    def halt_reason(self) -> str:
        """Why the pipeline is halted; empty while trading."""
        return self._halt_reason

    def halt(self, reason: str) -> None:
        """Reject every order from now on (the circuit breaker calls this when it trips)."""
        self._halted = True
        self._halt_reason = reason

    def resume(self) -> None:
        """Check orders again (the circuit breaker calls this on an authenticated reset)."""
        self._halted = False
        self._halt_reason = ""

    # ---- the check ---------------------------------------------------------------------------

    def check(self, order: SubmitOrder, ctx: MarketState) -> Rejection | None:
        """Run every check on ``order`` against the market ``ctx``; None means it may be sent.

        Passing does not record the order: the OMS calls :meth:`on_submitted` when it sends it.
        """
        if self._halted:
            return self._reject(
                order,
                Rejection(
                    reason=RejectReason.HALTED,
                    message=f"trading is halted: {self._halt_reason}",
                    limit=0,
                    value=1,
                ),
            )
        limits = self._compiled.instruments.get(order.instrument)
        if limits is None:
            return self._reject(
                order,
                Rejection(
                    reason=RejectReason.UNKNOWN_INSTRUMENT,
                    message=f"instrument {order.instrument} has no risk limits",
                    limit=0,
                    value=order.instrument,
                ),
            )
        book = self._books[order.instrument]
        state = book.state
        clock = self._clock
        mono = clock.monotonic_ns()
        state.market = ctx
        state.now_ns = clock.time_ns()
        state.position_lots = book.position.net
        window = book.last_second
        cutoff = mono - SECOND_NS
        while window and window[0] <= cutoff:
            window.popleft()
        state.sent_last_second = len(window)
        window = book.last_minute
        cutoff = mono - MINUTE_NS
        while window and window[0] <= cutoff:
            window.popleft()
        state.sent_last_minute = len(window)
        state.drawdown = self._drawdown(mono)
        state.daily_pnl = self._daily
        for check in CHECKS:
            rejection = check(order, state, limits)
            if rejection is not None:
                return self._reject(order, rejection)
        return None

    def _reject(self, order: SubmitOrder, rejection: Rejection) -> Rejection:
        self.rejections[rejection.reason] += 1
        level = logging.WARNING if rejection.reason in _ACCOUNT_REASONS else logging.INFO
        logger.log(
            level,
            "order %s rejected by %s: %s",
            order.client_order_id,
            rejection.reason,
            rejection.message,
            extra={
                "client_order_id": order.client_order_id,
                "instrument": order.instrument,
                "reason": str(rejection.reason),
                "limit": rejection.limit,
                "value": rejection.value,
            },
        )
        return rejection

    # ---- bookkeeping hooks -------------------------------------------------------------------

    def on_submitted(self, order: SubmitOrder) -> bool:
        """Count a sent order: open orders, pending lots and both rate windows.

        Returns:
            False (and changes nothing) when the id is already counted or the instrument unknown.
        """
        book = self._books.get(order.instrument)
        if book is None or order.client_order_id in self._orders:
            return False
        self._orders[order.client_order_id] = (order.instrument, order.side, [order.size_lots])
        state = book.state
        state.open_orders += 1
        if order.side is Side.BUY:
            state.pending_buy_lots += order.size_lots
        else:
            state.pending_sell_lots += order.size_lots
        now = self._clock.monotonic_ns()
        book.last_second.append(now)
        book.last_minute.append(now)
        return True

    def on_fill(self, client_order_id: str, size_lots: int) -> bool:
        """Move filled lots out of pending (the portfolio books them into the position).

        Returns:
            False when the order is not counted as open.
        """
        entry = self._orders.get(client_order_id)
        if entry is None:
            return False
        instrument, side, leaves = entry
        filled = min(size_lots, leaves[0])
        leaves[0] -= filled
        state = self._books[instrument].state
        if side is Side.BUY:
            state.pending_buy_lots -= filled
        else:
            state.pending_sell_lots -= filled
        return True

    def on_done(self, client_order_id: str) -> bool:
        """Forget an order that reached a terminal state (filled, canceled, rejected, expired).

        Returns:
            False when the order is not counted as open.
        """
        entry = self._orders.pop(client_order_id, None)
        if entry is None:
            return False
        instrument, side, leaves = entry
        state = self._books[instrument].state
        state.open_orders -= 1
        if side is Side.BUY:
            state.pending_buy_lots -= leaves[0]
        else:
            state.pending_sell_lots -= leaves[0]
        return True

    def on_pnl(self) -> None:
        """Read net and daily PnL from the portfolio; call after fills and mark updates."""
        net = _pnl_units(self._portfolio.totals().net)
        self._daily = _pnl_units(self._portfolio.daily_pnl())
        self._net = net
        now = self._clock.monotonic_ns()
        peaks = self._peaks
        while peaks and peaks[-1][1] <= net:
            peaks.pop()
        peaks.append((now, net))
        self._drawdown(now)

    def loss_breach(self) -> str:
        """Why the account's loss limits say trading must stop, or empty while within them.

        Daily loss breaches at the limit (as the daily-loss check rejects at it); drawdown
        breaches beyond it. The circuit breaker trips on a non-empty answer.
        """
        account = self._compiled.account
        if self._daily <= -account.daily_loss_limit:
            return (
                f"daily loss limit: daily PnL {_quote(self._daily)} is at or below "
                f"-{_quote(account.daily_loss_limit)}"
            )
        drawdown = self._drawdown(self._clock.monotonic_ns())
        if drawdown > account.max_drawdown:
            return (
                f"drawdown limit: {_quote(drawdown)} below the window's peak exceeds "
                f"{_quote(account.max_drawdown)}"
            )
        return ""

    def _drawdown(self, now: int) -> int:
        """The drop of net PnL from its peak within the window ending now (never negative)."""
        peaks = self._peaks
        cutoff = now - self._compiled.account.drawdown_window_ns
        while len(peaks) > 1 and peaks[0][0] <= cutoff:
            peaks.popleft()
        return peaks[0][1] - self._net

    def open_orders(self, instrument_id: int) -> int:
        """Orders counted as working on one instrument."""
        return self._books[instrument_id].state.open_orders

    def pending_lots(self, instrument_id: int) -> tuple[int, int]:
        """Unfilled lots of working ``(buys, sells)`` on one instrument."""
        state = self._books[instrument_id].state
        return state.pending_buy_lots, state.pending_sell_lots
