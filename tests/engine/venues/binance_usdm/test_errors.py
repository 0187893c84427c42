"""USD-M error answers as our exception classes, the venue's code and words kept."""

from __future__ import annotations

import pytest

from engine.errors import (
    AuthError,
    ClockSkew,
    IpBanned,
    OrderRejected,
    RateLimited,
    StatusUnknown,
    VenueGarbage,
)
from engine.venues.binance_usdm.errors import CODE_NAMES, rest_error


def body(code: int, msg: str) -> bytes:
    """Binance's error body."""
    return f'{{"code":{code},"msg":"{msg}"}}'.encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, -5022, OrderRejected),
        (400, -2022, OrderRejected),
        (400, -2019, OrderRejected),
        (400, -4164, OrderRejected),
        (400, -4116, OrderRejected),
        (400, -1125, OrderRejected),
        (400, -2011, OrderRejected),
        (400, -2013, OrderRejected),
        (400, -1021, ClockSkew),
        (400, -1022, AuthError),
        (401, -2015, AuthError),
        (429, -1003, RateLimited),
        (429, -1015, RateLimited),
        (408, -1007, StatusUnknown),
        (503, -1000, StatusUnknown),
    ],
)
def test_codes_map_to_classes_keeping_code_and_words(status, code, cls):
    """Every code handled becomes its class, with the venue's code and text."""
    error = rest_error(status, body(code, "the venue's words"))
    assert type(error) is cls
    assert (error.code, error.reason) == (code, "the venue's words")
    assert error.venue == "binance-usdm"


def test_a_408_without_binances_body_is_status_unknown():
    """A backend timeout with any body leaves the order's status unknown."""
    error = rest_error(408, b"<html>timeout</html>")
    assert isinstance(error, StatusUnknown)
    assert "408" in error.reason


def test_a_418_is_a_ban_with_retry_after():
    """418 bans for Retry-After seconds."""
    error = rest_error(418, body(-1003, "Way too many requests; IP banned until 1."), "120")
    assert isinstance(error, IpBanned)
    assert error.retry_after_s == 120


def test_a_4xx_that_is_not_binances_error_is_garbage():
    """A 400 with an HTML body is VenueGarbage."""
    assert isinstance(rest_error(400, b"<html>"), VenueGarbage)


def test_usdm_codes_are_named():
    """The futures codes have Binance's names; spot's are kept."""
    assert CODE_NAMES[-5022] == "GTX_ORDER_REJECT"
    assert CODE_NAMES[-2022] == "REDUCE_ONLY_REJECT"
    assert CODE_NAMES[-1021] == "INVALID_TIMESTAMP"
