"""Order entry on Binance USD-M futures: REST orders, the listen-key user stream, limits, clock.

The hot path is spot's (:mod:`engine.venues.binance`): ``submit``, ``cancel`` and ``replace``
never block; they check the order, take its rate-limit budget and write the signed request on
an idle keep-alive connection before returning. Answers and the user stream's reports are
worded by :mod:`.outcomes` and passed through the working-order table so that the OMS sees one
order per client id (it deduplicates fills by ``(venue, trade_id)``). ``cancel_all`` is written
on the same connections (it is the kill switch's path) and awaited; ``open_orders``,
``positions``, ``fills_since`` and ``balances`` are awaited aiohttp calls.

What differs from spot (venues.md §2):

- post-only is ``timeInForce=GTX``, refused with -5022 when it would take; ``reduceOnly`` is
  sent (-2022 when there is nothing to reduce); a replace is ``PUT /fapi/v1/order``, which keeps
  the order id (a size at or below what filled, or a GTX order that would cross, cancels it);
- answers carry no fills; the user stream (a listen key, :mod:`.listen_key`) brings them, and
  an order's end is held back until its fills are in (fetched from ``userTrades`` when the
  stream does not bring them);
- cancel-all answers only "done": every order that was working is reported as the stream ends
  it, and the ones it does not end within ``settle_s`` are looked up and reported as the venue
  holds them;
- positions are real positions (``positionRisk``; ``VenuePosition.inventory`` is False);
- the limits are IP weight and order counts per 10 s and minute (:mod:`.rest`).

The same rules as spot hold for errors: -1021 resyncs the clock and resends once; 429 holds
everything for ``Retry-After`` (a refused cancel is sent again); 418 stops sending and marks the
link bad; -1007, 408, 5xx, no answer or garbage mean the status is unknown: the order is looked
up, never resent. The link is bad while the user stream is down; while it is, new orders and
modifies are refused and cancels go. The API key and secret are arguments (the engine reads
them from the environment variables the config names) and appear in no repr, log line or error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence

from engine.core.clock import Clock
from engine.core.commands import CancelOrder, ReplaceOrder
from engine.core.events import Fill, OrderUpdateKind
from engine.core.instruments import Instrument
from engine.errors import GatewayError, OrderRejected
from engine.venues.backoff import Backoff
from engine.venues.base import GatewayListener, VenueOrder, VenuePosition
from engine.venues.binance.dispatch import OrderTransport, Request
from engine.venues.binance.gateway_core import Answer, BinanceGatewayCore
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance_usdm import answers
from engine.venues.binance_usdm.answers import MarginBalance
from engine.venues.binance_usdm.errors import rest_error
from engine.venues.binance_usdm.listen_key import ListenKeyLink
from engine.venues.binance_usdm.orders import (
    VENUE,
    cancel_all_query,
    cancel_query,
    modify_query,
    new_order_query,
)
from engine.venues.binance_usdm.outcomes import UsdmOutcomes
from engine.venues.binance_usdm.queries import ORDER_PATH, AccountQueries
from engine.venues.binance_usdm.rest import LIMITS, UsdmCosts, usdm_rest
from engine.venues.binance_usdm.user_stream import UsdmStreamParser
from engine.venues.ratelimit import RateLimit

log = logging.getLogger("engine.venues.binance_usdm")

_K = OrderUpdateKind


class BinanceUsdmGateway(BinanceGatewayCore):
    """Binance USD-M order entry (or the local venue, which speaks the same protocol).

    Args:
        instruments: what it trades; ids key the commands.
        listener: told every order update, fill and link change (the OMS).
        rest_url: REST base, e.g. ``https://fapi.binance.com``.
        stream_url: the private stream base, e.g. ``wss://fstream.binance.com/private``.
        api_key: the API key (from the environment; never logged).
        api_secret: the API secret (from the environment; never logged).
        clock: wall time for stamps, monotonic for limits; the machine's by default.
        venue: the venue name the gateway answers to.
        recv_window_ms: ``recvWindow`` of every signed request.
        response_type: ``newOrderRespType``: ``RESULT`` (the order's state) or ``ACK``.
        limits: the venue's rate limits.
        order_transport: the hot-path HTTP client; a :class:`KeepAliveClient` by default.
        max_connections: keep-alive connections for the hot path.
        timeout_s: a request with no answer this long has an unknown status.
        status_query_delay_s: how long to let an unknown order (or missing fills) settle.
        settle_s: how long cancel-all waits for the stream to end the orders it canceled.
        keepalive_s: how often the listen key is extended.
        backoff: user stream reconnect delays.
    """

    _order_path = ORDER_PATH
    _log = log
    _new_order_query = staticmethod(new_order_query)
    _cancel_query = staticmethod(cancel_query)

    _costs: UsdmCosts
    _outcomes: UsdmOutcomes
    _link: ListenKeyLink | None

    def __init__(
        self,
        instruments: Sequence[Instrument],
        listener: GatewayListener,
        rest_url: str,
        stream_url: str,
        api_key: str,
        api_secret: str | bytes,
        clock: Clock | None = None,
        *,
        venue: str = VENUE,
        recv_window_ms: int = 5000,
        response_type: str = "RESULT",
        limits: Sequence[RateLimit] = LIMITS,
        order_transport: OrderTransport | None = None,
        max_connections: int = 4,
        timeout_s: float = 10.0,
        status_query_delay_s: float = 0.5,
        settle_s: float = 2.0,
        keepalive_s: float = 1800.0,
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
            rest=usdm_rest,
            errors=rest_error,
        )
        self.stream_url = stream_url
        self.settle_s = settle_s
        self.keepalive_s = keepalive_s
        self._costs = UsdmCosts(self._limiter)
        self._parser = UsdmStreamParser(self._by_symbol)
        self._queries = AccountQueries(
            self._markets,
            self._rest,
            self._costs,
            self._limiter,
            self._offset,
            self._clock,
            self._working,
            self.stats,
        )
        self._outcomes = UsdmOutcomes(
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
        return f"BinanceUsdmGateway({self.venue!r}, {self._rest.base_url!r}, {self.stream_url!r})"

    @property
    def user_stream(self) -> ListenKeyLink | None:
        """The listen-key stream, once started."""
        return self._link

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Measure the clock, check key and secret, open connections and the user stream.

        Raises:
            AuthError: the venue refused the key or the signature.
            ClockSkew: the venue's clock could not be measured.
            GatewayError: the venue refused otherwise; OSError: it cannot be reached.
        """
        await self._rest.open()
        try:
            await self._offset.sync(self._server_time)
            # the listen key needs only the API key: a signed call proves the secret too
            await self._rest.call("GET", "/fapi/v3/balance", "", self._costs.balance)
            await self._transport.start(2)
            self._link = ListenKeyLink(
                self.stream_url,
                self._rest,
                self._costs,
                self._parser,
                self._outcomes.on_stream_events,
                self._health.stream_changed,
                self._clock,
                venue=self.venue,
                backoff=self._backoff,
                keepalive_s=self.keepalive_s,
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
        """Modify one order (``PUT``): new price and total size, the same order and client id."""
        market = self._markets.get(replace.instrument)
        working = self._working.get(replace.client_order_id)
        refusal = self._health.refusal()
        if market is None:
            refusal = f"instrument {replace.instrument} is not traded on {self.venue}"
        elif working is None or working.done:
            refusal = "Unknown order sent."
        elif replace.client_order_id in self._outcomes.modifying:
            refusal = "a modify of this order is already on its way"
        if not refusal:
            assert working is not None
            assert market is not None
            try:
                query = modify_query(market, working.side, replace)
            except OrderRejected as exc:
                refusal = exc.reason
        if refusal:
            self._outcomes.report_local(replace, _K.REPLACE_REJECTED, refusal)
            return
        assert market is not None
        self._outcomes.begin_modify(replace)
        self._send(
            "PUT", ORDER_PATH, query, self._costs.modify, self._outcomes.on_replace, market, replace
        )

    # ---- awaited calls --------------------------------------------------------------------------

    async def cancel_all(self, instrument: int = -1) -> None:
        """Cancel every open order on one instrument (-1: every one) and wait until reported.

        One ``DELETE /fapi/v1/allOpenOrders`` per symbol, all written at once on the keep-alive
        connections, then every answer awaited. The orders working before are reported as the
        stream ends them; those it has not ended within ``settle_s`` are looked up.

        Raises:
            GatewayError: the venue refused.
            KeyError: ``instrument`` is not traded here.
        """
        markets = list(self._markets.values()) if instrument < 0 else [self._markets[instrument]]
        pending: list[tuple[BinanceMarket, list[str], Answer]] = []
        for market in markets:
            before = [w.client_order_id for w in self._working.live(market.instrument_id)]
            answer = Answer()
            subject = CancelOrder(client_order_id="*", instrument=market.instrument_id)
            query = cancel_all_query(market)
            self._send(
                "DELETE",
                "/fapi/v1/allOpenOrders",
                query,
                self._costs.cancel_all,
                answer,
                market,
                subject,
            )
            pending.append((market, before, answer))
        failure: GatewayError | None = None
        for market, before, answer in pending:
            response, error = await answer.future
            if error is None:
                assert response is not None
                try:
                    answers.cancel_all_answer(response.body)
                except GatewayError as exc:
                    error = exc
            if error is not None:
                failure = failure or error
                continue
            await self._settle(market, before)
        self.stats.rate = self._limiter.usage()
        if failure is not None:
            raise failure

    async def _settle(self, market: BinanceMarket, client_ids: list[str]) -> None:
        """Wait for the stream to end ``client_ids``; look up the ones it did not end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_s
        changed = self._outcomes.changed

        def left() -> list[str]:
            return [c for c in client_ids if (w := self._working.get(c)) is not None and not w.done]

        while True:
            changed.clear()
            remaining = deadline - loop.time()
            if not left() or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        for cid in left():
            request = Request(
                self._dispatch,
                "GET",
                ORDER_PATH,
                "",
                self._costs.query_order,
                self._outcomes.on_cancel,
                market,
                CancelOrder(client_order_id=cid, instrument=market.instrument_id),
            )
            await self._outcomes.look_up(
                request, GatewayError(self.venue, "cancel-all not yet reported")
            )

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the venue holds open for us on our instruments (the venue is the truth).

        Raises:
            GatewayError: the venue did not answer with its open orders.
        """
        return await self._queries.open_orders()

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """One order by our client order id (``GET /fapi/v1/order``); None when the venue has none.

        Raises:
            GatewayError: the venue did not answer with the order.
            KeyError: ``instrument`` is not traded here.
        """
        return await self._queries.order_status(instrument, client_order_id)

    async def positions(self) -> list[VenuePosition]:
        """The net position of every instrument, in lots (``positionRisk``: real positions).

        Raises:
            GatewayError: the venue did not answer with its positions.
        """
        return await self._queries.positions()

    async def balances(self) -> list[MarginBalance]:
        """The futures wallet: each margin asset's balance and what is available, exact.

        Raises:
            GatewayError: the venue did not answer with its balances.
        """
        return await self._queries.balances()

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Our trades on every instrument since ``since_ns`` (``userTrades``, oldest first).

        Args:
            since_ns: the earliest trade time wanted (at most 26 weeks back is asked).
            client_of: venue order id -> our client order id, for naming the fills.

        Raises:
            GatewayError: the venue did not answer with its trades.
        """
        return await self._queries.fills_since(since_ns, client_of)
