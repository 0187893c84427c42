"""A simulated exchange for backtests and paper trading: matching cores behind latency.

:class:`SimulatedExchange` is a discrete-event wrapper around one
:class:`~engine.sim.matching.MatchingCore` per instrument. Two clocks meet here, both integer ns:

* **exchange time**, the cores' clock: market events carry it (``ts`` or the event's ``exch_ts``),
  and a command reaches its core at ``local_ts + entry_ns()``;
* **local time**, ours: a report made at exchange time ``t`` becomes visible to :meth:`poll` at
  ``t + response_ns()``; market data reaches us at :meth:`feed_arrival_ns`.

Rules:

* Commands travel like one connection: they reach the cores in the order they were sent (a later
  command never overtakes an earlier one, whatever the latency drawn); reports come back the same
  way, in the order the cores made them.
* **Tie rule**: before a market event at exchange time ``ts`` is applied, every command that
  arrives at or before ``ts`` is processed. A command arriving in the same nanosecond as a market
  event is matched against the book as it was before that event.
* The exchange clock never goes back: an event older than the last time processed (paper
  trading mixes the venue's clock with ours) is applied at the last time, and counted in
  :attr:`late_events`.
* Call the market-event methods in exchange-time order and :meth:`poll` after feeding every event
  up to ``local_now``; :meth:`poll` processes the commands due by then first. :meth:`next_due_ns`
  says when the next command lands or the next report becomes visible, for a scheduler.

A command for an instrument without a core is answered (after the round trip) with a REJECTED,
CANCEL_REJECTED or REPLACE_REJECTED update naming the instrument.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from engine.core.commands import CancelAll, CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import BookDelta, BookSnapshot, OrderUpdate, OrderUpdateKind, Side, Trade
from engine.sim import SimError
from engine.sim.latency import ConstantLatency, LatencyModel
from engine.sim.matching import Command, MatchingCore, Report


class ExchangeSetupError(SimError):
    """The exchange was built with a core filed under another instrument's id."""


class SimulatedExchange:
    """Matching cores by instrument id, behind a latency model.

    Args:
        cores: one core per dense instrument id (the key must be the core's ``instrument_id``).
        latency: order entry, response and feed latencies; zero latency when omitted.

    Raises:
        ExchangeSetupError: a core is filed under the wrong instrument id.
    """

    def __init__(
        self, cores: Mapping[int, MatchingCore], latency: LatencyModel | None = None
    ) -> None:
        for instrument, core in cores.items():
            if core.instrument_id != instrument:
                raise ExchangeSetupError(
                    f"core for {core.instrument.key} (instrument {core.instrument_id}) "
                    f"filed under instrument {instrument}"
                )
        self.cores = dict(sorted(cores.items()))
        self.latency: LatencyModel = latency if latency is not None else ConstantLatency()
        self._venue = next((c.venue for c in self.cores.values()), "sim")
        self._inbound: deque[tuple[int, Command]] = deque()
        self._outbound: deque[tuple[int, Report]] = deque()
        self._last_arrival = 0
        self._last_visible = 0
        self.now_ns = 0
        """The exchange clock: the latest exchange time processed."""
        self.late_events = 0
        """Market events older than the exchange clock (applied at the clock's time)."""

    # ---------------------------------------------------------------- our side

    def send(self, command: Command, local_ts: int) -> int:
        """Send a command at local time ``local_ts``; returns when it reaches its core."""
        arrival = local_ts + self.latency.entry_ns()
        if arrival < self._last_arrival:
            arrival = self._last_arrival
        self._last_arrival = arrival
        self._inbound.append((arrival, command))
        return arrival

    def poll(self, local_now: int) -> list[Report]:
        """Reports visible by local time ``local_now``, in order; commands due by then run first."""
        self.advance(local_now)
        outbound = self._outbound
        out: list[Report] = []
        while outbound and outbound[0][0] <= local_now:
            out.append(outbound.popleft()[1])
        return out

    def next_due_ns(self) -> int | None:
        """When the next command reaches a core or the next report becomes visible, or None."""
        inbound, outbound = self._inbound, self._outbound
        if inbound:
            lands = inbound[0][0]
            if outbound and outbound[0][0] < lands:
                return outbound[0][0]
            return lands
        return outbound[0][0] if outbound else None

    def due_by(self, local_now: int) -> bool:
        """Is a command due at a core, or a report visible, by local time ``local_now``?"""
        inbound, outbound = self._inbound, self._outbound
        return bool(
            (inbound and inbound[0][0] <= local_now) or (outbound and outbound[0][0] <= local_now)
        )

    def feed_arrival_ns(self, exch_ts: int) -> int:
        """Local time at which market data stamped ``exch_ts`` reaches us."""
        return exch_ts + self.latency.feed_ns()

    @property
    def pending_commands(self) -> int:
        """Commands sent that have not reached a core yet."""
        return len(self._inbound)

    @property
    def pending_reports(self) -> int:
        """Reports made that are not visible yet."""
        return len(self._outbound)

    # ---------------------------------------------------------------- the venue's side

    def advance(self, ts: int) -> None:
        """Process every command that reaches the matching engine at or before ``ts``."""
        inbound = self._inbound
        while inbound and inbound[0][0] <= ts:
            arrival, command = inbound.popleft()
            at = self._clock(arrival)
            self._emit(at, self._route(command, at))

    def on_level(self, instrument: int, side: Side, price: int, size: int, ts: int) -> None:
        """One level's new absolute size at exchange time ``ts``."""
        core = self.cores.get(instrument)
        if core is not None:
            at = self._before_event(ts)
            self._emit(at, core.on_level(side, price, size, at))

    def on_delta(self, delta: BookDelta) -> None:
        """A book delta at its ``exch_ts``."""
        core = self.cores.get(delta.instrument)
        if core is not None:
            at = self._before_event(delta.exch_ts)
            d = delta
            self._emit(at, core.on_delta(d.bid_px, d.bid_sz, d.ask_px, d.ask_sz, at))

    def on_snapshot(self, snapshot: BookSnapshot) -> None:
        """A full book at its ``exch_ts``."""
        core = self.cores.get(snapshot.instrument)
        if core is not None:
            at = self._before_event(snapshot.exch_ts)
            s = snapshot
            self._emit(at, core.on_snapshot(s.bid_px, s.bid_sz, s.ask_px, s.ask_sz, at))

    def on_trade(self, trade: Trade) -> None:
        """A public trade at its ``exch_ts``."""
        core = self.cores.get(trade.instrument)
        if core is not None:
            at = self._before_event(trade.exch_ts)
            self._emit(at, core.on_trade(trade.price, trade.size, trade.aggressor, at))

    # ---------------------------------------------------------------- plumbing

    def _before_event(self, ts: int) -> int:
        self.advance(ts)
        return self._clock(ts)

    def _clock(self, ts: int) -> int:
        if ts < self.now_ns:
            self.late_events += 1
            return self.now_ns
        self.now_ns = ts
        return ts

    def _route(self, command: Command, at: int) -> list[Report]:
        if isinstance(command, CancelAll):  # each core answers only for its own instrument (or -1)
            return [r for core in self.cores.values() for r in core.cancel_all(command, at)]
        core = self.cores.get(command.instrument)
        if core is not None:
            return core.handle(command, at)
        return [self._unknown_instrument(command, at)]

    def _unknown_instrument(
        self, command: SubmitOrder | CancelOrder | ReplaceOrder, at: int
    ) -> OrderUpdate:
        kind = OrderUpdateKind.REJECTED
        if isinstance(command, CancelOrder):
            kind = OrderUpdateKind.CANCEL_REJECTED
        elif isinstance(command, ReplaceOrder):
            kind = OrderUpdateKind.REPLACE_REJECTED
        return OrderUpdate(
            venue=self._venue,
            instrument=command.instrument,
            client_order_id=command.client_order_id,
            kind=kind,
            reason=f"Unknown instrument {command.instrument}: no matching core for it.",
            exch_ts=at,
        )

    def _emit(self, at: int, reports: list[Report]) -> None:
        if not reports:
            return
        visible = at + self.latency.response_ns()
        if visible < self._last_visible:
            visible = self._last_visible
        self._last_visible = visible
        self._outbound.extend((visible, report) for report in reports)
