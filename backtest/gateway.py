"""The backtest's gateway: the paper gateway on the simulated clock, driven by the replay.

:class:`BacktestGateway` is :class:`~engine.sim.paper.PaperGateway` (the same matching cores,
latency model and report translation as paper trading) without its asyncio pump: the replay
tells it when market events reach the venue (:meth:`on_market`) and when reports are due
(:meth:`deliver`), on the backtest's :class:`~engine.core.clock.SimClock`. Commands are stamped
with that clock, so the order latency and the queue position come from the matching core exactly
as in paper mode. Nothing here waits: the awaitable queries answer from the cores at once.
"""

from __future__ import annotations

import msgspec

from backtest.source import MarketEvent
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.sim.paper import PaperGateway


class BacktestGateway(PaperGateway):
    """Paper matching driven by the replay's clock; see the module docstring."""

    async def start(self) -> None:
        """The link is healthy from the start; reports are delivered by :meth:`deliver`."""
        self.stats.healthy = True

    async def stop(self) -> None:
        """Nothing runs in the background."""
        self.stats.healthy = False

    def next_due_ns(self) -> int | None:
        """When the next command reaches a core or the next report becomes visible, or None."""
        return self.exchange.next_due_ns()

    def deliver(self) -> None:
        """Hand the reports visible by the clock's time to the listener (commands due run first)."""
        self._deliver()

    async def _settled(self) -> None:
        """In simulated time nothing more lands by waiting: deliver what is due now."""
        self._deliver()

    def on_market(self, ts: int, event: MarketEvent) -> None:
        """A market event reaches the venue at replay time ``ts``; reports due are delivered."""
        exchange = self.exchange
        if isinstance(event, BookDelta):
            if event.exch_ts != ts:
                event = msgspec.structs.replace(event, exch_ts=ts)
            exchange.on_delta(event)
        elif isinstance(event, Trade):
            if event.exch_ts != ts:
                event = msgspec.structs.replace(event, exch_ts=ts)
            exchange.on_trade(event)
        elif isinstance(event, BookSnapshot):
            if event.exch_ts != ts:
                event = msgspec.structs.replace(event, exch_ts=ts)
            exchange.on_snapshot(event)
        if exchange.due_by(self.clock.time_ns()):
            self._deliver()
