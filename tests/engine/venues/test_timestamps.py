"""Venue timestamps to integer nanoseconds, with no float on the way."""

from __future__ import annotations

import pytest

from engine.venues.timestamps import rfc3339_ns, seconds_ns


def test_rfc3339_keeps_every_digit():
    """Nine fraction digits (Coinbase), six (Kraken v2), none, and an offset."""
    assert rfc3339_ns("2026-08-09T21:05:48.483587501Z") == 1786309548483587501
    assert rfc3339_ns("2023-07-30T15:29:58.343415Z") == 1690730998343415000
    assert rfc3339_ns("1970-01-01T00:00:01Z") == 1_000_000_000
    assert rfc3339_ns("1970-01-01T01:00:01+01:00") == 1_000_000_000


def test_decimal_seconds_keep_every_digit():
    """Kraken v1 level and trade times."""
    assert seconds_ns("1618678133.365913") == 1618678133365913000
    assert seconds_ns("7") == 7_000_000_000


@pytest.mark.parametrize("text", ["2026-08-09 21:05", "2026-08-09T21:05:48.1234567891Z", "x"])
def test_bad_rfc3339_is_refused(text):
    """Anything else raises ValueError naming the text."""
    with pytest.raises(ValueError, match="RFC 3339"):
        rfc3339_ns(text)


@pytest.mark.parametrize("text", ["-1.5", "1.2.3", "", "1e9"])
def test_bad_seconds_are_refused(text):
    """Signs, exponents and garbage are not decimal seconds."""
    with pytest.raises(ValueError, match="decimal seconds"):
        seconds_ns(text)
