"""Reconciliation: the venue is the truth, at start and after every reconnect.

In order, for one venue:

1. orders sent but never acknowledged are looked up (``order_status``): the venue took them and
   they are accepted, or it never saw them and they are rejected;
2. the venue's fills since our oldest open order was sent (a minute of margin) are booked
   (``fills_since``); one already booked changes nothing;
3. open orders are matched (``open_orders``): the venue's unknown ones adopted, ours it lacks
   closed, the link healthy again (:meth:`OrderManager.reconcile_orders`);
4. positions are compared (``positions``): a difference above ``max_position_diff`` raises a
   critical alert and trips the breaker. Spot balances (``inventory``) are measured from the
   :class:`~engine.oms.baseline.InventoryBaseline`, allowing for commissions taken in the base
   asset, with one lot of dust.

A venue that does not answer is asked again with backoff; orders stay held meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal

from engine.core.events import AlertLevel, Fill
from engine.core.instruments import Instrument
from engine.oms.baseline import InventoryBaseline
from engine.oms.manager import OrderManager
from engine.oms.order import OrderStatus
from engine.oms.positions import Portfolio
from engine.venues.base import Gateway, VenuePosition

log = logging.getLogger("engine.oms")

_MARGIN_NS = 60 * 1_000_000_000
"""How far before the oldest open order the venue's fills are asked for."""


class Reconciler:
    """Reconciliation of one engine's orders and positions with its venues.

    Args:
        oms: the orders and their journal.
        portfolio: our positions.
        baseline: spot inventory held before this engine traded.
        max_position_diff: the largest difference (base currency text) corrected quietly.
        trip: trips the circuit breaker with a reason.
    """

    def __init__(
        self,
        oms: OrderManager,
        portfolio: Portfolio,
        baseline: InventoryBaseline,
        *,
        max_position_diff: str,
        trip: Callable[[str], None],
    ) -> None:
        self.oms = oms
        self.portfolio = portfolio
        self.baseline = baseline
        self._max_diff = max_position_diff
        self._trip = trip

    async def run(self, gateway: Gateway) -> None:
        """Make our open orders and positions agree with the venue's (the venue is the truth).

        A position difference above ``max_position_diff`` trips the breaker. Until the venue
        answers (retried with backoff) no order is sent on its link.
        """
        delay = 0.5
        while True:
            try:
                missed = await self._missed_fills(gateway)
                # Only orders acknowledged before the venue's list was taken can be missing from
                # it; one acknowledged while the list (or the positions after it) was on its way
                # is open at the venue but not in the list.
                acked = self.oms.acknowledged(gateway.venue)
                theirs = await gateway.open_orders()
                positions = await gateway.positions()
                break
            except Exception as exc:  # the venue decides when it answers; keep orders held
                self.oms.reconcile_failed(gateway.venue, repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        for fill in missed:
            self.oms.on_fill(fill)  # one already booked changes nothing
        adopted, closed = self.oms.reconcile_orders(gateway.venue, theirs, acked)
        # Spot balances are cut to whole lots and base-asset commissions rounded to lots, so an
        # inventory position may differ by one lot of dust without anything being wrong.
        dust = {p.instrument: 1 for p in positions if p.inventory}
        threshold = {
            i.instrument_id: _lots_or_zero(i, self._max_diff) + dust.get(i.instrument_id, 0)
            for i in self.oms.instruments.values()
        }
        problems = self.oms.position_mismatches(
            gateway.venue, self._venue_positions(positions), threshold
        )
        log.info(
            "reconciled",
            extra={"venue": gateway.venue, "adopted": adopted, "closed": closed},
        )
        if problems:
            self.oms.alert(
                AlertLevel.CRITICAL,
                "reconcile",
                f"{gateway.venue}: position differs from the venue's: {'; '.join(problems)}",
            )
            self._trip(f"reconciliation mismatch: {'; '.join(problems)}")

    async def _missed_fills(self, gateway: Gateway) -> list[Fill]:
        """The venue's fills of our open orders since the oldest was sent (a minute of margin).

        These are fills the engine may not have seen: while it was down, or while the user
        stream was lost. Nothing is asked when no order of ours is open on the venue.
        """
        mine = [o for o in self.oms.open_orders() if o.venue == gateway.venue]
        if not mine:
            return []
        for order in mine:
            if order.status is OrderStatus.SUBMITTED and not order.venue_order_id:
                # Sent, never acknowledged: the venue took it (maybe filled it) or never saw it.
                found = await gateway.order_status(order.instrument, order.client_order_id)
                self.oms.resolve_unacknowledged(order, found)
        since = min(o.history[0].ts_ns for o in mine if o.history) - _MARGIN_NS
        client_of = {
            o.venue_order_id: o.client_order_id
            for o in self.oms.orders.values()
            if o.venue == gateway.venue and o.venue_order_id
        }
        return await gateway.fills_since(since, client_of)

    def _venue_positions(self, positions: list[VenuePosition]) -> dict[int, int]:
        """The venue's positions in lots, spot balances measured from their inventory baseline."""
        out = {}
        for pos in positions:
            inst = self.oms.instruments.get(pos.instrument)
            if inst is None:
                continue
            net = pos.net_lots
            if pos.inventory:
                # A spot balance: what the account held before us, plus our fills, less the
                # commissions taken in the base asset.
                net += self.oms.base_fee_lots(pos.instrument)
                base = self.baseline.get(inst.key)
                if base is None:
                    base = net - self.portfolio.position(pos.instrument).net
                    self.baseline.take(inst.key, base)
                net -= base
            out[pos.instrument] = net
        return out


def _lots_or_zero(instrument: Instrument, size_text: str) -> int:
    """A base-currency amount in the instrument's lots (rounded down), 0 when not representable."""
    grid = instrument.size_grid()
    try:
        return int(Decimal(size_text) / grid.step)
    except (ArithmeticError, ValueError):
        return 0
