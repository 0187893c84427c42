"""Bybit retCodes and HTTP answers mapped to the gateway error classes, code and text kept."""

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
from engine.venues.bybit.errors import (
    CODE_TEXT,
    DEFAULT_RETRY_AFTER_S,
    IP_BAN_S,
    answer_error,
    error_of,
    retry_after_of,
)

EXPECTED: dict[int, type[GatewayError]] = {
    10001: OrderRejected,
    10002: ClockSkew,
    10003: AuthError,
    10004: AuthError,
    10005: AuthError,
    10006: RateLimited,
    10016: StatusUnknown,
    10018: RateLimited,
    110001: OrderRejected,
    170213: OrderRejected,
    110003: OrderRejected,
    110004: OrderRejected,
    110007: OrderRejected,
    110012: OrderRejected,
    170131: OrderRejected,
    110008: OrderRejected,
    110010: OrderRejected,
    110017: OrderRejected,
    110072: OrderRejected,
    110079: RateLimited,
    110094: OrderRejected,
    170136: OrderRejected,
}
"""Every retCode of venues.md §3.8 and the class it must become."""


def answer(code: int, msg: str) -> bytes:
    """A Bybit answer body."""
    return msgspec.json.encode(
        {"retCode": code, "retMsg": msg, "result": {}, "retExtInfo": {}, "time": 1}
    )


@pytest.mark.parametrize(("code", "cls"), sorted(EXPECTED.items()))
def test_every_listed_code_maps_to_its_class_with_code_and_text(code, cls):
    """Each §3.8 code becomes its class, carrying the venue's code and retMsg."""
    error = answer_error(200, answer(code, f"text of {code}"))
    assert error is not None
    assert type(error) is cls
    assert error.code == code
    assert error.reason == f"text of {code}"
    assert error.venue == "bybit"
    assert code in CODE_TEXT


def test_success_is_no_error():
    """A retCode of 0 with HTTP 200 is not an error."""
    assert answer_error(200, answer(0, "OK")) is None


def test_rate_limit_waits_until_the_reset_timestamp():
    """10006 waits until X-Bapi-Limit-Reset-Timestamp, measured against the venue's time."""
    headers = {"x-bapi-limit-reset-timestamp": "1700000000750"}
    error = answer_error(200, answer(10006, "Too many visits!"), headers, now_ms=1700000000000)
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == pytest.approx(0.75)
    assert error.reason == "Too many visits!"


def test_rate_limit_without_a_usable_reset_waits_the_default():
    """A missing, malformed or past reset time waits the default second."""
    assert retry_after_of(None, 5) == DEFAULT_RETRY_AFTER_S
    assert retry_after_of("soon", 5) == DEFAULT_RETRY_AFTER_S
    assert retry_after_of("4", 5) == DEFAULT_RETRY_AFTER_S
    assert retry_after_of("1500", 0) == DEFAULT_RETRY_AFTER_S


def test_unknown_codes_are_rejects_with_the_code_kept():
    """A code not in the table is an OrderRejected that keeps the code and text."""
    error = error_of(123456, "something new")
    assert type(error) is OrderRejected
    assert (error.code, error.reason) == (123456, "something new")
    assert "123456" in str(error)


def test_empty_ret_msg_is_replaced_by_our_words():
    """An error without retMsg says what the code means."""
    assert error_of(10004, "").reason == "signature error"


def test_http_403_is_the_ip_limit_and_holds_ten_minutes():
    """HTTP 403 without a Bybit body is the IP rate limit: banned for 10 minutes."""
    error = answer_error(403, b"access too frequent")
    assert isinstance(error, IpBanned)
    assert error.retry_after_s == IP_BAN_S
    assert "access too frequent" in error.reason


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthError), (429, RateLimited), (500, StatusUnknown), (502, StatusUnknown)],
)
def test_http_statuses_without_a_bybit_body(status, cls):
    """A non-Bybit body is classed by its HTTP status."""
    assert type(answer_error(status, b"<html>bad gateway</html>")) is cls


def test_a_body_that_is_not_bybits_is_garbage():
    """A 200 or 404 whose body is not Bybit's answer is VenueGarbage, raw bytes kept."""
    for status, body in ((200, b"<html>"), (404, b"not found"), (200, b'{"ok":1}')):
        error = answer_error(status, body)
        assert isinstance(error, VenueGarbage)
        assert error.raw == body
