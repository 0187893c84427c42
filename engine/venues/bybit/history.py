"""The Bybit gateway's reconciliation calls: one order's status, and our fills since a time.

Reconciliation (the engine's ``reconcile``) asks these at start and after every reconnect:

- ``order_status``: ``GET /v5/order/realtime`` by ``orderLinkId`` lists the order while it
  works and for a while after it ended; when the venue lists nothing there,
  ``GET /v5/order/history`` (the last 7 days of finished orders) is asked. None when neither has
  it: the venue never took the order.
- ``fills_since``: ``GET /v5/execution/list`` (category linear, per symbol) from ``since_ns``
  to now, in spans of 7 days (the most one request may cover), each read page by page with
  ``cursor`` until ``nextPageCursor`` is empty, 100 records a page. Records are the
  ``execution`` topic's items, so the fills carry the same trade ids (``execId``) as the
  private stream's and booking them twice changes nothing. The venue keeps two years of them.

Both go through the gateway's limiter (50 requests a second per endpoint, venues.md §3.7),
signer and clock offset (:mod:`engine.venues.bybit.rest`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

from engine.core.events import Fill
from engine.errors import VenueGarbage
from engine.venues.base import VenueOrder
from engine.venues.bybit import answers
from engine.venues.bybit.orders import (
    BybitMarket,
    decode,
    executions_query,
    open_orders_query,
    order_history_query,
)
from engine.venues.bybit.private import ExecutionItem, PrivateParser

if TYPE_CHECKING:
    from engine.venues.bybit.gateway import BybitLinearGateway

log = logging.getLogger("engine.venues.bybit")

_MS = 1_000_000
WEEK_MS = 7 * 24 * 3600 * 1000
"""The widest span one ``/v5/execution/list`` request may cover."""
KEPT_MS = 730 * 24 * 3600 * 1000
"""How far back the venue keeps executions (two years)."""
PAGE = 100
"""Records asked for per ``/v5/execution/list`` page (the most Bybit gives)."""


class _ExecutionPage(msgspec.Struct, kw_only=True):
    items: list[ExecutionItem] = msgspec.field(name="list")
    next_page_cursor: str = msgspec.field(name="nextPageCursor", default="")


def executions_page(
    parser: PrivateParser,
    result: msgspec.Raw,
    client_of: Mapping[str, str],
    recv_ts: int,
) -> tuple[list[Fill], str]:
    """``GET /v5/execution/list``: one page's fills of our symbols and the next page's cursor.

    Funding and settlement records, and symbols we do not trade, are left out. A record without
    an ``orderLinkId`` is named through ``client_of`` (venue order id -> client order id).

    Raises:
        VenueGarbage: a field is missing or malformed.
    """
    page = decode(result, _ExecutionPage, "execution list")
    out = []
    for item in page.items:
        fill = parser.fill(item, recv_ts)
        if fill is None:
            continue
        if not fill.client_order_id and fill.venue_order_id in client_of:
            fill = msgspec.structs.replace(fill, client_order_id=client_of[fill.venue_order_id])
        out.append(fill)
    return out, page.next_page_cursor


class HistoryCalls:
    """The reconciliation calls of one gateway.

    Args:
        gateway: whose REST client, limiter, clock offset and stats are used.
        markets: the gateway's markets by instrument id.
    """

    def __init__(self, gateway: BybitLinearGateway, markets: Mapping[int, BybitMarket]) -> None:
        self._gw = gateway
        self._markets = dict(markets)
        self._parser = PrivateParser({m.symbol: m for m in self._markets.values()}, gateway.venue)

    async def order_status(self, instrument: int, client_order_id: str) -> VenueOrder | None:
        """One order by our client order id, open or finished; None when the venue has none.

        Raises:
            GatewayError: the venue refused or answered garbage.
            KeyError: ``instrument`` is not traded here.
        """
        gw = self._gw
        market = self._markets[instrument]
        query = open_orders_query(market, order_link_id=client_order_id)
        result = await gw.rest.call("GET", "/v5/order/realtime", query)
        gw.stats.requests += 1
        found = answers.order_record(market, result, client_order_id)
        if found is None:
            query = order_history_query(market, client_order_id)
            result = await gw.rest.call("GET", "/v5/order/history", query)
            gw.stats.requests += 1
            found = answers.order_record(market, result, client_order_id)
        gw.stats.rate = gw.limiter.usage()
        return found

    async def fills_since(
        self, since_ns: int, client_of: Mapping[str, str] | None = None
    ) -> list[Fill]:
        """Our executions on every instrument since ``since_ns``, oldest first.

        Args:
            since_ns: the earliest execution time wanted.
            client_of: venue order id -> our client order id, for records without ``orderLinkId``.

        Raises:
            GatewayError: the venue refused or answered garbage.
        """
        gw = self._gw
        names = client_of or {}
        now_ms = gw.clock_offset.timestamp_ms()
        earliest = now_ms - KEPT_MS
        if since_ns // _MS < earliest:
            log.warning(
                "fills asked for further back than the venue keeps them; from two years ago",
                extra={"venue": gw.venue, "since_ms": since_ns // _MS},
            )
        fills: dict[str, Fill] = {}
        for market in self._markets.values():
            start = max(earliest, since_ns // _MS)
            while start <= now_ms:
                end = min(start + WEEK_MS, now_ms)
                cursor = ""
                while True:
                    query_cursor = cursor
                    query = executions_query(market, start, end, cursor, PAGE)
                    result = await gw.rest.call("GET", "/v5/execution/list", query)
                    gw.stats.requests += 1
                    page, cursor = executions_page(self._parser, result, names, gw.clock.time_ns())
                    for fill in page:
                        fills.setdefault(fill.trade_id, fill)
                    if not cursor:
                        break
                    if cursor == query_cursor:
                        raise VenueGarbage(gw.venue, f"execution list repeats cursor {cursor!r}")
                start = end + 1
        gw.stats.rate = gw.limiter.usage()
        return sorted(fills.values(), key=lambda f: f.exch_ts)
