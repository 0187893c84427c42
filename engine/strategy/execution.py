"""Execution algorithms' shared part: work a parent order in child orders, finish and report.

A subclass says how much of the parent should be done by now (:meth:`ExecutionAlgo.due_lots`);
this class sends marketable IOC children (``slippage_ticks`` through the touch, never past
``limit_ticks``, at most ``max_child_lots``) whenever what is done falls behind, one child at a
time. Progress is the strategy's own position, which starts flat, so a refused or partly filled
child is simply caught up by the next one.

The schedule ends ``duration_s`` after the start; for ``catch_up_s`` more it takes whatever is
left, then it finishes: the parent is done (``filled``) or the time is up (``deadline``, with the
shortfall). Stopping it early finishes it too (``stopped``). The :class:`ExecutionReport` (fill,
average price, slippage against the mid at arrival, children, refusals) is logged, kept in
:attr:`ExecutionAlgo.report` and shown in its status. Once finished it sends nothing more.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Annotated, Literal, TypeVar

import msgspec

from engine.core.events import Fill, OrderUpdate, Side, Trade
from engine.strategy.base import Params, Strategy
from engine.strategy.context import BookReader
from engine.strategy.orders import PositionTarget

log = logging.getLogger("engine.strategy.execution")

SECOND_NS = 1_000_000_000
CHECK_NS = 100_000_000
"""How often the schedule is looked at, at most (also on every book and trade)."""


class ExecutionParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The parent order and how its children are sent."""

    instrument: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument traded."""
    side: Literal["buy", "sell"] = "buy"
    """The parent's side."""
    total_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000_000)] = 1
    """The parent's size."""
    duration_s: Annotated[int, msgspec.Meta(ge=1, le=7 * 86_400)] = 600
    """How long the schedule runs."""
    catch_up_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 0
    """After the schedule, how long it keeps taking what is left (0: it finishes at once)."""
    limit_ticks: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Worst price accepted: no child buys above it or sells below it (0: none)."""
    slippage_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 5
    """How far through the touch a child may take."""
    max_child_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000_000)] = 1_000_000_000_000
    """The largest child."""


class ExecutionReport(msgspec.Struct, frozen=True, kw_only=True):
    """How a parent order went."""

    side: str
    total_lots: int
    filled_lots: int
    avg_price_ticks: float | None
    """Average fill price; None when nothing filled."""
    arrival_mid_ticks: float | None
    """The mid when it started, or at the first two-sided book after (None if there was none)."""
    slippage_ticks: float | None
    """Average price against the arrival mid, positive when worse (paid more, sold lower)."""
    children: int
    refused: int
    started_ns: int
    finished_ns: int
    reason: str
    """``filled``, ``deadline`` or ``stopped``."""


P = TypeVar("P", bound=ExecutionParams)


class ExecutionAlgo(Strategy[P]):
    """Works one parent order; subclasses give :meth:`due_lots`. See the module docstring."""

    params_type = ExecutionParams

    def __init__(self, name: str, params: P) -> None:
        super().__init__(name, params)
        self.instruments = (params.instrument,)
        self.started_ns = 0
        """Monotonic start time; 0 before ``on_start``."""
        self.arrival_mid: Fraction | None = None
        self.report: ExecutionReport | None = None
        """Set once it finished."""
        self._target: PositionTarget | None = None

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell."""
        return 1 if self.params.side == "buy" else -1

    @property
    def target(self) -> PositionTarget:
        """Its position target (made on first use, once the context is bound)."""
        if self._target is None:
            p = self.params
            self._target = PositionTarget(
                self.ctx, p.instrument, p.max_child_lots, p.slippage_ticks
            )
            self._target.limit_ticks = p.limit_ticks
        return self._target

    def on_params(self, old: P, new: P) -> None:
        """New child settings apply to the next child; the parent's progress stays."""
        target = self._target
        if target is not None:
            target.max_order_lots = new.max_child_lots
            target.slippage_ticks = new.slippage_ticks
            target.limit_ticks = new.limit_ticks

    def filled_lots(self) -> int:
        """Lots of the parent done so far."""
        return self.sign * self.ctx.position(self.params.instrument).net_lots

    def elapsed_ns(self) -> int:
        """Time since the start."""
        return self.ctx.clock.monotonic_ns() - self.started_ns

    def due_lots(self) -> int:
        """Lots of the parent that should be done by now (the subclass's schedule)."""
        raise NotImplementedError

    def min_child_lots(self) -> int:
        """The smallest child worth sending before the schedule ends."""
        return 1

    def on_start(self) -> None:
        """Note the arrival mid and start the schedule."""
        self.started_ns = self.ctx.clock.monotonic_ns()
        self.ctx.set_timer("schedule", min(CHECK_NS, self.params.duration_s * SECOND_NS))
        self._work()

    def _work(self) -> None:
        if self.report is not None:
            return
        p = self.params
        if self.arrival_mid is None:
            book = self.ctx.book(p.instrument)
            mid_x2 = None if book.is_crossed() else book.mid_x2()
            self.arrival_mid = None if mid_x2 is None else Fraction(mid_x2, 2)
        elapsed = self.elapsed_ns()
        filled = self.filled_lots()
        if filled >= p.total_lots:
            self.finish("filled")
            return
        end = p.duration_s * SECOND_NS
        if elapsed >= end + p.catch_up_s * SECOND_NS:
            if not self.ctx.open_orders(p.instrument):
                self.finish("deadline")
            return
        due = p.total_lots if elapsed >= end else min(p.total_lots, self.due_lots())
        if due - filled < self.min_child_lots() and elapsed < end:
            return
        target = self.target
        target.target = self.sign * due
        target.step()

    def finish(self, reason: str) -> ExecutionReport:
        """End the parent: cancel what is open, log and keep the report."""
        p = self.params
        ctx = self.ctx
        ctx.set_timer("schedule", 0)
        ctx.cancel_all(p.instrument)
        held = ctx.position(p.instrument)
        filled = self.sign * held.net_lots
        avg = None if held.avg_entry is None or filled <= 0 else float(held.avg_entry)
        arrival = None if self.arrival_mid is None else float(self.arrival_mid)
        slip = None if avg is None or arrival is None else self.sign * (avg - arrival)
        target = self._target
        self.report = ExecutionReport(
            side=p.side,
            total_lots=p.total_lots,
            filled_lots=filled,
            avg_price_ticks=avg,
            arrival_mid_ticks=arrival,
            slippage_ticks=slip,
            children=target.orders if target else 0,
            refused=target.refused if target else 0,
            started_ns=self.started_ns,
            finished_ns=ctx.clock.monotonic_ns(),
            reason=reason,
        )
        log.warning(
            "execution finished: %s %d of %d lots (%s)",
            p.side,
            filled,
            p.total_lots,
            reason,
            extra={"strategy": self.name, "report": msgspec.to_builtins(self.report)},
        )
        return self.report

    def on_timer(self, name: str, now_ns: int) -> None:
        """Look at the schedule."""
        self._work()

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Look at the schedule."""
        self._work()

    def on_trade(self, trade: Trade) -> None:
        """Look at the schedule."""
        self._work()

    def on_fill(self, fill: Fill) -> None:
        """A child filled (in part): maybe the parent is done."""
        self._work()

    def on_order(self, update: OrderUpdate) -> None:
        """A child ended or was refused."""
        if self.report is None:
            self.target.on_order(update)

    def on_stop(self) -> None:
        """Stopped before it finished: report what was done."""
        if self.report is None and self.started_ns:
            self.finish("stopped")

    def status(self) -> dict[str, object]:
        """Progress, and the report once finished."""
        if self.report is not None:
            return {"done": True, "report": msgspec.to_builtins(self.report)}
        if not self.started_ns:
            return {"done": False}
        return {
            "done": False,
            "filled_lots": self.filled_lots(),
            "due_lots": min(self.params.total_lots, self.due_lots()),
            "total_lots": self.params.total_lots,
        }


def side_of(text: str) -> Side:
    """``buy``/``sell`` as a :class:`Side`."""
    return Side.BUY if text == "buy" else Side.SELL
