"""Venue timestamps as integer nanoseconds, exactly: RFC 3339 text and decimal seconds.

``2026-08-09T21:05:48.483587501Z`` (Coinbase, nine digits), ``2023-07-30T15:29:58.343415Z``
(Kraken v2) and ``1618678133.365913`` (Kraken v1 seconds) all become Unix nanoseconds without
going through a float.
"""

from __future__ import annotations

import calendar
import re

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\Z"
)


def rfc3339_ns(text: str) -> int:
    """Unix nanoseconds of an RFC 3339 timestamp with up to nine fraction digits.

    Raises:
        ValueError: the text is not such a timestamp.
    """
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"timestamp {text!r} is not RFC 3339")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    seconds = calendar.timegm(
        (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
    )
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * 1_000_000_000 + int((frac or "").ljust(9, "0"))


def seconds_ns(text: str) -> int:
    """Unix nanoseconds of decimal seconds text such as ``1618678133.365913``.

    Raises:
        ValueError: the text is not plain non-negative decimal seconds.
    """
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 9:
        raise ValueError(f"timestamp {text!r} is not decimal seconds")
    return int(whole) * 1_000_000_000 + int(frac.ljust(9, "0"))
