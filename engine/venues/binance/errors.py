"""Binance spot error answers as our :class:`~engine.errors.GatewayError` classes (venues.md §1.9).

A REST error is an HTTP status with a body ``{"code": -2010, "msg": "..."}``; a WebSocket-API
error is ``{"status": 400, "error": {"code": ..., "msg": ...}}`` with ``retryAfter`` (epoch ms) in
the body of rate-limit errors. Either becomes one exception that keeps the venue's code and its
own text, so the trader sees what the venue said:

============================================  =============================================
answer                                        class
============================================  =============================================
HTTP 429, -1003, -1008, -1015, -1034          :class:`RateLimited` (``Retry-After`` kept)
HTTP 418, -1003 "IP banned until ..."         :class:`IpBanned` (until the ban ends)
-1021                                         :class:`ClockSkew` (resync, then retry once)
-1002, -1022, -1099, -2014, -2015, HTTP 401   :class:`AuthError` (fix the key or secret)
-1000, -1001, -1006, -1007, HTTP 5xx          :class:`StatusUnknown` (reconcile, never resend)
-1013, -1100...-1130, -2010...-2026, 403      :class:`OrderRejected`
a 4xx whose body is not Binance's error       :class:`VenueGarbage`
============================================  =============================================

Codes we do not know in a 4xx answer are :class:`OrderRejected` with the code kept.
"""

from __future__ import annotations

import re

import msgspec

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

VENUE = "binance"
DEFAULT_RETRY_AFTER_S = 1.0
"""How long to hold back after a rate-limit answer that did not say."""

CODE_NAMES: dict[int, str] = {
    -1000: "UNKNOWN",
    -1001: "DISCONNECTED",
    -1002: "UNAUTHORIZED",
    -1003: "TOO_MANY_REQUESTS",
    -1006: "UNEXPECTED_RESP",
    -1007: "TIMEOUT",
    -1008: "SERVER_BUSY",
    -1013: "INVALID_MESSAGE",
    -1015: "TOO_MANY_ORDERS",
    -1021: "INVALID_TIMESTAMP",
    -1022: "INVALID_SIGNATURE",
    -1034: "TOO_MANY_CONNECTIONS",
    -1099: "NOT_FOUND",
    -1100: "ILLEGAL_CHARS",
    -1101: "TOO_MANY_PARAMETERS",
    -1102: "MANDATORY_PARAM_EMPTY_OR_MALFORMED",
    -1103: "UNKNOWN_PARAM",
    -1104: "UNREAD_PARAMETERS",
    -1105: "PARAM_EMPTY",
    -1106: "PARAM_NOT_REQUIRED",
    -1111: "BAD_PRECISION",
    -1112: "NO_DEPTH",
    -1114: "TIF_NOT_REQUIRED",
    -1115: "INVALID_TIF",
    -1116: "INVALID_ORDER_TYPE",
    -1117: "INVALID_SIDE",
    -1121: "BAD_SYMBOL",
    -1125: "INVALID_LISTEN_KEY",
    -1127: "MORE_THAN_XX_HOURS",
    -1128: "OPTIONAL_PARAMS_BAD_COMBO",
    -1130: "INVALID_PARAMETER",
    -2010: "NEW_ORDER_REJECTED",
    -2011: "CANCEL_REJECTED",
    -2013: "NO_SUCH_ORDER",
    -2014: "BAD_API_KEY_FMT",
    -2015: "REJECTED_MBX_KEY",
    -2021: "ORDER_CANCEL_REPLACE_PARTIALLY_FAILED",
    -2022: "ORDER_CANCEL_REPLACE_FAILED",
    -2026: "ORDER_ARCHIVED",
}
"""Binance's names for the codes handled here (``errors.md``)."""

_CLASS_OF: dict[int, type[GatewayError]] = {
    -1000: StatusUnknown,
    -1001: StatusUnknown,
    -1006: StatusUnknown,
    -1007: StatusUnknown,
    -1002: AuthError,
    -1022: AuthError,
    -1099: AuthError,
    -2014: AuthError,
    -2015: AuthError,
    -1021: ClockSkew,
    -1003: RateLimited,
    -1008: RateLimited,
    -1015: RateLimited,
    -1034: RateLimited,
}
"""Codes that are not plain rejects; every other code is :class:`OrderRejected`."""

_BANNED_UNTIL = re.compile(r"banned until (\d{10,16})", re.IGNORECASE)


class _ErrorBody(msgspec.Struct):
    code: int
    msg: str


_decode_error = msgspec.json.Decoder(_ErrorBody).decode


def error_of(
    code: int,
    msg: str,
    *,
    status: int = 400,
    retry_after_s: float | None = None,
    now_ms: int = 0,
    venue: str = VENUE,
) -> GatewayError:
    """The exception for a Binance error ``code`` with its ``msg``, answered with ``status``.

    Args:
        code: the venue's code (0 when the answer had none).
        msg: the venue's own text.
        status: the HTTP status (the WebSocket API's ``status`` field).
        retry_after_s: ``Retry-After`` when the answer carried it.
        now_ms: the venue's time now, to read "banned until <ms>" as a duration.
        venue: venue name for the error.
    """
    if status == 418 or (code == -1003 and "banned" in msg.lower()):
        return IpBanned(venue, msg, code, retry_after_s=_ban_left_s(msg, retry_after_s, now_ms))
    if status == 429:
        return RateLimited(venue, msg, code, retry_after_s=retry_after_s or DEFAULT_RETRY_AFTER_S)
    cls = _CLASS_OF.get(code)
    if cls is RateLimited:
        return RateLimited(venue, msg, code, retry_after_s=retry_after_s or DEFAULT_RETRY_AFTER_S)
    if cls is not None:
        return cls(venue, msg, code)
    if status >= 500:
        return StatusUnknown(venue, f"HTTP {status}: {msg}", code)
    if status == 401:
        return AuthError(venue, msg, code)
    return OrderRejected(venue, msg, code)


def _ban_left_s(msg: str, retry_after_s: float | None, now_ms: int) -> float:
    if retry_after_s is not None:
        return retry_after_s
    match = _BANNED_UNTIL.search(msg)
    if match is not None and now_ms:
        until_ms = int(match.group(1))
        if until_ms > 10**14:  # microseconds
            until_ms //= 1000
        return max(0.0, (until_ms - now_ms) / 1000)
    return 120.0  # Binance's shortest ban


def retry_after_of(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (Binance sends whole seconds); None when unreadable."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def rest_error(
    status: int,
    body: bytes,
    retry_after: str | None = None,
    *,
    now_ms: int = 0,
    venue: str = VENUE,
) -> GatewayError:
    """The exception for a REST answer that is not a success (any status but 2xx).

    Args:
        status: the HTTP status.
        body: the answer's body, Binance's ``{"code", "msg"}`` or anything else.
        retry_after: the ``Retry-After`` header, if any.
        now_ms: the venue's time now, for "banned until" messages.
        venue: venue name for the error.
    """
    wait = retry_after_of(retry_after)
    try:
        parsed: _ErrorBody | None = _decode_error(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        parsed = None
    if parsed is not None:
        return error_of(
            parsed.code, parsed.msg, status=status, retry_after_s=wait, now_ms=now_ms, venue=venue
        )
    text = body[:200].decode("utf-8", "replace").strip()
    if status == 403:
        return OrderRejected(venue, "HTTP 403: the venue's firewall (WAF) blocked the request")
    if status in (418, 429) or status >= 500 or status == 401:
        return error_of(
            0,
            f"HTTP {status}" + (f": {text}" if text else ""),
            status=status,
            retry_after_s=wait,
            now_ms=now_ms,
            venue=venue,
        )
    return VenueGarbage(venue, f"HTTP {status} with a body that is not a Binance error", body)


def ws_error(
    status: int,
    code: int,
    msg: str,
    retry_after_ms: int | None = None,
    *,
    now_ms: int = 0,
    venue: str = VENUE,
) -> GatewayError:
    """The exception for a WebSocket-API error answer (``retryAfter`` is an epoch time in ms)."""
    wait = None
    if retry_after_ms is not None and now_ms:
        wait = max(0.0, (retry_after_ms - now_ms) / 1000)
    return error_of(code, msg, status=status, retry_after_s=wait, now_ms=now_ms, venue=venue)
