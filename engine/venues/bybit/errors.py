"""Bybit v5 error answers as our :class:`~engine.errors.GatewayError` classes (venues.md §3.8).

Every Bybit answer is ``{"retCode", "retMsg", "result", "retExtInfo", "time"}``, mostly with
HTTP 200: a ``retCode`` other than 0 is the error, and its ``retMsg`` is kept as the reason so a
trader sees the venue's own words. The HTTP status matters only when the body is not Bybit's.

=========================================================  =====================================
answer                                                     class
=========================================================  =====================================
10006, 10018 (too many visits)                             :class:`RateLimited`, waiting until
                                                           ``X-Bapi-Limit-Reset-Timestamp``
110079 (the order is being processed; retry later)         :class:`RateLimited`, a short wait
HTTP 403 "access too frequent" (the IP limit)              :class:`IpBanned` for 10 minutes
10002 (outside the receive window)                         :class:`ClockSkew` (resync, then
                                                           retry once)
10003, 10004, 10005, 10007, 10009, 10010, HTTP 401         :class:`AuthError` (key, signature,
                                                           permissions, IP whitelist)
10000, 10016, HTTP 5xx                                     :class:`StatusUnknown` (reconcile,
                                                           never resend)
10001, 110001-110094, 170xxx and every other code          :class:`OrderRejected`
a body that is not Bybit's answer                          :class:`VenueGarbage`
=========================================================  =====================================
"""

from __future__ import annotations

from collections.abc import Mapping

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

VENUE = "bybit"
DEFAULT_RETRY_AFTER_S = 1.0
"""How long to hold back after a rate-limit answer that did not say (Bybit's window is 1 s)."""
BUSY_RETRY_AFTER_S = 0.1
"""How long to wait before sending again after 110079 (the order is being processed)."""
IP_BAN_S = 600.0
"""Bybit's advice after HTTP 403 "access too frequent": stop every session for 10 minutes."""
RESET_HEADER = "x-bapi-limit-reset-timestamp"

CODE_TEXT: dict[int, str] = {
    10000: "server timeout",
    10001: "request parameter error",
    10002: "request outside the receive window",
    10003: "invalid API key",
    10004: "signature error",
    10005: "permission denied",
    10006: "too many visits",
    10007: "user authentication failed",
    10009: "IP banned",
    10010: "unmatched IP (not on the key's whitelist)",
    10016: "server error or restarting",
    10018: "too many visits (IP)",
    110001: "order does not exist",
    110003: "price outside the allowed range",
    110004: "insufficient wallet balance",
    110007: "insufficient available balance",
    110008: "order already finished or cancelled",
    110010: "order already cancelled",
    110012: "insufficient available balance",
    110017: "reduce-only order would not reduce the position",
    110072: "duplicate orderLinkId",
    110079: "order is being processed; retry later",
    110094: "below the minimum order value or qty",
    170131: "insufficient balance",
    170136: "below the minimum order qty",
    170213: "order does not exist",
}
"""What the codes handled here mean, in our words (the venue's ``retMsg`` is kept as well)."""

_CLASS_OF: dict[int, type[GatewayError]] = {
    10000: StatusUnknown,
    10016: StatusUnknown,
    10002: ClockSkew,
    10003: AuthError,
    10004: AuthError,
    10005: AuthError,
    10007: AuthError,
    10009: AuthError,
    10010: AuthError,
}
"""Codes that are neither rate limits nor plain rejects."""
_RATE_LIMITS = frozenset({10006, 10018})


class _Envelope(msgspec.Struct):
    ret_code: int = msgspec.field(name="retCode")
    ret_msg: str = msgspec.field(name="retMsg", default="")


_decode_envelope = msgspec.json.Decoder(_Envelope).decode


def retry_after_of(reset_ms: str | None, now_ms: int) -> float:
    """Seconds until ``X-Bapi-Limit-Reset-Timestamp`` (ms); the default when absent or past.

    Args:
        reset_ms: the header's text, if any.
        now_ms: the venue's time now, in ms.
    """
    if reset_ms is None or not now_ms:
        return DEFAULT_RETRY_AFTER_S
    try:
        reset = int(reset_ms)
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
    wait = (reset - now_ms) / 1000
    return wait if wait > 0 else DEFAULT_RETRY_AFTER_S


def error_of(
    ret_code: int,
    ret_msg: str,
    *,
    reset_ms: str | None = None,
    now_ms: int = 0,
    venue: str = VENUE,
) -> GatewayError:
    """The exception for a Bybit ``retCode`` (not 0) with its ``retMsg``.

    Args:
        ret_code: the venue's code.
        ret_msg: the venue's own text.
        reset_ms: ``X-Bapi-Limit-Reset-Timestamp`` of the answer, for rate limits.
        now_ms: the venue's time now (ms), to turn the reset time into a wait.
        venue: venue name for the error.
    """
    msg = ret_msg or CODE_TEXT.get(ret_code, "refused")
    if ret_code in _RATE_LIMITS:
        return RateLimited(venue, msg, ret_code, retry_after_s=retry_after_of(reset_ms, now_ms))
    if ret_code == 110079:
        return RateLimited(venue, msg, ret_code, retry_after_s=BUSY_RETRY_AFTER_S)
    cls = _CLASS_OF.get(ret_code, OrderRejected)
    return cls(venue, msg, ret_code)


def answer_error(
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    now_ms: int = 0,
    venue: str = VENUE,
) -> GatewayError | None:
    """The exception an HTTP answer carries, or None when it is a success (``retCode`` 0).

    Args:
        status: the HTTP status.
        body: the answer's body.
        headers: the answer's headers, names in lower case.
        now_ms: the venue's time now (ms).
        venue: venue name for the error.
    """
    reset = (headers or {}).get(RESET_HEADER)
    try:
        envelope: _Envelope | None = _decode_envelope(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        envelope = None
    if envelope is not None:
        if envelope.ret_code == 0 and 200 <= status < 300:
            return None
        if envelope.ret_code != 0:
            return error_of(
                envelope.ret_code, envelope.ret_msg, reset_ms=reset, now_ms=now_ms, venue=venue
            )
    text = body[:200].decode("utf-8", "replace").strip()
    detail = f"HTTP {status}" + (f": {text}" if text else "")
    if status == 403:
        return IpBanned(
            venue, f"{detail} (IP rate limit: stop for 10 minutes)", retry_after_s=IP_BAN_S
        )
    if status == 429:
        return RateLimited(venue, detail, retry_after_s=retry_after_of(reset, now_ms))
    if status == 401:
        return AuthError(venue, detail)
    if status >= 500:
        return StatusUnknown(venue, detail)
    return VenueGarbage(venue, f"HTTP {status} with a body that is not a Bybit answer", body)
