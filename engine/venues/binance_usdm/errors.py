"""Binance USD-M error answers as our :class:`~engine.errors.GatewayError` classes (§2.7-2.8).

USD-M answers errors as spot does (``{"code", "msg"}`` with an HTTP status), with the same -1xxx
and -2011..-2015 codes, so :func:`rest_error` is spot's mapping
(:func:`engine.venues.binance.errors.rest_error`) with USD-M's differences:

============================================  =============================================
answer                                        class
============================================  =============================================
HTTP 408 (a backend timeout), any body        :class:`StatusUnknown` (reconcile, never resend)
-1125 (listen key gone)                       :class:`OrderRejected`; the stream makes a new key
-2018..-2027, -4xxx, -5022 ... (order rules)  :class:`OrderRejected` with the venue's code
everything else                               as on spot (429, 418, -1021, -1022, 5xx, ...)
============================================  =============================================

:data:`CODE_NAMES` names the USD-M codes handled here (the -4116, -4120, -4164 and -5022 texts
come from third-party maps, venues.md §11).
"""

from __future__ import annotations

from engine.errors import GatewayError, StatusUnknown
from engine.venues.binance import errors as spot
from engine.venues.binance_usdm.orders import VENUE

INVALID_LISTEN_KEY = -1125
REDUCE_ONLY_REJECTED = -2022
POST_ONLY_REJECTED = -5022

CODE_NAMES: dict[int, str] = {
    **spot.CODE_NAMES,
    -1125: "INVALID_LISTEN_KEY",
    -2018: "BALANCE_NOT_SUFFICIENT",
    -2019: "MARGIN_NOT_SUFFICIEN",  # sic: the name as Binance spells it
    -2020: "UNABLE_TO_FILL",
    -2021: "ORDER_WOULD_IMMEDIATELY_TRIGGER",
    -2022: "REDUCE_ONLY_REJECT",
    -2023: "USER_IN_LIQUIDATION",
    -2024: "POSITION_NOT_SUFFICIENT",
    -2025: "MAX_OPEN_ORDER_EXCEEDED",
    -2027: "MAX_LEVERAGE_RATIO",
    -4001: "PRICE_LESS_THAN_ZERO",
    -4003: "QTY_LESS_THAN_ZERO",
    -4005: "QTY_GREATER_THAN_MAX_QTY",
    -4014: "PRICE_NOT_INCREASED_BY_TICK_SIZE",
    -4016: "PRICE_HIGHER_THAN_MULTIPLIER_UP",
    -4061: "POSITION_SIDE_NOT_MATCH",
    -4116: "DUPLICATED_CLIENT_ORDER_ID",
    -4120: "USE_ALGO_ORDER_API",
    -4164: "MIN_NOTIONAL",
    -5022: "GTX_ORDER_REJECT",
    -5025: "ONLY_LIMIT_ORDER_SUPPORTED",
    -5026: "EXCEED_MAXIMUM_MODIFY_ORDER_LIMIT",
    -5027: "SAME_ORDER",
}
"""Binance's names for the codes handled here (USD-M's error-code page)."""


def rest_error(
    status: int,
    body: bytes,
    retry_after: str | None = None,
    *,
    now_ms: int = 0,
    venue: str = VENUE,
) -> GatewayError:
    """The exception for a USD-M REST answer that is not a success.

    Args:
        status: the HTTP status.
        body: the answer's body, Binance's ``{"code", "msg"}`` or anything else.
        retry_after: the ``Retry-After`` header, if any.
        now_ms: the venue's time now, for "banned until" messages.
        venue: venue name for the error.
    """
    error = spot.rest_error(status, body, retry_after, now_ms=now_ms, venue=venue)
    if status == 408 and not isinstance(error, StatusUnknown):
        return StatusUnknown(venue, f"HTTP 408 (backend timeout): {error.reason}", error.code)
    return error
