"""Paper trading: a gateway whose venue is the matching core, fed by the live book.

:class:`PaperGateway` implements :class:`~engine.venues.base.Gateway` on a
:class:`~engine.sim.exchange.SimulatedExchange`. Every diff the feed applies to a live book and
every public trade goes to the exchange's core for that instrument, so our resting orders queue
behind the size that was really there and fill as the real market trades through them; our
orders reach the core after the configured entry latency and its answers come back after the
response latency. Everything above the gateway (risk, OMS, journal, breaker) is exactly the
production path, so paper mode runs the same checks as live.

One clock: market events are applied at the time they reached us (``recv_ts``), which is also
the clock our commands are stamped with, so a command never lands "before" data we had already
seen. A scheduler task delivers reports when they become visible, between market events too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Mapping

import msgspec
import numpy as np

from engine.core.clock import Clock
from engine.core.commands import CancelAll, CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import BookDelta, BookSnapshot, Fill, OrderUpdateKind, Trade
from engine.core.instruments import Instrument
from engine.sim.exchange import SimulatedExchange
from engine.sim.matching import Command
from engine.venues.base import GatewayListener, GatewayStats, VenueOrder, VenuePosition

log = logging.getLogger("engine.paper")

_REJECTS = frozenset(
    {
        OrderUpdateKind.REJECTED,
        OrderUpdateKind.CANCEL_REJECTED,
        OrderUpdateKind.REPLACE_REJECTED,
    }
)


class PaperGateway:
    """Orders matched in-process against the live book.

    Args:
        instruments: the instruments traded (one core each inside ``exchange``).
        listener: the OMS.
        clock: the engine's wall clock (commands and market events are stamped with it).
        exchange: the matching cores and latency model.
    """

    def __init__(
        self,
        instruments: Iterable[Instrument],
        listener: GatewayListener,
        clock: Clock,
        exchange: SimulatedExchange,
    ) -> None:
        self.instruments = {i.instrument_id: i for i in instruments}
        self.venue = next(iter(self.instruments.values())).venue
        self.listener = listener
        self.clock = clock
        self.exchange = exchange
        self.stats = GatewayStats()
        #: trade and order ids restart at 1 with every core; this run's prefix keeps them unique
        #: across restarts, so a replayed fill is never mistaken for a new one (or vice versa)
        self._run = f"P{clock.time_ns():x}"
        self._wake = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start delivering reports; the link is healthy from here on."""
        self.stats.healthy = True
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(), name="paper")

    async def stop(self) -> None:
        """Stop delivering; commands still in flight are abandoned with the process."""
        self.stats.healthy = False
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump_task
            self._pump_task = None

    # ---- orders ------------------------------------------------------------------------------

    def submit(self, order: SubmitOrder) -> None:
        """Send a new order to the core."""
        self._send(order)

    def cancel(self, cancel: CancelOrder) -> None:
        """Ask the core to cancel an order."""
        self._send(cancel)

    def replace(self, replace: ReplaceOrder) -> None:
        """Ask the core to change an order."""
        self._send(replace)

    async def cancel_all(self, instrument: int = -1) -> None:
        """Cancel every open order (on one instrument or all) and wait for the core's answers."""
        self._send(CancelAll(instrument=instrument, reason="cancel-all"))
        await self._settled()

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the cores hold open, once the commands in flight have landed."""
        await self._settled()
        return [
            VenueOrder(
                instrument=iid,
                client_order_id=v.client_order_id,
                venue_order_id=f"{self._run}-{v.venue_order_id}",
                side=v.side,
                price_ticks=v.price,
                size_lots=v.size,
                filled_lots=v.filled,
                order_type=v.order_type,
                time_in_force=v.time_in_force,
            )
            for iid, core in self.exchange.cores.items()
            for v in core.open_orders()
        ]

    def queue_ahead(self) -> dict[str, int]:
        """Public lots ahead of each of our resting limit orders in its level's queue, by client id.

        The cores' own estimate (the configured queue model), as of the last market event.
        """
        return {
            v.client_order_id: v.ahead
            for core in self.exchange.cores.values()
            for v in core.open_orders()
            if v.price
        }

    async def positions(self) -> list[VenuePosition]:
        """The cores' net positions, built from their own fills."""
        await self._settled()
        return [
            VenuePosition(instrument=iid, net_lots=core.position_lots)
            for iid, core in self.exchange.cores.items()
        ]

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """The core's record of one order (open or recently finished), or None."""
        await self._settled()
        core = self.exchange.cores.get(instrument)
        view = core.order(client_order_id) if core is not None else None
        if view is None:
            return None
        return VenueOrder(
            instrument=instrument,
            client_order_id=view.client_order_id,
            venue_order_id=f"{self._run}-{view.venue_order_id}",
            side=view.side,
            price_ticks=view.price,
            size_lots=view.size,
            filled_lots=view.filled,
            order_type=view.order_type,
            time_in_force=view.time_in_force,
            open=view.leaves > 0,
        )

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Nothing to recover: the paper venue's fills reach the OMS in-process as they happen.

        Its orders and fills die with the process; the journal keeps what was booked.
        """
        return []

    def _send(self, command: Command) -> None:
        self.exchange.send(command, self.clock.time_ns())
        self.stats.requests += 1
        self._wake.set()

    async def _settled(self) -> None:
        """Wait until every command sent has landed and every report made has been delivered."""
        exchange = self.exchange
        while exchange.pending_commands or exchange.pending_reports:
            due = exchange.next_due_ns()
            delay = 0.0 if due is None else max(0, due - self.clock.time_ns()) / 1e9
            await asyncio.sleep(delay)
            self._deliver()

    # ---- market data -------------------------------------------------------------------------

    def on_snapshot(
        self, instrument: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]
    ) -> None:
        """A book went live: the core's mirror starts from its whole image."""
        if instrument not in self.exchange.cores:
            return
        now = self.clock.time_ns()
        snapshot = BookSnapshot(
            instrument=instrument,
            update_id=0,
            bid_px=np.array([p for p, _ in bids], dtype=np.int64),
            bid_sz=np.array([s for _, s in bids], dtype=np.int64),
            ask_px=np.array([p for p, _ in asks], dtype=np.int64),
            ask_sz=np.array([s for _, s in asks], dtype=np.int64),
            exch_ts=now,
            recv_ts=now,
        )
        self.exchange.on_snapshot(snapshot)
        self._deliver()

    def on_delta(self, delta: BookDelta) -> None:
        """A diff applied to a live book."""
        if delta.instrument not in self.exchange.cores:
            return
        self.exchange.on_delta(msgspec.structs.replace(delta, exch_ts=self._stamp(delta.recv_ts)))
        self._deliver()

    def on_trade(self, trade: Trade) -> None:
        """A public trade."""
        if trade.instrument not in self.exchange.cores:
            return
        self.exchange.on_trade(msgspec.structs.replace(trade, exch_ts=self._stamp(trade.recv_ts)))
        self._deliver()

    def _stamp(self, recv_ts: int) -> int:
        return recv_ts or self.clock.time_ns()

    # ---- reports -----------------------------------------------------------------------------

    def _deliver(self) -> None:
        reports = self.exchange.poll(self.clock.time_ns())
        listener = self.listener
        run = self._run
        for report in reports:
            venue_id = f"{run}-{report.venue_order_id}" if report.venue_order_id else ""
            if isinstance(report, Fill):
                listener.on_fill(
                    msgspec.structs.replace(
                        report, trade_id=f"{run}-{report.trade_id}", venue_order_id=venue_id
                    )
                )
            else:
                if report.kind in _REJECTS:
                    self.stats.rejects += 1
                listener.on_order_update(msgspec.structs.replace(report, venue_order_id=venue_id))
        if reports:
            self._wake.set()

    async def _pump(self) -> None:
        """Deliver reports when they become visible, also while no market data arrives."""
        exchange = self.exchange
        while True:
            self._wake.clear()
            due = exchange.next_due_ns()
            if due is None:
                await self._wake.wait()
                continue
            delay = max(0, due - self.clock.time_ns()) / 1e9
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            try:
                self._deliver()
            except Exception:  # a listener bug must not stop paper trading
                log.exception("delivering paper reports failed")
