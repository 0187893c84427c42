"""The local venue's Bybit linear history: ``/v5/execution/list`` and ``/v5/order/history``.

Both read the linear desk's own records (:class:`~engine.sim.bybit_fills.LinearBook`'s
executions and remembered orders), newest first, paged with ``cursor``/``nextPageCursor`` as
every list of this venue is (:func:`~engine.sim.bybit_params.page_of`):

=========================  ================================================================
route                      does
=========================  ================================================================
``/v5/execution/list``     fills (``execType`` ``Trade``) with the ``execId`` the
                           ``execution`` topic pushed; ``limit`` 1-100, default 50
``/v5/order/history``      finished orders (Filled, Cancelled, Rejected); ``limit`` 1-50,
                           default 20
=========================  ================================================================

Filters: ``symbol`` (or ``settleCoin``/``baseCoin``; every symbol when none is given),
``orderId``, ``orderLinkId``, ``execType`` / ``orderStatus``. Time: ``startTime`` and
``endTime`` in ms span at most 7 days; with only one of them the other is 7 days away, with
neither the last 7 days are listed (Bybit's rules); a wider span is retCode 10001. Executions
are matched by ``execTime``, orders by ``createdTime``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.bybit_desk import LinearDesk
from engine.sim.bybit_params import category_of, next_cursor, page_of, params_error, symbols_of
from engine.sim.bybit_wire import CATEGORY, execution_item, order_item

WEEK_MS = 7 * 24 * 3600 * 1000
"""The widest time span one history request may cover."""
EXECUTIONS_PAGE = (50, 100)
"""``/v5/execution/list``'s default and largest ``limit``."""
HISTORY_PAGE = (20, 50)
"""``/v5/order/history``'s default and largest ``limit``."""


def time_span(params: Mapping[str, Any], now_ms: int) -> tuple[int, int]:
    """The ``[startTime, endTime]`` a history request covers, in ms.

    Raises:
        BybitError: 10001 for a time that is not a whole number of ms, an end before the start
            or a span over 7 days.
    """
    start = _ms(params, "startTime")
    end = _ms(params, "endTime")
    if start is None:
        end = now_ms if end is None else end
        return end - WEEK_MS, end
    if end is None:
        return start, start + WEEK_MS
    if end < start:
        raise params_error("endTime must not be before startTime")
    if end - start > WEEK_MS:
        raise params_error("The time range between startTime and endTime cannot exceed 7 days")
    return start, end


def _ms(params: Mapping[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not raw.isdigit():
        raise params_error(f"{name} must be a time in ms")
    return int(raw)


def _symbols(params: Mapping[str, Any], listed: Mapping[str, Instrument]) -> list[str]:
    if params.get("symbol") or params.get("settleCoin") or params.get("baseCoin"):
        return symbols_of(params, listed)
    return list(listed)


def execution_list(
    desk: LinearDesk,
    listed: Mapping[str, Instrument],
    account: Account,
    params: Mapping[str, Any],
    now_ms: int,
) -> dict[str, Any]:
    """``GET /v5/execution/list``: the account's fills, newest first, one page.

    Raises:
        BybitError: 10001 for a bad category, symbol, time span, limit or cursor.
    """
    category_of(params)
    start, end = time_span(params, now_ms)
    limit, offset = page_of(params, *EXECUTIONS_PAGE)
    order_id = params.get("orderId") or ""
    link_id = params.get("orderLinkId") or ""
    exec_type = params.get("execType") or ""
    found: list[tuple[int, int, dict[str, Any]]] = []
    if exec_type in ("", "Trade"):
        for symbol in _symbols(params, listed):
            text, mark = desk.text(symbol), desk.mark(symbol)
            for order, execution in desk.book(account, symbol).executions:
                if not start <= execution.time_ms <= end:
                    continue
                if (order_id and order.order_id != order_id) or (
                    link_id and order.order_link_id != link_id
                ):
                    continue
                item = execution_item(text, order, execution, mark)
                del item["category"]
                found.append((execution.time_ms, execution.seq, item))
    found.sort(key=lambda row: (row[0], row[1]), reverse=True)
    page = [item for _, _, item in found[offset : offset + limit]]
    cursor = next_cursor(offset, limit, len(found))
    return {"list": page, "nextPageCursor": cursor, "category": CATEGORY}


def order_history(
    desk: LinearDesk,
    listed: Mapping[str, Instrument],
    account: Account,
    params: Mapping[str, Any],
    now_ms: int,
) -> dict[str, Any]:
    """``GET /v5/order/history``: the account's finished orders, newest first, one page.

    Raises:
        BybitError: 10001 for a bad category, symbol, time span, limit or cursor.
    """
    category_of(params)
    start, end = time_span(params, now_ms)
    limit, offset = page_of(params, *HISTORY_PAGE)
    order_id = params.get("orderId") or ""
    link_id = params.get("orderLinkId") or ""
    status = params.get("orderStatus") or ""
    found: list[dict[str, Any]] = []
    for symbol in _symbols(params, listed):
        text = desk.text(symbol)
        for order in desk.orders(account, symbol):
            if order.is_open or not start <= order.created_ms <= end:
                continue
            if (order_id and order.order_id != order_id) or (
                link_id and order.order_link_id != link_id
            ):
                continue
            if status and order.status != status:
                continue
            found.append(order_item(text, order))
    found.sort(key=lambda item: int(item["createdTime"]), reverse=True)
    page = found[offset : offset + limit]
    cursor = next_cursor(offset, limit, len(found))
    return {"list": page, "nextPageCursor": cursor, "category": CATEGORY}
