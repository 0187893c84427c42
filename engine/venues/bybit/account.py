"""The Bybit gateway's awaited calls: cancel-all, open orders, positions and the wallet.

Off the order hot path and awaited by the caller (the OMS's reconciliation, the kill switch),
through the same limiter, signer and clock offset as the hot path (:mod:`engine.venues.bybit.rest`).
Lists are read page by page until ``nextPageCursor`` is empty. ``cancel_all`` is the kill
switch's path: one ``/v5/order/cancel-all`` per symbol, all at once; each order the venue lists
as cancelled is reported CANCELED with reason ``cancel-all`` (the private stream says so as well;
the OMS takes the second as a duplicate).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from engine.core.events import OrderUpdate, OrderUpdateKind
from engine.venues.base import VenueOrder, VenuePosition
from engine.venues.bybit import answers
from engine.venues.bybit.answers import CoinBalance
from engine.venues.bybit.orders import (
    BybitMarket,
    cancel_all_body,
    open_orders_query,
    positions_query,
    wallet_query,
)

if TYPE_CHECKING:
    from engine.venues.bybit.gateway import BybitLinearGateway


class AccountCalls:
    """The awaited calls of one gateway.

    Args:
        gateway: whose REST client, tracker, listener and stats are used.
        markets: the gateway's markets by instrument id.
    """

    def __init__(self, gateway: BybitLinearGateway, markets: Mapping[int, BybitMarket]) -> None:
        self._gw = gateway
        self._markets = dict(markets)
        self._by_symbol = {m.symbol: m for m in self._markets.values()}

    async def cancel_all(self, instrument: int = -1) -> None:
        """Cancel every open order on one instrument (-1: every one); wait for the answers.

        Raises:
            GatewayError: the venue refused (after every symbol was asked).
            KeyError: ``instrument`` is not traded here.
        """
        gw = self._gw
        markets = list(self._markets.values()) if instrument < 0 else [self._markets[instrument]]
        calls = [gw.rest.call("POST", "/v5/order/cancel-all", cancel_all_body(m)) for m in markets]
        results = await asyncio.gather(*calls, return_exceptions=True)
        gw.stats.requests += len(calls)
        gw.stats.rate = gw.limiter.usage()
        failure: BaseException | None = None
        for market, result in zip(markets, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or result
                continue
            now = gw.clock.time_ns()
            for ack in answers.cancel_all_acks(result):
                update = OrderUpdate(
                    venue=gw.venue,
                    instrument=market.instrument_id,
                    client_order_id=ack.order_link_id,
                    kind=OrderUpdateKind.CANCELED,
                    venue_order_id=ack.order_id,
                    reason="cancel-all",
                    recv_ts=now,
                )
                gw.emit(gw.tracker.on_update(update))
        if failure is not None:
            gw.stats.errors += 1
            raise failure

    async def open_orders(self) -> list[VenueOrder]:
        """Every order the venue holds open for us on the instruments traded here.

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        gw = self._gw
        out: list[VenueOrder] = []
        for market in self._markets.values():
            cursor = ""
            while True:
                query = open_orders_query(market, cursor)
                result = await gw.rest.call("GET", "/v5/order/realtime", query)
                gw.stats.requests += 1
                page, cursor = answers.open_orders_page(self._by_symbol, result)
                out.extend(page)
                if not cursor:
                    break
        gw.stats.rate = gw.limiter.usage()
        return out

    async def positions(self) -> list[VenuePosition]:
        """The venue's net position of every instrument traded here (0 when flat).

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        gw = self._gw
        held: dict[int, int] = {}
        for market in self._markets.values():
            cursor = ""
            while True:
                query = positions_query(market, cursor)
                result = await gw.rest.call("GET", "/v5/position/list", query)
                gw.stats.requests += 1
                page, cursor = answers.positions_page(self._by_symbol, result)
                for position in page:
                    held[position.instrument] = held.get(position.instrument, 0) + position.net_lots
                if not cursor:
                    break
        gw.stats.rate = gw.limiter.usage()
        return [VenuePosition(instrument=i, net_lots=held.get(i, 0)) for i in self._markets]

    async def wallet(self, coins: tuple[str, ...] = ()) -> list[CoinBalance]:
        """The unified account's coins (all, or ``coins``).

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        gw = self._gw
        result = await gw.rest.call("GET", "/v5/account/wallet-balance", wallet_query(coins))
        gw.stats.requests += 1
        return answers.wallet_answer(result)
