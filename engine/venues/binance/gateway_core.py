"""What the Binance spot and USD-M order gateways do alike: tasks, clock, stop, submit, cancel.

Both gateways hold the same parts (the keep-alive dispatcher, the working-order table, the link
health, the awaited REST client, the clock offset) and differ in their paths, their queries and
their user stream. :class:`BinanceGatewayCore` is the part that is the same to the letter: it
builds those parts, and each gateway adds its costs, outcomes and stream parser, sets its order
path and logger and words its own new-order and cancel queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ClassVar, Protocol

from engine.core.clock import Clock, LiveClock
from engine.core.commands import CancelOrder, SubmitOrder
from engine.core.events import OrderUpdateKind
from engine.core.instruments import Instrument
from engine.errors import GatewayError, OrderRejected
from engine.venues.backoff import Backoff
from engine.venues.base import GatewayListener, GatewayStats
from engine.venues.binance.dispatch import Dispatcher, Handler, OrderTransport, Request, Subject
from engine.venues.binance.health import LinkHealth
from engine.venues.binance.http import HttpResponse, KeepAliveClient
from engine.venues.binance.orders import BinanceMarket, by_symbol
from engine.venues.binance.outcomes import Outcomes
from engine.venues.binance.rest import BinanceRest, ErrorMap, RestSigner
from engine.venues.binance.working import WorkingOrders
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import Cost, RateLimit, RateLimiter

_K = OrderUpdateKind


class _Stream(Protocol):
    """A user-stream link: it can be stopped."""

    async def stop(self) -> None:
        """Close the stream."""


class _CoreCosts(Protocol):
    """What the shared calls spend (spot's ``Costs`` and USD-M's ``UsdmCosts`` have these)."""

    new_order: Cost
    cancel: Cost
    time: Cost


class BinanceGatewayCore:
    """The lifecycle helpers and the submit/cancel hot path shared by the Binance gateways.

    A subclass calls this ``__init__`` with its gateway's arguments, its REST client factory
    and its error map, then builds ``_costs`` and ``_outcomes``; it sets ``_order_path`` (where
    orders are placed and canceled), ``_log``, and its venue's ``new_order_query`` and
    ``cancel_query`` as ``_new_order_query`` and ``_cancel_query``.
    """

    _order_path: ClassVar[str]
    _log: ClassVar[logging.Logger]

    venue: str
    stats: GatewayStats
    _markets: dict[int, BinanceMarket]
    _limiter: RateLimiter
    _offset: ClockOffset
    _working: WorkingOrders
    _health: LinkHealth
    _link: _Stream | None
    _tasks: set[asyncio.Task[None]]
    _resyncing: asyncio.Task[None] | None
    _transport: OrderTransport
    _rest: BinanceRest
    _costs: _CoreCosts
    _dispatch: Dispatcher
    _outcomes: Outcomes

    def __init__(
        self,
        instruments: Sequence[Instrument],
        listener: GatewayListener,
        rest_url: str,
        api_key: str,
        api_secret: str | bytes,
        clock: Clock | None,
        *,
        venue: str,
        recv_window_ms: int,
        response_type: str,
        limits: Sequence[RateLimit],
        order_transport: OrderTransport | None,
        max_connections: int,
        timeout_s: float,
        backoff: Backoff | None,
        rest: Callable[..., BinanceRest],
        errors: ErrorMap,
    ) -> None:
        self.venue = venue
        self.stats = GatewayStats()
        self.listener = listener
        self.recv_window_ms = recv_window_ms
        self.response_type = response_type
        self._clock = clock or LiveClock()
        self._markets = {i.instrument_id: BinanceMarket(i) for i in instruments}
        self._by_symbol = by_symbol(self._markets)
        secret = api_secret.encode() if isinstance(api_secret, str) else bytes(api_secret)
        self._api_key = api_key
        self._secret = secret
        self._signer = RestSigner(secret)
        self._limiter = RateLimiter(venue, limits, self._clock)
        self._offset = ClockOffset(self._clock, venue=venue)
        self._rest = rest(
            rest_url,
            api_key,
            self._signer,
            self._limiter,
            self._offset,
            recv_window_ms=recv_window_ms,
            venue=venue,
            timeout_s=timeout_s,
        )
        self._transport = order_transport or KeepAliveClient(
            rest_url,
            {"X-MBX-APIKEY": api_key},
            max_connections=max_connections,
            timeout_s=timeout_s,
        )
        self._backoff = backoff
        self._working = WorkingOrders()
        self._link = None
        self._tasks = set()
        self._resyncing = None
        self._health = LinkHealth(venue, listener, self.stats, self._limiter)
        self._dispatch = Dispatcher(
            venue,
            self._transport,
            self._signer,
            self._limiter,
            self._offset,
            self._rest,
            self.stats,
            self._health,
            self._spawn,
            self._resync,
            recv_window_ms,
            errors=errors,
        )

    @property
    def limiter(self) -> RateLimiter:
        """The venue's rate limiter (read its usage, or its ban)."""
        return self._limiter

    @property
    def clock_offset(self) -> ClockOffset:
        """The venue clock estimate that stamps every request."""
        return self._offset

    @property
    def working(self) -> WorkingOrders:
        """The orders this gateway is tracking."""
        return self._working

    # ---- lifecycle ------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Close the user stream and every connection; requests in flight are abandoned."""
        was = self._health.started
        self._health.started = False
        if self._link is not None:
            await self._link.stop()
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._transport.close()
        await self._rest.close()
        self._health.stream_up = False
        if was:
            self._health.set(False, "stopped")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.venue}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error(
                "gateway task failed",
                extra={
                    "venue": self.venue,
                    "task": task.get_name(),
                    "error": repr(task.exception()),
                },
            )

    async def _server_time(self) -> int:
        return await self._rest.server_time_ms(self._costs.time)

    async def _resync(self) -> None:
        """One clock measurement now, shared by everyone who asks meanwhile."""
        task = self._resyncing
        if task is None or task.done():
            loop = asyncio.get_running_loop()
            task = self._resyncing = loop.create_task(self._offset.sync(self._server_time))
        await asyncio.shield(task)

    # ---- the hot path ---------------------------------------------------------------------------

    @staticmethod
    def _new_order_query(market: BinanceMarket, order: SubmitOrder, response_type: str) -> str:
        """The venue's new-order parameters for ``order``; OrderRejected when it cannot take it."""
        raise NotImplementedError

    @staticmethod
    def _cancel_query(market: BinanceMarket, client_order_id: str) -> str:
        """The venue's cancel parameters; OrderRejected for an unusable client order id."""
        raise NotImplementedError

    def submit(self, order: SubmitOrder) -> None:
        """Send a new order; the outcome comes back through the listener."""
        market = self._markets.get(order.instrument)
        refusal = self._health.refusal()
        if market is None:
            refusal = f"instrument {order.instrument} is not traded on {self.venue}"
        if not refusal:
            try:
                query = self._new_order_query(market, order, self.response_type)  # type: ignore[arg-type]
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal:
            self._outcomes.report_local(order, _K.REJECTED, refusal)
            return
        assert market is not None
        self._working.add(order)
        self._send(
            "POST",
            self._order_path,
            query,
            self._costs.new_order,
            self._outcomes.on_new_order,
            market,
            order,
        )

    def cancel(self, cancel: CancelOrder) -> None:
        """Ask the venue to cancel one order (sent even while the link is bad)."""
        market = self._markets.get(cancel.instrument)
        refusal = "" if self._health.started else "the order gateway is not started"
        if market is None:
            refusal = f"instrument {cancel.instrument} is not traded on {self.venue}"
        if not refusal:
            try:
                query = self._cancel_query(market, cancel.client_order_id)  # type: ignore[arg-type]
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal:
            self._outcomes.report_local(cancel, _K.CANCEL_REJECTED, refusal)
            return
        assert market is not None
        self._send(
            "DELETE",
            self._order_path,
            query,
            self._costs.cancel,
            self._outcomes.on_cancel,
            market,
            cancel,
        )

    def _send(
        self,
        method: str,
        path: str,
        query: str,
        cost: Cost,
        handler: Handler,
        market: BinanceMarket,
        subject: Subject,
    ) -> None:
        self._dispatch.send(
            Request(self._dispatch, method, path, query, cost, handler, market, subject)
        )


class Answer:
    """A hot-path request's answer as a future, for the calls that are awaited (cancel-all)."""

    __slots__ = ("future",)

    def __init__(self) -> None:
        self.future: asyncio.Future[tuple[HttpResponse | None, GatewayError | None]] = (
            asyncio.get_running_loop().create_future()
        )

    def __call__(
        self, request: Request, response: HttpResponse | None, error: GatewayError | None
    ) -> None:
        """The dispatcher's handler: the first answer settles the future."""
        if not self.future.done():
            self.future.set_result((response, error))
