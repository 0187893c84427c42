"""The strategy runner: dispatches events to strategies, flushes their actions, isolates them.

```
book / trade / book state ─► strategies following the instrument
gateway ─► StrategyListener ─► OMS first ─► the order's own strategy (on_order, on_fill)
run_timers(now) ───────────► due timers ─► on_timer
each callback ─► context.flush() ─► OMS ─► risk pipeline ─► gateway
```

A callback that raises stops its strategy: its buffered actions are dropped, its open orders
canceled and a critical alert raised through the OMS; the other strategies and the engine go on.
Each callback (with the flush, so the risk checks of what it sent are included) is timed; p50 and
p99 are in :meth:`StrategyRunner.stats`, and a callback past the budget is counted and reported
(an alert the first time, then at every power of ten).

A callback that never returns is interrupted by the watchdog (:mod:`engine.strategy.watchdog`)
past ``watchdog_factor`` times the budget and its strategy is stopped the same way.

A strategy's module can be reloaded (:mod:`engine.strategy.reload`): :meth:`StrategyRunner.replace`
stops the old instance in order, cancels its orders and starts the new one flat (its own position
starts at zero; the account's position stays with the engine, it is not handed over).

Events that arrive while a callback runs (a gateway answering synchronously) wait in a queue and
are dispatched in order when it returns, so a strategy never sees itself re-entered.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec

from engine.book.order_book import OrderBook
from engine.core.clock import Clock
from engine.core.events import AlertLevel, Fill, OrderUpdate, Trade
from engine.oms.manager import OrderManager
from engine.oms.positions import Portfolio
from engine.strategy.base import Params, Strategy, change_params
from engine.strategy.context import StrategyContext
from engine.strategy.watchdog import DEFAULT_FACTOR, CallbackHung, Watchdog

log = logging.getLogger("engine.strategy")

DEFAULT_BUDGET_NS = 5_000_000
"""A callback running longer than this (5 ms) is reported."""
SAMPLES = 4096
CPU_EVERY = 8
"""Every this many callbacks one also has its CPU time measured: the thread CPU clock costs
about 0.5 us a read here against 0.1 us for the wall clock, so sampling keeps it off most calls."""
"""Callback times kept per strategy for the percentiles."""
MAX_FEEDBACK_ROUNDS = 8
"""Refusal -> on_order -> new action rounds allowed per event, so a resubmit loop ends."""


class CallbackStats(msgspec.Struct, frozen=True, kw_only=True):
    """One strategy's callback times (dispatch, callback and flush through risk)."""

    name: str
    running: bool
    callbacks: int
    p50_ns: int
    p99_ns: int
    max_ns: int
    cpu_p50_ns: int = 0
    """The engine thread's CPU time in a callback (every ``CPU_EVERY``-th one is measured)."""
    cpu_p99_ns: int = 0
    over_budget: int
    """Callbacks that ran past the budget."""
    error: str
    """Why it was stopped after raising; empty otherwise."""
    sent: int
    refused: int


class _Slot:
    """A strategy with its context, timers and timings."""

    __slots__ = (
        "calls",
        "cpu_samples",
        "ctx",
        "error",
        "max_ns",
        "over",
        "running",
        "samples",
        "strategy",
        "timers",
    )

    def __init__(self, strategy: Strategy[Any], ctx: StrategyContext) -> None:
        self.strategy = strategy
        self.ctx = ctx
        self.running = False
        self.error = ""
        self.samples: deque[int] = deque(maxlen=SAMPLES)
        """Wall time of the latest callbacks: what the budget and the event loop see."""
        self.cpu_samples: deque[int] = deque(maxlen=SAMPLES // CPU_EVERY)
        """CPU time of every ``CPU_EVERY``-th callback (time the loop lost to other work is not
        in it)."""
        self.calls = 0
        self.max_ns = 0
        self.over = 0
        self.timers: dict[str, list[int]] = {}
        """name -> [interval_ns, due monotonic ns]."""


class StrategyRunner:
    """Runs several strategies side by side, each with its own orders and positions.

    Args:
        oms: the order manager (every action goes through it; alerts are raised on it).
        books: the engine's books by instrument id.
        clock: the engine's clock (timers run on its monotonic time).
        halted: True while trading is halted.
        budget_ns: a callback longer than this is reported.
        timer: the CPU-time source for callback timings (nanoseconds).
        watchdog_factor: a callback running past this many budgets is interrupted and its
            strategy stopped; 0 turns the watchdog off.
    """

    def __init__(
        self,
        oms: OrderManager,
        books: Mapping[int, OrderBook],
        clock: Clock,
        *,
        halted: Callable[[], bool] = lambda: False,
        budget_ns: int = DEFAULT_BUDGET_NS,
        timer: Callable[[], int] = time.perf_counter_ns,
        watchdog_factor: int = DEFAULT_FACTOR,
    ) -> None:
        self.oms = oms
        self.books = books
        self.clock = clock
        self.halted = halted
        self.budget_ns = budget_ns
        self._timer = timer
        self._slots: dict[str, _Slot] = {}
        self._owner: dict[str, _Slot] = {}
        self._queue: deque[Callable[[], None]] = deque()
        self._busy = False
        self.watchdog = Watchdog(budget_ns * watchdog_factor) if watchdog_factor > 0 else None
        """Interrupts a callback that never returns; None when turned off."""

    # ---- lifecycle ----------------------------------------------------------------------------

    def add(self, strategy: Strategy[Any]) -> StrategyContext:
        """Give ``strategy`` its context (its own portfolio); it starts with :meth:`start`.

        Raises:
            ValueError: a strategy of that name is already added.
        """
        if strategy.name in self._slots:
            raise ValueError(f"strategy {strategy.name} is already running")
        portfolio = Portfolio(self.oms.instruments.values(), self.clock)
        slot: _Slot

        def set_timer(name: str, interval_ns: int) -> None:
            if interval_ns == 0:
                slot.timers.pop(name, None)
            else:
                slot.timers[name] = [interval_ns, self.clock.monotonic_ns() + interval_ns]

        ctx = StrategyContext(
            strategy.name, self.oms, self.books, portfolio, self.clock, self.halted, set_timer
        )
        slot = _Slot(strategy, ctx)
        self._slots[strategy.name] = slot
        strategy.bind(ctx)
        return ctx

    def start(self, name: str | None = None) -> None:
        """Call ``on_start`` of one strategy, or of every one not yet running."""
        for slot in self._pick(name):
            if not slot.running and not slot.error:
                slot.running = True
                self._call(slot, slot.strategy.on_start)

    def stop(self, name: str | None = None, reason: str = "stopped") -> bool:
        """Stop one strategy or all in order: ``on_stop``, then its open orders are canceled.

        Returns:
            False when none of them was running.

        Raises:
            KeyError: no strategy of that name.
        """
        stopped = False
        for slot in self._pick(name):
            if slot.running:
                stopped = True
                self._call(slot, slot.strategy.on_stop)
                slot.running = False
                slot.ctx.active = False
                slot.ctx.discard()
                slot.ctx.cancel_now(f"strategy {slot.strategy.name} {reason}")
                log.info("strategy stopped", extra={"strategy": slot.strategy.name})
        return stopped

    def resume(self, name: str) -> bool:
        """Start a stopped strategy again, also one stopped after it raised (its error is cleared).

        Returns:
            False when it was already running.

        Raises:
            KeyError: no strategy of that name.
        """
        slot = self._slots[name]
        if slot.running:
            return False
        slot.error = ""
        slot.ctx.active = True
        self.start(name)
        return True

    def replace(self, strategy: Strategy[Any], reason: str = "reloaded") -> None:
        """Swap the running strategy of the same name for ``strategy``, which starts flat.

        The old one is stopped in order (``on_stop``, its open orders canceled); late reports of
        its orders stay with it. The new one gets a new context and its own empty portfolio, and
        starts at once unless the old one was stopped by hand.

        Raises:
            KeyError: no strategy of that name.
        """
        old = self._slots[strategy.name]
        was_running = old.running or bool(old.error)
        self.stop(strategy.name, reason)
        old.ctx.active = False
        old.timers.clear()
        del self._slots[strategy.name]
        self.add(strategy)
        if was_running:
            self.start(strategy.name)

    def close(self) -> None:
        """Stop the watchdog thread (at engine shutdown). Idempotent."""
        if self.watchdog is not None:
            self.watchdog.close()

    def _pick(self, name: str | None) -> list[_Slot]:
        return list(self._slots.values()) if name is None else [self._slots[name]]

    def names(self) -> list[str]:
        """The strategies added, in the order they were added."""
        return list(self._slots)

    def owner(self, client_order_id: str) -> str:
        """The name of the strategy that sent the order; empty for an order none of them sent."""
        slot = self._owner.get(client_order_id)
        return slot.strategy.name if slot is not None else ""

    def strategy(self, name: str) -> Strategy[Any]:
        """The strategy of that name.

        Raises:
            KeyError: none is added under that name.
        """
        return self._slots[name].strategy

    # ---- parameters ---------------------------------------------------------------------------

    def set_params(self, name: str, changes: Mapping[str, Any]) -> Params:
        """Check and apply parameter changes, then call ``on_params``; logs old -> new.

        Raises:
            ParamsError: a value is refused; the old parameters stay in force.
            KeyError: no strategy of that name.
        """
        slot = self._slots[name]
        old = slot.strategy.params
        new = change_params(old, changes, name)
        slot.strategy.params = new
        log.warning(
            "strategy parameters changed",
            extra={"strategy": name, "old": repr(old), "new": repr(new)},
        )
        self._call(slot, slot.strategy.on_params, old, new)
        result: Params = new
        return result

    # ---- events -------------------------------------------------------------------------------

    def on_book(self, instrument: int) -> None:
        """A book changed: every running strategy following it gets ``on_book``."""
        for slot in self._slots.values():
            follows = slot.strategy.instruments
            if slot.running and (not follows or instrument in follows):
                self._call(slot, slot.strategy.on_book, instrument, slot.ctx.book(instrument))

    def on_book_state(self, instrument: int, state: str) -> None:
        """A book's state changed: every running strategy following it gets ``on_book_state``."""
        for slot in self._slots.values():
            follows = slot.strategy.instruments
            if slot.running and (not follows or instrument in follows):
                self._call(slot, slot.strategy.on_book_state, instrument, state)

    def on_trade(self, trade: Trade) -> None:
        """A public trade: every running strategy following its instrument gets ``on_trade``."""
        for slot in self._slots.values():
            follows = slot.strategy.instruments
            if slot.running and (not follows or trade.instrument in follows):
                self._call(slot, slot.strategy.on_trade, trade)

    def on_order_update(self, update: OrderUpdate) -> None:
        """An update the OMS applied: the order's strategy gets ``on_order``."""
        slot = self._owner.get(update.client_order_id)
        if slot is not None and slot.running:
            self._call(slot, slot.strategy.on_order, update)

    def on_fill(self, fill: Fill) -> None:
        """A fill the OMS booked: into the strategy's own position, then ``on_fill``."""
        slot = self._owner.get(fill.client_order_id)
        if slot is None or not slot.ctx.apply_fill(fill):
            return
        if slot.running:
            self._call(slot, slot.strategy.on_fill, fill)

    def run_timers(self) -> int:
        """Fire every due timer (call often: the engine's housekeeping, a backtest's replay).

        Returns:
            How many timers fired.
        """
        now = self.clock.monotonic_ns()
        fired = 0
        for slot in list(self._slots.values()):
            for name, timer in list(slot.timers.items()):
                if slot.running and timer[1] <= now:
                    interval = timer[0]
                    timer[1] = now + interval - (now - timer[1]) % interval
                    fired += 1
                    self._call(slot, slot.strategy.on_timer, name, self.clock.time_ns())
        return fired

    # ---- dispatch -----------------------------------------------------------------------------

    def _call(self, slot: _Slot, fn: Callable[..., None], *args: object) -> None:
        if self._busy:
            self._queue.append(lambda: self._call(slot, fn, *args))
            return
        self._busy = True
        try:
            self._run(slot, fn, args)
        finally:
            self._busy = False
        while self._queue:
            self._queue.popleft()()

    def _run(self, slot: _Slot, fn: Callable[..., None], args: tuple[object, ...]) -> None:
        timer = self._timer
        slot.calls += 1
        cpu_start = time.thread_time_ns() if slot.calls % CPU_EVERY == 0 else -1
        start = timer()
        ctx = slot.ctx
        try:
            try:
                self._guarded(slot, fn, args)
                for _ in range(MAX_FEEDBACK_ROUNDS):
                    refusals = self._flush(slot)
                    if not refusals or not slot.running:
                        break
                    for update in refusals:
                        self._guarded(slot, slot.strategy.on_order, (update,))
                else:
                    dropped = ctx.discard()
                    log.warning(
                        "strategy kept answering refusals with new orders; actions dropped",
                        extra={"strategy": slot.strategy.name, "dropped": dropped},
                    )
            except Exception as exc:  # a strategy's bug must not take the engine down
                self._crash(slot, exc)
        except CallbackHung:
            self._settle_watchdog()
            callback = getattr(fn, "__name__", "callback")
            limit = self.watchdog.limit_ns if self.watchdog is not None else 0
            hung = CallbackHung(f"{callback} never returned; interrupted after {limit / 1e6:g} ms")
            self._crash(slot, hung)
        elapsed = timer() - start
        if cpu_start >= 0:
            slot.cpu_samples.append(time.thread_time_ns() - cpu_start)
        slot.samples.append(elapsed)
        slot.max_ns = max(slot.max_ns, elapsed)
        if elapsed > self.budget_ns:
            self._over_budget(slot, getattr(fn, "__name__", "callback"), elapsed)

    def _guarded(self, slot: _Slot, fn: Callable[..., None], args: tuple[object, ...]) -> None:
        """Run the strategy's own code with the watchdog armed (not the flush through risk)."""
        dog = self.watchdog
        if dog is None:
            fn(*args)
            return
        dog.arm(slot.strategy.name)
        try:
            fn(*args)
        finally:
            if dog.disarm():
                raise CallbackHung  # fired but not delivered yet: it is still past its limit

    def _settle_watchdog(self) -> None:
        """Disarm for certain: an interruption delivered before disarming must not escape."""
        while self.watchdog is not None:
            try:
                self.watchdog.disarm()
                return
            except CallbackHung:  # delivered inside disarm itself; the next call clears it
                continue

    def _flush(self, slot: _Slot) -> Sequence[OrderUpdate]:
        refusals = slot.ctx.flush()
        for cid in slot.ctx.take_sent():
            self._owner[cid] = slot
        return refusals

    def _crash(self, slot: _Slot, exc: BaseException) -> None:
        name = slot.strategy.name
        slot.running = False
        slot.error = f"{type(exc).__name__}: {exc}"
        slot.ctx.discard()
        slot.ctx.active = False
        log.exception("strategy raised; stopped", extra={"strategy": name})
        canceled = slot.ctx.cancel_now(f"strategy {name} raised")
        self.oms.alert(
            AlertLevel.CRITICAL,
            f"strategy:{name}",
            f"strategy {name} raised {slot.error}; stopped, {canceled} open orders canceled",
        )

    def _over_budget(self, slot: _Slot, callback: str, elapsed: int) -> None:
        slot.over += 1
        name = slot.strategy.name
        log.warning(
            "strategy callback over budget",
            extra={"strategy": name, "callback": callback, "ns": elapsed, "count": slot.over},
        )
        if _power_of_ten(slot.over):
            self.oms.alert(
                AlertLevel.WARNING,
                f"strategy:{name}",
                f"strategy {name}: {callback} took {elapsed / 1e6:.3f} ms, budget "
                f"{self.budget_ns / 1e6:.3f} ms ({slot.over} over budget so far)",
            )

    # ---- figures ------------------------------------------------------------------------------

    def stats(self) -> list[CallbackStats]:
        """Every strategy's callback figures, for /status, /metrics and the TUI."""
        out = []
        for name, slot in self._slots.items():
            ordered = sorted(slot.samples)
            n = len(ordered)
            cpu = sorted(slot.cpu_samples)
            m = len(cpu)
            out.append(
                CallbackStats(
                    name=name,
                    running=slot.running,
                    callbacks=n,
                    p50_ns=ordered[n // 2] if n else 0,
                    p99_ns=ordered[min(n - 1, n * 99 // 100)] if n else 0,
                    max_ns=slot.max_ns,
                    cpu_p50_ns=cpu[m // 2] if m else 0,
                    cpu_p99_ns=cpu[min(m - 1, m * 99 // 100)] if m else 0,
                    over_budget=slot.over,
                    error=slot.error,
                    sent=slot.ctx.sent,
                    refused=slot.ctx.refused,
                )
            )
        return out

    def reset_stats(self) -> None:
        """Forget the callback times so far (a new measuring window); counts of errors stay."""
        for slot in self._slots.values():
            slot.samples.clear()
            slot.cpu_samples.clear()
            slot.max_ns = 0

    def listener(self) -> StrategyListener:
        """The gateway listener to give gateways: the OMS first, then the strategies."""
        return StrategyListener(self.oms, self)


def _power_of_ten(n: int) -> bool:
    while n % 10 == 0:
        n //= 10
    return n == 1


class StrategyListener:
    """A gateway listener that lets the OMS apply each report, then tells the order's strategy.

    A report the OMS ignored (a duplicate, an anomaly) is not passed on; a fill reaches the
    strategy once, when it is first booked into the strategy's own position.

    Args:
        oms: the order manager, which applies every report first.
        runner: the strategies to tell.
    """

    def __init__(self, oms: OrderManager, runner: StrategyRunner) -> None:
        self.oms = oms
        self.runner = runner

    def on_order_update(self, update: OrderUpdate) -> None:
        """Apply the update, then dispatch it if it changed the order."""
        order = self.oms.orders.get(update.client_order_id)
        before = len(order.history) if order is not None else -1
        self.oms.on_order_update(update)
        if order is not None and len(order.history) != before:
            self.runner.on_order_update(update)

    def on_fill(self, fill: Fill) -> None:
        """Book the fill, then dispatch it."""
        self.oms.on_fill(fill)
        self.runner.on_fill(fill)

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        """The OMS alone handles link health."""
        self.oms.on_gateway_link(venue, healthy, reason)
