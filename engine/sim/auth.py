"""Signed requests on the local venue, checked as Binance checks them (venues.md §1.7).

REST parameters may come in the query string, in an ``application/x-www-form-urlencoded`` body,
or both; a key in both takes the query string's value, and a key twice in one of them is refused
(-1101). The signature is the HMAC-SHA256 of the query string followed by the body, exactly as
sent, with the ``signature`` parameter itself left out. The WebSocket API signs its ``params``
sorted by name with raw UTF-8 values (:func:`engine.venues.binance.signing.ws_payload`).

The checks run in this order, and the first that fails answers:

| check | answer |
|---|---|
| API key missing or malformed | 401, -2014 |
| API key unknown | 401, -2015 |
| ``timestamp`` missing or not a whole number | 400, -1102 |
| ``recvWindow`` malformed / above 60000 ms | 400, -1100 / -1131 |
| ``signature`` missing | 400, -1102 |
| signature wrong | 400, -1022 |
| ``timestamp`` 1000 ms or more ahead, or older than ``recvWindow`` | 400, -1021 |

``timestamp`` may be milliseconds or microseconds (16 digits and more), and ``recvWindow``
milliseconds with up to three decimals, as on Binance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from engine.sim.accounts import Account, Accounts
from engine.sim.wire import RestError
from engine.venues.binance.signing import verify, ws_payload

DEFAULT_RECV_WINDOW_US = 5_000_000
MAX_RECV_WINDOW_US = 60_000_000
MAX_AHEAD_US = 1_000_000
_MICROS_FROM = 10**15
"""Timestamps this large are microseconds (ms timestamps stay below it until the year 33658)."""
_API_KEY = re.compile(r"^[A-Za-z0-9]{1,256}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,20}$")
_RECV_WINDOW = re.compile(r"^([0-9]{1,6})(?:\.([0-9]{1,3}))?$")
_SIGNATURE_PREFIX = b"signature="


def mandatory(name: str) -> RestError:
    """Binance's answer for a missing, empty or malformed mandatory parameter."""
    return RestError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def rest_params(raw_query: str, raw_body: bytes) -> dict[str, str]:
    """The parameters of a REST request: body and query string merged, the query string winning.

    Raises:
        RestError: -1101 when one key appears twice in the query string or twice in the body,
            -1100 when the body is not UTF-8.
    """
    try:
        body = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise RestError(400, -1100, "Illegal characters found in a parameter.") from None
    merged = _parse(body)
    merged.update(_parse(raw_query))
    return merged


def _parse(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in params:
            raise RestError(400, -1101, "Duplicate values for a parameter detected.")
        params[key] = value
    return params


def rest_account(
    accounts: Accounts,
    api_key: str | None,
    raw_query: str,
    raw_body: bytes,
    params: Mapping[str, str],
    now_us: int,
) -> Account:
    """Check a signed REST request and return the account it acts for.

    Args:
        accounts: the venue's accounts.
        api_key: the ``X-MBX-APIKEY`` header, or None when absent.
        raw_query: the query string exactly as sent (still percent-encoded).
        raw_body: the body exactly as sent.
        params: the merged parameters (see :func:`rest_params`).
        now_us: server time in microseconds.

    Raises:
        RestError: the first check that fails, with Binance's status, code and text.
    """
    account = _account(accounts, api_key)
    timestamp_us, window_us = _timing(params)
    signature = params.get("signature")
    if not signature:
        raise mandatory("signature")
    payload = _unsigned(raw_query.encode("ascii", "replace")) + _unsigned(raw_body)
    if not verify(account.secret, payload, signature):
        raise bad_signature()
    _check_window(timestamp_us, window_us, now_us)
    return account


def ws_account(accounts: Accounts, params: Mapping[str, Any], now_us: int) -> Account:
    """Check a signed WebSocket-API request (``apiKey``, ``timestamp``, ``signature`` in params).

    Raises:
        RestError: the first check that fails, with Binance's status, code and text.
    """
    api_key = params.get("apiKey")
    if not isinstance(api_key, str) or not api_key:
        raise mandatory("apiKey")
    account = _account(accounts, api_key)
    text = {k: param_text(v) for k, v in params.items()}
    timestamp_us, window_us = _timing(text)
    signature = text.get("signature")
    if not signature:
        raise mandatory("signature")
    if not verify(account.secret, ws_payload(text).encode("utf-8"), signature):
        raise bad_signature()
    _check_window(timestamp_us, window_us, now_us)
    return account


def param_text(value: object) -> str:
    """A WebSocket-API parameter value as the text that is signed (``true``, ``5000``, ...)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return "" if value is None else str(value)


def bad_signature() -> RestError:
    """Binance's answer for a wrong signature."""
    return RestError(400, -1022, "Signature for this request is not valid.")


def _account(accounts: Accounts, api_key: str | None) -> Account:
    if not api_key or not _API_KEY.match(api_key):
        raise RestError(401, -2014, "API-key format invalid.")
    account = accounts.by_key(api_key)
    if account is None:
        raise RestError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    return account


def _timing(params: Mapping[str, str]) -> tuple[int, int]:
    raw = params.get("timestamp", "")
    if not _TIMESTAMP.match(raw):
        raise mandatory("timestamp")
    timestamp = int(raw)
    timestamp_us = timestamp if timestamp >= _MICROS_FROM else timestamp * 1000
    window = params.get("recvWindow")
    if window is None:
        return timestamp_us, DEFAULT_RECV_WINDOW_US
    match = _RECV_WINDOW.match(window)
    if match is None:
        raise RestError(
            400,
            -1100,
            "Illegal characters found in parameter 'recvWindow'; "
            "legal range is '^[0-9]{1,6}(\\.[0-9]{1,3})?$'.",
        )
    whole, frac = match.groups()
    window_us = int(whole) * 1000 + int((frac or "").ljust(3, "0"))
    if window_us > MAX_RECV_WINDOW_US:
        raise RestError(400, -1131, "recvWindow must be less than 60000")
    return timestamp_us, window_us


def _check_window(timestamp_us: int, window_us: int, now_us: int) -> None:
    if timestamp_us >= now_us + MAX_AHEAD_US:
        raise RestError(
            400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if now_us - timestamp_us > window_us:
        raise RestError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def _unsigned(raw: bytes) -> bytes:
    """``raw`` without its ``signature=...`` parameter, otherwise byte for byte as sent."""
    if _SIGNATURE_PREFIX not in raw:
        return raw
    return b"&".join(p for p in raw.split(b"&") if not p.startswith(_SIGNATURE_PREFIX))
