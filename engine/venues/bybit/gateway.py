"""Order entry on Bybit v5 linear (USDT perpetuals): REST orders, the private stream, limits, clock.

``submit``, ``cancel`` and ``replace`` never block: they check the command, take its rate-limit
budget and start the signed request (:mod:`engine.venues.bybit.rest`), stamped and signed when
it leaves (a paced request leaves when its time comes). Bybit answers a create, amend or cancel
with an ack only; the order's life comes from the private stream's ``order`` and ``execution``
pushes (:mod:`engine.venues.bybit.private_link`), which :mod:`engine.venues.bybit.tracker` puts
in order for the :class:`~engine.venues.base.GatewayListener`. ``cancel_all``, ``open_orders``,
``positions`` and ``wallet`` are awaited calls, as are reconciliation's ``order_status`` and
``fills_since`` (:mod:`engine.venues.bybit.history`).

What the venue says, and what we do (venues.md §3.5-3.9, §9), in :mod:`.outcomes`:

- create ack: ACCEPTED; amend ack: REPLACED at the new price and size; cancel ack: nothing yet
  (a cancel that lost the race to a fill ends Filled, so CANCELED waits for the stream);
- a refusal (retCode 10001, 110xxx, ...): REJECTED / CANCEL_REJECTED / REPLACE_REJECTED with
  the venue's ``retCode`` and ``retMsg``;
- 10002 (receive window): measure the clock again at once, then send once more, newly signed;
- 10006 (too many visits): the endpoint's bucket is spent until its window turns; a refused
  order is rejected, a refused cancel sent again (cancels must get through); HTTP 403: nothing
  is sent for 10 minutes and the link is bad meanwhile;
- 10003/10004/10005: rejected, and the link is bad (the key or secret is wrong);
- 10016, no answer, or an answer we cannot read: the request's outcome is unknown; it is never
  resent but looked up by ``orderLinkId`` after ``status_query_delay_s``. Garbage also marks the
  link bad and reconnects the private stream;
- the private stream drops or sends garbage: ``on_gateway_link(venue, False, reason)`` until it
  is authenticated and subscribed again, then healthy; the OMS reconciles with ``open_orders()``.
  While the link is bad new orders and amends are refused; cancels go.

Usage of every rate limit is in ``stats.rate``, refreshed with the answers (those to orders,
cancels and amends at most every 50 ms). The API key and secret are arguments, read by the
engine from the environment variables the config names (:func:`credentials_from_env`); they
appear in no repr, log line or error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from engine.core.clock import Clock, LiveClock
from engine.core.commands import CancelOrder, ReplaceOrder, SubmitOrder
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind
from engine.core.instruments import Instrument
from engine.errors import AuthError, IpBanned, OrderRejected
from engine.venues.backoff import Backoff
from engine.venues.base import GatewayListener, GatewayStats, VenueOrder, VenuePosition
from engine.venues.bybit.account import AccountCalls
from engine.venues.bybit.answers import CoinBalance
from engine.venues.bybit.health import LinkHealth
from engine.venues.bybit.history import HistoryCalls
from engine.venues.bybit.orders import (
    VENUE,
    BybitMarket,
    amend_body,
    cancel_body,
    create_body,
)
from engine.venues.bybit.outcomes import Outcomes, Request
from engine.venues.bybit.private import PositionReport, PrivateFrame, PrivateParser
from engine.venues.bybit.private_link import PrivateLink
from engine.venues.bybit.rest import LIMITS, BybitRest
from engine.venues.bybit.signing import BybitSigner
from engine.venues.bybit.tracker import OrderTracker
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import RateLimit, RateLimiter

log = logging.getLogger("engine.venues.bybit")

_K = OrderUpdateKind
API_KEY_ENV = "BYBIT_API_KEY"
API_SECRET_ENV = "BYBIT_API_SECRET"  # noqa: S105 - a variable name, not a secret


def credentials_from_env(
    key_env: str = API_KEY_ENV,
    secret_env: str = API_SECRET_ENV,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The API key and secret from the environment variables the config names.

    Raises:
        AuthError: naming the variable that is unset or empty (never its value).
    """
    env = os.environ if environ is None else environ
    out = []
    for name in (key_env, secret_env):
        value = env.get(name, "")
        if not value:
            raise AuthError(VENUE, f"environment variable {name} is not set")
        out.append(value)
    return out[0], out[1]


class BybitLinearGateway:
    """Bybit v5 linear order entry (or the local venue, which speaks the same protocol).

    Args:
        instruments: what it trades; ids key the commands.
        listener: told every order update, fill and link change (the OMS).
        rest_url: REST base, e.g. ``https://api.bybit.com``.
        private_url: the private stream, e.g. ``wss://stream.bybit.com/v5/private``.
        api_key: the API key (from the environment; never logged).
        api_secret: the API secret (from the environment; never logged).
        clock: wall time for stamps, monotonic for limits; the machine's by default.
        venue: the venue name reports carry.
        recv_window_ms: ``X-BAPI-RECV-WINDOW`` of every request.
        limits: the venue's rate limits.
        timeout_s: a request with no answer this long has an unknown status.
        status_query_delay_s: how long to let an unknown order settle before looking it up.
        backoff: private stream reconnect delays.
        ping_interval_s: private stream heartbeat.
        pong_timeout_s: a heartbeat unanswered this long reconnects.

    Attributes:
        limiter: the venue's rate limiter (its usage, its ban).
        clock_offset: the venue clock estimate that stamps every request.
        rest: the REST client.
        tracker: the orders this gateway is tracking.
        health: the order link's state.
    """

    def __init__(
        self,
        instruments: Sequence[Instrument],
        listener: GatewayListener,
        rest_url: str,
        private_url: str,
        api_key: str,
        api_secret: str | bytes,
        clock: Clock | None = None,
        *,
        venue: str = VENUE,
        recv_window_ms: int = 5000,
        limits: Sequence[RateLimit] = LIMITS,
        timeout_s: float = 10.0,
        status_query_delay_s: float = 0.5,
        backoff: Backoff | None = None,
        ping_interval_s: float = 20.0,
        pong_timeout_s: float = 10.0,
    ) -> None:
        self.venue = venue
        self.stats = GatewayStats()
        self.listener = listener
        self.private_url = private_url
        self.clock: Clock = clock or LiveClock()
        self._markets = {i.instrument_id: BybitMarket(i) for i in instruments}
        self._by_symbol = {m.symbol: m for m in self._markets.values()}
        secret = api_secret.encode() if isinstance(api_secret, str) else bytes(api_secret)
        self._signer = BybitSigner(api_key, secret, recv_window_ms)
        self.limiter = RateLimiter(venue, limits, self.clock)
        self.clock_offset = ClockOffset(self.clock, venue=venue)
        self.rest = BybitRest(
            rest_url,
            self._signer,
            self.limiter,
            self.clock_offset,
            venue=venue,
            timeout_s=timeout_s,
        )
        self.tracker = OrderTracker(venue=venue)
        self.health = LinkHealth(venue, self.stats, listener, self.limiter)
        self._parser = PrivateParser(self._by_symbol, venue)
        self._outcomes = Outcomes(self, status_query_delay_s)
        self._account = AccountCalls(self, self._markets)
        self._history = HistoryCalls(self, self._markets)
        self._backoff = backoff
        self._ping_interval_s = ping_interval_s
        self._pong_timeout_s = pong_timeout_s
        self._link: PrivateLink | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._resyncing: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_positions: dict[int, int] = {}
        """Net lots per instrument from the latest ``position`` pushes."""

    def __repr__(self) -> str:
        return f"BybitLinearGateway({self.venue!r}, {self.rest.base_url!r}, {self.private_url!r})"

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Measure the venue's clock, open connections, subscribe the private stream; healthy.

        Raises:
            AuthError: the venue refused the key or the signature.
            ClockSkew: the venue's clock could not be measured.
            GatewayError: the venue refused otherwise; OSError: it cannot be reached.
        """
        self._loop = asyncio.get_running_loop()
        await self.rest.open()
        try:
            await self.clock_offset.sync(self.rest.server_time_ms)
            self._link = PrivateLink(
                self.private_url,
                self._signer,
                self._parser,
                self.clock_offset,
                self._on_frame,
                self.health.stream,
                self.clock,
                venue=self.venue,
                backoff=self._backoff,
                ping_interval_s=self._ping_interval_s,
                pong_timeout_s=self._pong_timeout_s,
            )
            self.health.active = True
            self.spawn(self._link.run(), "private-stream")
            self.spawn(self.clock_offset.run(self.rest.server_time_ms), "clock-sync")
            await asyncio.wait_for(asyncio.shield(self._link.first_answer), timeout=30.0)
        except BaseException:
            await self.stop()
            raise
        log.info(
            "order gateway started", extra={"venue": self.venue, "markets": len(self._markets)}
        )

    async def stop(self) -> None:
        """Close the private stream and the session; requests in flight are abandoned."""
        was = self.health.active
        self.health.active = False
        if self._link is not None:
            await self._link.stop()
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.rest.close()
        self.health.stream_up = False
        if was:
            self.set_health(False, "stopped")

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``coro`` as one of the gateway's tasks (cancelled by ``stop``)."""
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(coro, name=f"{self.venue}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "gateway task failed",
                extra={
                    "venue": self.venue,
                    "task": task.get_name(),
                    "error": repr(task.exception()),
                },
            )

    async def resync(self) -> None:
        """One clock measurement now, shared by everyone who asks meanwhile."""
        task = self._resyncing
        if task is None or task.done():
            loop = self._loop or asyncio.get_running_loop()
            task = self._resyncing = loop.create_task(
                self.clock_offset.sync(self.rest.server_time_ms)
            )
        await asyncio.shield(task)

    # ---- link health ----------------------------------------------------------------------------

    def set_health(self, healthy: bool, reason: str) -> None:
        """Record the link's state; the listener hears of changes between healthy and bad."""
        self.health.set(healthy, reason)

    def link_bad(self, reason: str, *, reconnect: bool) -> None:
        """Mark the link bad; with ``reconnect`` it turns healthy after a new subscription."""
        self.health.set(False, reason)
        if reconnect and self._link is not None:
            self._link.restart(reason)

    def on_ban(self, error: IpBanned) -> None:
        """The venue banned this address: bad until the ban is over."""
        self.health.ban(error)

    # ---- the hot path ---------------------------------------------------------------------------

    def submit(self, order: SubmitOrder) -> None:
        """Send a new order; the outcome comes back through the listener."""
        market = self._markets.get(order.instrument)
        refusal = self.health.refusal() or _unknown(market, order.instrument, self.venue)
        body = ""
        if not refusal and market is not None:
            try:
                body = create_body(market, order)
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal or market is None:
            self.emit([_local(self.venue, order, _K.REJECTED, refusal, self.clock.time_ns())])
            return
        self.tracker.add(order)
        self._outcomes.send(Request("/v5/order/create", body, market, order))

    def cancel(self, cancel: CancelOrder) -> None:
        """Ask the venue to cancel one order (sent even while the link is bad)."""
        market = self._markets.get(cancel.instrument)
        refusal = "" if self.health.active else "the order gateway is not started"
        refusal = refusal or _unknown(market, cancel.instrument, self.venue)
        body = ""
        if not refusal and market is not None:
            try:
                body = cancel_body(market, cancel.client_order_id)
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal or market is None:
            now = self.clock.time_ns()
            self.emit([_local(self.venue, cancel, _K.CANCEL_REJECTED, refusal, now)])
            return
        self._outcomes.send(Request("/v5/order/cancel", body, market, cancel))

    def replace(self, replace: ReplaceOrder) -> None:
        """Amend one order: new price and/or size, the same ids, queue kept where Bybit keeps it."""
        market = self._markets.get(replace.instrument)
        tracked = self.tracker.get(replace.client_order_id)
        refusal = self.health.refusal() or _unknown(market, replace.instrument, self.venue)
        if not refusal and tracked is not None and tracked.done:
            refusal = "order not exists or too late to replace"
        body = ""
        if not refusal and market is not None:
            price: int | None = replace.price_ticks
            size: int | None = replace.size_lots
            if tracked is not None:  # send only what changes (an untracked order: both)
                price = None if price == tracked.price_ticks else price
                size = None if size == tracked.size_lots else size
            try:
                body = amend_body(market, replace.client_order_id, price, size)
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal or market is None:
            now = self.clock.time_ns()
            self.emit([_local(self.venue, replace, _K.REPLACE_REJECTED, refusal, now)])
            return
        self._outcomes.send(Request("/v5/order/amend", body, market, replace))

    def emit(self, events: Sequence[OrderUpdate | Fill]) -> None:
        """Tell the listener, in order; a listener that raises is logged, never propagated."""
        listener = self.listener
        for event in events:
            try:
                if isinstance(event, Fill):
                    listener.on_fill(event)
                else:
                    if event.kind in (_K.REJECTED, _K.CANCEL_REJECTED, _K.REPLACE_REJECTED):
                        self.stats.rejects += 1
                    listener.on_order_update(event)
            except Exception:
                log.exception("gateway listener failed", extra={"venue": self.venue})

    # ---- the private stream ---------------------------------------------------------------------

    def _on_frame(self, frame: PrivateFrame) -> None:
        if isinstance(frame, PositionReport):
            for position in frame.positions:
                self.last_positions[position.instrument] = position.net_lots
            return
        if not isinstance(frame, list):
            return
        tracker = self.tracker
        out: list[OrderUpdate | Fill] = []
        for event in frame:
            if isinstance(event, Fill):
                out.extend(tracker.on_fill(event))
            else:
                out.extend(tracker.on_update(event))
        self.emit(out)

    # ---- awaited calls --------------------------------------------------------------------------

    async def cancel_all(self, instrument: int = -1) -> None:
        """Cancel every open order on one instrument (-1: every one) and wait for the answers.

        Raises:
            GatewayError: the venue refused.
            KeyError: ``instrument`` is not traded here.
        """
        await self._account.cancel_all(instrument)

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the venue holds open for us on the instruments traded here.

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        return await self._account.open_orders()

    async def positions(self) -> list[VenuePosition]:
        """The venue's net position of every instrument traded here (0 when flat).

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        return await self._account.positions()

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """One order by our client order id, open or finished; None when the venue has none.

        Raises:
            GatewayError: the venue refused or answered garbage.
            KeyError: ``instrument`` is not traded here.
        """
        return await self._history.order_status(instrument, client_order_id)

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Our executions since ``since_ns``, oldest first, with the stream's trade ids.

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        return await self._history.fills_since(since_ns, client_of)

    async def wallet(self, coins: tuple[str, ...] = ()) -> list[CoinBalance]:
        """The unified account's coins (all, or ``coins``).

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        return await self._account.wallet(coins)


def _unknown(market: BybitMarket | None, instrument: int, venue: str) -> str:
    return "" if market is not None else f"instrument {instrument} is not traded on {venue}"


def _local(
    venue: str,
    command: SubmitOrder | CancelOrder | ReplaceOrder,
    kind: OrderUpdateKind,
    reason: str,
    now: int,
) -> OrderUpdate:
    """A refusal made here, before anything was sent (code 0)."""
    price = getattr(command, "price_ticks", 0)
    size = getattr(command, "size_lots", 0)
    return OrderUpdate(
        venue=venue,
        instrument=command.instrument,
        client_order_id=command.client_order_id,
        kind=kind,
        reason=reason,
        price_ticks=price,
        size_lots=size,
        recv_ts=now,
    )
