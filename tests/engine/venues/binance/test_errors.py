"""Binance error answers mapped to the gateway error classes, code and text kept."""

from __future__ import annotations

import msgspec
import pytest

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
from engine.venues.binance.errors import CODE_NAMES, rest_error, retry_after_of, ws_error

EXPECTED: dict[int, type[GatewayError]] = {
    -1003: RateLimited,
    -1007: StatusUnknown,
    -1008: RateLimited,
    -1013: OrderRejected,
    -1015: RateLimited,
    -1021: ClockSkew,
    -1022: AuthError,
    -1102: OrderRejected,
    -1111: OrderRejected,
    -1121: OrderRejected,
    -2010: OrderRejected,
    -2011: OrderRejected,
    -2013: OrderRejected,
    -2014: AuthError,
    -2015: AuthError,
    -2021: OrderRejected,
    -2022: OrderRejected,
    -2026: OrderRejected,
}
"""Every code of venues.md §1.9 and the class it must become."""


def body(code: int, msg: str) -> bytes:
    """A Binance REST error body."""
    return msgspec.json.encode({"code": code, "msg": msg})


@pytest.mark.parametrize(("code", "cls"), sorted(EXPECTED.items()))
def test_every_listed_code_maps_to_its_class_with_code_and_text(code, cls):
    """Each §1.9 code becomes its class, carrying the venue's code and message."""
    error = rest_error(400, body(code, f"text of {code}"))
    assert type(error) is cls
    assert error.code == code
    assert error.reason == f"text of {code}"
    assert str(code) in str(error)
    assert code in CODE_NAMES


def test_a_post_only_reject_keeps_binances_words():
    """-2010 for a LIMIT_MAKER that would take is an OrderRejected with the venue's sentence."""
    error = rest_error(400, body(-2010, "Order would immediately match and take."))
    assert isinstance(error, OrderRejected)
    assert error.reason == "Order would immediately match and take."


def test_http_429_is_rate_limited_for_retry_after():
    """A 429 honours the Retry-After header."""
    error = rest_error(429, body(-1003, "Too much request weight used"), "17")
    assert type(error) is RateLimited
    assert error.retry_after_s == 17


def test_http_429_without_a_readable_retry_after_waits_a_default():
    """A 429 with no usable Retry-After still waits a little."""
    error = rest_error(429, b"", "soon")
    assert isinstance(error, RateLimited)
    assert error.retry_after_s > 0


def test_http_418_is_a_ban_for_its_retry_after():
    """A 418 is IpBanned for the Retry-After seconds."""
    error = rest_error(418, body(-1003, "Way too much request weight used; IP banned"), "120")
    assert type(error) is IpBanned
    assert error.retry_after_s == 120


def test_banned_until_in_the_message_gives_the_ban_length():
    """Without Retry-After, "IP banned until <ms>" says how long the ban lasts."""
    error = rest_error(
        418,
        body(-1003, "Way too much request weight used; IP banned until 1700000300000."),
        now_ms=1_700_000_000_000,
    )
    assert isinstance(error, IpBanned)
    assert error.retry_after_s == 300


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_status_unknown_whatever_the_body(status):
    """A 5xx means the order may or may not exist: StatusUnknown."""
    assert type(rest_error(status, b"<html>bad gateway</html>")) is StatusUnknown
    assert type(rest_error(status, body(-1001, "Internal error"))) is StatusUnknown


def test_minus_1007_is_status_unknown():
    """The venue's own timeout is StatusUnknown, never a reject."""
    error = rest_error(408, body(-1007, "Timeout waiting for response from backend server."))
    assert type(error) is StatusUnknown
    assert error.code == -1007


def test_http_403_is_a_waf_reject():
    """A 403 firewall block is a reject that says so."""
    error = rest_error(403, b"<html>Forbidden</html>")
    assert type(error) is OrderRejected
    assert "WAF" in error.reason


def test_an_unknown_code_is_a_reject_with_the_code_kept():
    """A code not in the table is still a reject carrying the venue's code."""
    error = rest_error(400, body(-9999, "Something new."))
    assert type(error) is OrderRejected
    assert error.code == -9999


def test_a_4xx_body_that_is_not_an_error_is_garbage():
    """A 4xx whose body is not ``{"code", "msg"}`` is VenueGarbage with the bytes kept."""
    error = rest_error(400, b"not json at all")
    assert type(error) is VenueGarbage
    assert error.raw == b"not json at all"


def test_a_websocket_api_error_reads_retry_after_as_a_time():
    """A WebSocket-API rate-limit error's retryAfter (epoch ms) becomes seconds to wait."""
    error = ws_error(429, -1003, "Too many requests", 1_700_000_005_000, now_ms=1_700_000_000_000)
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 5


def test_a_websocket_api_signature_error_is_an_auth_error():
    """A bad signature on the WebSocket API is AuthError, like on REST."""
    error = ws_error(400, -1022, "Signature for this request is not valid.")
    assert type(error) is AuthError


@pytest.mark.parametrize(
    ("header", "seconds"), [("5", 5.0), ("0", 0.0), (None, None), ("x", None), ("-3", None)]
)
def test_retry_after_headers_are_read_as_seconds(header, seconds):
    """Retry-After is whole seconds; anything unreadable is None."""
    assert retry_after_of(header) == seconds
