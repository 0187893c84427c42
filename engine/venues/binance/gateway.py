"""Order entry on Binance spot: REST orders, the WebSocket-API user stream, limits and clock.

``submit``, ``cancel`` and ``replace`` never block: they check the order, take its rate-limit
budget, and write the signed request on an idle keep-alive connection before returning (the
hot path, :mod:`engine.venues.binance.http`; it won the ``gateway`` benchmark against aiohttp).
A request the limiter paces or queues is written when its time comes, with a fresh timestamp
and signature. Answers come back on the loop and are reported through the
:class:`~engine.venues.base.GatewayListener`, as are the user stream's reports of the same
orders (:mod:`.working` words both so the OMS sees one order per client id; it deduplicates
fills by ``(venue, trade_id)``). ``cancel_all``, ``open_orders`` and ``positions`` are awaited
aiohttp calls (:mod:`.rest`).

What the venue says, and what we do (venues.md §1.6-1.10, §9):

- a reject (-2010, -1013, ...): REJECTED / CANCEL_REJECTED / REPLACE_REJECTED with the venue's
  code and text;
- -1021 (timestamp refused): measure the clock offset again at once, then resend once, newly
  stamped and signed;
- 429: every request waits ``Retry-After``; the refused order is rejected, a refused cancel is
  sent again (cancels must get through);
- 418: nothing is sent until the ban ends (every request fails with IpBanned) and the link is
  bad meanwhile;
- -1007, 5xx, no answer, or an answer we cannot read: the order's status is unknown. It is never
  resent; it is looked up by client order id after ``status_query_delay_s`` and reported as the
  venue holds it (not found: REJECTED). Garbage also marks the link bad and resubscribes;
- the user stream drops or reports garbage: the link is bad (``on_gateway_link(venue, False,
  reason)``) until a new subscription stands, then healthy again; the OMS reconciles with
  ``open_orders()``. While the link is bad new orders and replaces are refused; cancels go.

Usage of every rate limit is in ``stats.rate`` (refreshed with each answer). The API key and
secret are arguments (the engine reads them from the environment variables the config names)
and appear in no repr, log line or error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from engine.core.clock import Clock
from engine.core.commands import CancelOrder, ReplaceOrder
from engine.core.events import Fill, OrderUpdateKind
from engine.core.instruments import Instrument
from engine.errors import GatewayError, OrderRejected
from engine.venues.backoff import Backoff
from engine.venues.base import GatewayListener, VenueOrder, VenuePosition
from engine.venues.binance import answers
from engine.venues.binance.dispatch import OrderTransport
from engine.venues.binance.errors import rest_error
from engine.venues.binance.gateway_core import Answer, BinanceGatewayCore
from engine.venues.binance.orders import (
    cancel_all_query,
    cancel_query,
    new_order_query,
    replace_query,
)
from engine.venues.binance.outcomes import Outcomes
from engine.venues.binance.rest import LIMITS, BinanceRest, Costs
from engine.venues.binance.user_link import UserStreamLink
from engine.venues.binance.user_stream import UserStreamParser
from engine.venues.ratelimit import RateLimit

log = logging.getLogger("engine.venues.binance")

_K = OrderUpdateKind


class BinanceSpotGateway(BinanceGatewayCore):
    """Binance spot order entry (or the local venue, which speaks the same protocol).

    Args:
        instruments: what it trades; ids key the commands.
        listener: told every order update, fill and link change (the OMS).
        rest_url: REST base, e.g. ``https://api.binance.com``.
        ws_api_url: WebSocket API, e.g. ``wss://ws-api.binance.com:443/ws-api/v3``.
        api_key: the API key (from the environment; never logged).
        api_secret: the API secret (from the environment; never logged).
        clock: wall time for stamps, monotonic for limits; the machine's by default.
        venue: the venue name reports carry.
        recv_window_ms: ``recvWindow`` of every signed request.
        response_type: ``newOrderRespType``: ``FULL`` (fills in the answer), ``RESULT`` or ``ACK``.
        limits: the venue's rate limits.
        order_transport: the hot-path HTTP client; a :class:`KeepAliveClient` by default.
        max_connections: keep-alive connections for the hot path.
        timeout_s: a request with no answer this long has an unknown status.
        status_query_delay_s: how long to let an unknown order settle before looking it up.
        backoff: user stream reconnect delays.
    """

    _order_path = "/api/v3/order"
    _log = log
    _new_order_query = staticmethod(new_order_query)
    _cancel_query = staticmethod(cancel_query)

    _costs: Costs
    _outcomes: Outcomes
    _link: UserStreamLink | None

    def __init__(
        self,
        instruments: Sequence[Instrument],
        listener: GatewayListener,
        rest_url: str,
        ws_api_url: str,
        api_key: str,
        api_secret: str | bytes,
        clock: Clock | None = None,
        *,
        venue: str = "binance",
        recv_window_ms: int = 5000,
        response_type: str = "FULL",
        limits: Sequence[RateLimit] = LIMITS,
        order_transport: OrderTransport | None = None,
        max_connections: int = 4,
        timeout_s: float = 10.0,
        status_query_delay_s: float = 0.5,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(
            instruments,
            listener,
            rest_url,
            api_key,
            api_secret,
            clock,
            venue=venue,
            recv_window_ms=recv_window_ms,
            response_type=response_type,
            limits=limits,
            order_transport=order_transport,
            max_connections=max_connections,
            timeout_s=timeout_s,
            backoff=backoff,
            rest=BinanceRest,
            errors=rest_error,
        )
        self.status_query_delay_s = status_query_delay_s
        self.ws_api_url = ws_api_url
        self._costs = Costs(self._limiter)
        self._parser = UserStreamParser(self._by_symbol)
        self._outcomes = Outcomes(
            venue,
            listener,
            self._working,
            self._clock,
            self.stats,
            self._health,
            self._rest,
            self._costs,
            self._spawn,
            status_query_delay_s,
        )

    def __repr__(self) -> str:
        return f"BinanceSpotGateway({self.venue!r}, {self._rest.base_url!r}, {self.ws_api_url!r})"

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Measure the venue's clock, open connections, subscribe the user stream; healthy.

        Raises:
            AuthError: the venue refused the key or the signature.
            ClockSkew: the venue's clock could not be measured.
            GatewayError: the venue refused otherwise; OSError: it cannot be reached.
        """
        await self._rest.open()
        try:
            await self._offset.sync(self._server_time)
            await self._transport.start(2)
            self._link = UserStreamLink(
                self.ws_api_url,
                self._api_key,
                self._secret,
                self._parser,
                self._offset,
                self._resync,
                self._limiter,
                self._costs.ws_connect,
                self._outcomes.on_stream_events,
                self._health.stream_changed,
                self._clock,
                venue=self.venue,
                recv_window_ms=self.recv_window_ms,
                backoff=self._backoff,
            )
            self._health.link = self._link
            self._health.started = True
            self._spawn(self._link.run(), "user-stream")
            self._spawn(self._offset.run(self._server_time), "clock-sync")
            await asyncio.wait_for(asyncio.shield(self._link.first_answer), timeout=30.0)
        except BaseException:
            await self.stop()
            raise
        log.info(
            "order gateway started", extra={"venue": self.venue, "markets": len(self._markets)}
        )

    # ---- the hot path ---------------------------------------------------------------------------

    def replace(self, replace: ReplaceOrder) -> None:
        """Cancel-replace one order: new price and/or size, the same client order id."""
        market = self._markets.get(replace.instrument)
        working = self._working.get(replace.client_order_id)
        refusal = self._health.refusal()
        if market is None:
            refusal = f"instrument {replace.instrument} is not traded on {self.venue}"
        elif working is None or working.done:
            refusal = "Unknown order sent."
        elif working.replacing is not None:
            refusal = "a replace of this order is already on its way"
        if not refusal:
            assert working is not None
            assert market is not None
            try:
                query = replace_query(market, working, replace, working.filled, self.response_type)
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal:
            self._outcomes.report_local(replace, _K.REPLACE_REJECTED, refusal)
            return
        assert working is not None
        assert market is not None
        self._working.begin_replace(working, replace)
        self._send(
            "POST",
            "/api/v3/order/cancelReplace",
            query,
            self._costs.replace,
            self._outcomes.on_replace,
            market,
            replace,
        )

    # ---- awaited calls --------------------------------------------------------------------------

    async def cancel_all(self, instrument: int = -1) -> None:
        """Cancel every open order on one instrument (-1: every one) and wait for the answers.

        This is the kill switch's path, so it is a hot one: one ``DELETE /api/v3/openOrders`` per
        symbol, all written at once on the keep-alive connections (rate-limited cancels are
        retried after ``Retry-After``), then every answer awaited.

        Raises:
            GatewayError: the venue refused (an instrument with nothing open is fine).
            KeyError: ``instrument`` is not traded here.
        """
        markets = list(self._markets.values()) if instrument < 0 else [self._markets[instrument]]
        pending: list[Answer] = []
        for market in markets:
            answer = Answer()
            self._send(
                "DELETE",
                "/api/v3/openOrders",
                cancel_all_query(market),
                self._costs.cancel_all,
                answer,
                market,
                CancelOrder(client_order_id="*", instrument=market.instrument_id),
            )
            pending.append(answer)
        failure: GatewayError | None = None
        for answer in pending:
            response, error = await answer.future
            if error is not None:
                if isinstance(error, OrderRejected) and error.code == -2011:
                    continue  # "Unknown order sent.": nothing was open
                failure = failure or error
                continue
            assert response is not None
            events = answers.cancel_all_events(
                self._by_symbol, response.body, self._clock.time_ns()
            )
            self._outcomes.emit(self._working.on_events(list(events), stream=False))
        self.stats.rate = self._limiter.usage()
        if failure is not None:
            raise failure

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the venue holds open for us on our instruments (the venue is the truth).

        Raises:
            GatewayError: the venue did not answer with its open orders.
        """
        out: list[VenueOrder] = []
        if len(self._markets) * 6 < 80:  # per symbol is cheaper than all at once
            for market in self._markets.values():
                body = await self._rest.call(
                    "GET",
                    "/api/v3/openOrders",
                    f"symbol={market.symbol}",
                    self._costs.open_orders_symbol,
                )
                out += answers.open_orders_answer(self._by_symbol, body)
        else:
            body = await self._rest.call(
                "GET", "/api/v3/openOrders", "", self._costs.open_orders_all
            )
            out = answers.open_orders_answer(self._by_symbol, body)
        self.stats.rate = self._limiter.usage()
        return [self._working.adopt(order) for order in out]

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """One order by our client order id (``GET /api/v3/order``); None when the venue has none.

        Raises:
            GatewayError: the venue did not answer with the order.
            KeyError: ``instrument`` is not traded here.
        """
        market = self._markets[instrument]
        query = f"symbol={market.symbol}&origClientOrderId={client_order_id}"
        try:
            body = await self._rest.call("GET", "/api/v3/order", query, self._costs.query_order)
        except OrderRejected as exc:
            if exc.code == -2013:  # Order does not exist.
                return None
            raise
        return answers.order_status_answer(self._by_symbol, body)

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Our trades on every instrument since ``since_ns`` (``myTrades``, oldest first).

        Args:
            since_ns: the earliest trade time wanted.
            client_of: venue order id -> our client order id, for naming the fills.

        Raises:
            GatewayError: the venue did not answer with its trades.
        """
        out: list[Fill] = []
        start_ms = max(0, since_ns // 1_000_000)
        for market in self._markets.values():
            body = await self._rest.call(
                "GET",
                "/api/v3/myTrades",
                f"symbol={market.symbol}&startTime={start_ms}&limit=1000",
                self._costs.my_trades,
            )
            out += answers.my_trades_answer(
                self._by_symbol, body, client_of or {}, self._clock.time_ns()
            )
        self.stats.rate = self._limiter.usage()
        return sorted(out, key=lambda f: f.exch_ts)

    async def positions(self) -> list[VenuePosition]:
        """The base-asset balance (free plus locked) of every instrument, in lots.

        Raises:
            GatewayError: the venue did not answer with the account.
        """
        body = await self._rest.call(
            "GET", "/api/v3/account", "omitZeroBalances=true", self._costs.account
        )
        self.stats.rate = self._limiter.usage()
        return answers.positions_answer(self._markets, body)
