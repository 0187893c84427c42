"""What the Bybit gateway does with each answer to a create, cancel or amend (venues.md §3.8, §9).

A :class:`Request` is one hot-path request; :meth:`Outcomes.send` takes its rate-limit budget at
once (so requests keep their order), then sends it when the limiter says, stamped and signed
then. Its answer, or its failure, becomes events for the listener:

==============================  =============================================================
answer                          create / cancel / amend
==============================  =============================================================
ack (retCode 0)                 ACCEPTED / nothing (the stream says CANCELED) / REPLACED
a refusal                       REJECTED / CANCEL_REJECTED / REPLACE_REJECTED, code and text
10002 (clock)                   resync the clock, send once more (then as a refusal)
10006, 110079 (too busy)        rejected / sent again, up to 3 times / rejected
10003, 10004, 10005 (key)       rejected, and the link is bad
HTTP 403 (address limit)        rejected, every request refused for 10 minutes, link bad
not sent                        rejected, with why
10016, no answer, garbage       looked up by ``orderLinkId`` after a delay (garbage also marks
                                the link bad and reconnects the private stream)
==============================  =============================================================

The look-up of an unknown create reports ACCEPTED when the venue holds the order (and how it
ended, when it did), REJECTED when it does not; of an unknown amend, REPLACED when the order
carries the new price and size, REPLACE_REJECTED otherwise; an unknown cancel is left to the
stream and reconciliation.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import msgspec

from engine.core.commands import CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import OrderUpdate, OrderUpdateKind
from engine.errors import (
    AuthError,
    ClockSkew,
    GatewayError,
    IpBanned,
    OrderRejected,
    RateLimited,
    StatusUnknown,
    VenueGarbage,
)
from engine.venues.bybit import answers
from engine.venues.bybit.orders import BybitMarket, open_orders_query
from engine.venues.bybit.rest import RequestNotSent

if TYPE_CHECKING:
    from engine.venues.bybit.gateway import BybitLinearGateway

log = logging.getLogger("engine.venues.bybit")

_K = OrderUpdateKind
_RETRIES = 3
_USAGE_EVERY_NS = 50_000_000
"""``stats.rate`` is refreshed with answers, at most this often."""
_REJECT_KIND = {
    "/v5/order/create": _K.REJECTED,
    "/v5/order/cancel": _K.CANCEL_REJECTED,
    "/v5/order/amend": _K.REPLACE_REJECTED,
}


class Request:
    """One hot-path request: the endpoint, the signed body, and the command it carries out."""

    __slots__ = ("attempts", "body", "command", "market", "path")

    def __init__(
        self,
        path: str,
        body: str,
        market: BybitMarket,
        command: SubmitOrder | CancelOrder | ReplaceOrder,
    ) -> None:
        self.path = path
        self.body = body
        self.market = market
        self.command = command
        self.attempts = 0

    def __repr__(self) -> str:
        return f"Request({self.path}, {self.command.client_order_id})"


class Outcomes:
    """Sends hot-path requests and turns their answers into events.

    Args:
        gateway: the gateway whose listener, tracker, limiter and link are used.
        status_query_delay_s: how long to let an unknown request settle before looking it up.
    """

    def __init__(self, gateway: BybitLinearGateway, status_query_delay_s: float) -> None:
        self._gw = gateway
        self.status_query_delay_s = status_query_delay_s
        self._usage_at = -_USAGE_EVERY_NS

    def send(self, request: Request) -> None:
        """Take the request's budget now; send it when the limiter says."""
        gw = self._gw
        try:
            delay = gw.limiter.reserve(gw.rest.cost(request.path))
        except IpBanned as exc:
            gw.stats.errors += 1
            self._answered(request, None, exc)
            return
        gw.spawn(self._send(request, delay), "order-request")

    async def _send(self, request: Request, delay: float) -> None:
        gw = self._gw
        if delay > 0:
            await asyncio.sleep(delay)
        if not gw.health.active:
            self._answered(request, None, RequestNotSent(gw.venue, "gateway stopped; not sent"))
            return
        gw.stats.requests += 1
        try:
            result = await gw.rest.send("POST", request.path, request.body)
        except GatewayError as exc:
            if not await self._retried(request, exc):
                if not isinstance(exc, OrderRejected):  # a refusal is a reject, counted there
                    gw.stats.errors += 1
                self._answered(request, None, exc)
        else:
            self._answered(request, result, None)
        now = gw.clock.monotonic_ns()
        if now - self._usage_at >= _USAGE_EVERY_NS:
            self._usage_at = now
            gw.stats.rate = gw.limiter.usage()

    async def _retried(self, request: Request, error: GatewayError) -> bool:
        """Errors answered by sending again: 10002 once, a too-busy cancel up to 3 times."""
        gw = self._gw
        if isinstance(error, IpBanned):
            gw.on_ban(error)
            return False
        if isinstance(error, ClockSkew) and request.attempts == 0:
            request.attempts += 1
            try:
                await gw.resync()
            except GatewayError as exc:
                log.warning("clock resync failed", extra={"venue": gw.venue, "error": str(exc)})
            self.send(request)
            return True
        if (
            isinstance(error, RateLimited)
            and isinstance(request.command, CancelOrder)
            and request.attempts < _RETRIES
        ):
            request.attempts += 1
            self.send(request)  # the limiter holds it until the endpoint's window turns
            return True
        return False

    # ---- answers --------------------------------------------------------------------------------

    def _answered(
        self, request: Request, result: msgspec.Raw | None, error: GatewayError | None
    ) -> None:
        gw = self._gw
        if isinstance(error, AuthError):
            gw.link_bad(f"the venue refused our key: {error}", reconnect=False)
        if error is None and result is not None:
            try:
                ack = answers.ack_of(result, f"{request.path} answer")
            except VenueGarbage as exc:
                error = exc
            else:
                self._acked(request, ack)
                return
        assert error is not None
        if isinstance(error, StatusUnknown | VenueGarbage):
            if isinstance(error, VenueGarbage):
                gw.link_bad(f"garbage from the venue: {error}", reconnect=True)
            log.warning(
                "order request status unknown; looking it up",
                extra={"venue": gw.venue, "request": repr(request), "error": str(error)},
            )
            if not isinstance(request.command, CancelOrder):
                gw.spawn(self._look_up(request, error), "status-query")
            return
        self._refused(request, error)

    def _acked(self, request: Request, ack: answers.Ack) -> None:
        gw = self._gw
        command = request.command
        now = gw.clock.time_ns()
        tracked = gw.tracker.get(command.client_order_id)
        if isinstance(command, SubmitOrder) and tracked is not None:
            gw.emit([gw.tracker.acked(tracked, ack.order_id, now)])
        elif isinstance(command, ReplaceOrder):
            if tracked is not None:
                update = gw.tracker.replaced(tracked, command.price_ticks, command.size_lots, now)
            else:
                update = _about(gw.venue, request, _K.REPLACED, now, venue_order_id=ack.order_id)
            gw.emit([update])

    def _refused(self, request: Request, error: GatewayError) -> None:
        gw = self._gw
        command = request.command
        kind = _REJECT_KIND[request.path]
        now = gw.clock.time_ns()
        tracked = gw.tracker.get(command.client_order_id)
        if tracked is None:
            update = _about(gw.venue, request, kind, now, reason=error.reason, code=error.code)
        else:
            update = tracked.update(kind, now, reason=error.reason, code=error.code)
            if kind is _K.REJECTED:
                gw.tracker.finish(tracked)
        gw.emit([update])

    async def _look_up(self, request: Request, error: GatewayError) -> None:
        """Ask the venue what became of a request whose answer was lost."""
        gw = self._gw
        await asyncio.sleep(self.status_query_delay_s)
        command = request.command
        query = open_orders_query(request.market, order_link_id=command.client_order_id)
        try:
            result = await gw.rest.call("GET", "/v5/order/realtime", query)
            found = answers.find_order(request.market, result, command.client_order_id)
        except GatewayError as exc:
            log.warning(
                "order look-up failed; reconciliation will tell",
                extra={"venue": gw.venue, "request": repr(request), "error": str(exc)},
            )
            return
        now = gw.clock.time_ns()
        tracked = gw.tracker.get(command.client_order_id)
        if tracked is None:
            return
        if isinstance(command, SubmitOrder):
            if found is None:
                reason = f"not on the venue after an unknown answer ({error.reason})"
                gw.tracker.finish(tracked)
                gw.emit([tracked.update(_K.REJECTED, now, reason=reason, code=error.code)])
                return
            events = [gw.tracker.acked(tracked, found.venue_order_id, now)]
            if found.status in ("Cancelled", "Deactivated", "Rejected"):
                kind = _K.REJECTED if found.status == "Rejected" else _K.CANCELED
                events += gw.tracker.on_update(tracked.update(kind, now, reason=found.status))
            gw.emit(events)
        elif isinstance(command, ReplaceOrder):
            done = found is not None and (found.price_ticks, found.size_lots) == (
                command.price_ticks,
                command.size_lots,
            )
            if done:
                gw.emit([gw.tracker.replaced(tracked, command.price_ticks, command.size_lots, now)])
            else:
                reason = f"amend not seen on the venue after an unknown answer ({error.reason})"
                gw.emit([tracked.update(_K.REPLACE_REJECTED, now, reason=reason, code=error.code)])


def _about(
    venue: str,
    request: Request,
    kind: OrderUpdateKind,
    now: int,
    *,
    reason: str = "",
    code: int = 0,
    venue_order_id: str = "",
) -> OrderUpdate:
    """An update about an order the gateway does not track (sent before a restart)."""
    command = request.command
    return OrderUpdate(
        venue=venue,
        instrument=command.instrument,
        client_order_id=command.client_order_id,
        kind=kind,
        venue_order_id=venue_order_id,
        reason=reason,
        code=code,
        price_ticks=getattr(command, "price_ticks", 0),
        size_lots=getattr(command, "size_lots", 0),
        recv_ts=now,
    )
