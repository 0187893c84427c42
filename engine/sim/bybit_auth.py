"""Signed Bybit v5 requests on the local venue, checked as Bybit checks them (venues.md §3.6).

A REST request carries ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms), ``X-BAPI-RECV-WINDOW``
(ms, 5000 when absent) and ``X-BAPI-SIGN``: the HMAC-SHA256 of ``timestamp + api_key +
recv_window + payload`` with the header texts exactly as sent and the payload the raw query
string (GET) or the raw body (POST). The checks run in this order; the first that fails answers:

| check | retCode, retMsg |
|---|---|
| API key missing or unknown | 10003 ``API key is invalid.`` |
| timestamp or receive window missing or not whole ms | 10001 |
| timestamp outside ``[server - recv_window, server + 1000)`` | 10002 (with both times) |
| signature missing or wrong | 10004 ``error sign!`` |

The private WebSocket's ``auth`` op sends ``[api_key, expires_ms, signature]``, the signature
over ``"GET/realtime" + expires``; it must be signed by a known key and expire in the future.
Secrets never appear in an answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.sim.accounts import Account, Accounts
from engine.sim.bybit_wire import BybitError
from engine.venues.bybit.signing import (
    API_KEY_HEADER,
    RECV_WINDOW_HEADER,
    SIGN_HEADER,
    TIMESTAMP_HEADER,
    verify,
    ws_auth_string,
)

DEFAULT_RECV_WINDOW_MS = 5000
MAX_AHEAD_MS = 1000
BAD_KEY = "API key is invalid."
BAD_SIGN = "error sign!"


def rest_account(
    accounts: Accounts, headers: Mapping[str, str], payload: bytes, now_ms: int
) -> Account:
    """Check a signed REST request and return the account it acts for.

    Args:
        accounts: the venue's accounts.
        headers: the request's headers (any case).
        payload: the raw query string (GET) or body (POST), exactly as sent.
        now_ms: server time in ms.

    Raises:
        BybitError: the first check that fails, with Bybit's code and text.
    """
    api_key = headers.get(API_KEY_HEADER, "")
    account = accounts.by_key(api_key) if api_key else None
    if account is None:
        raise BybitError(10003, BAD_KEY)
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    window = headers.get(RECV_WINDOW_HEADER, str(DEFAULT_RECV_WINDOW_MS))
    if not timestamp.isdigit() or not window.isdigit():
        raise BybitError(10001, "params error: X-BAPI-TIMESTAMP and X-BAPI-RECV-WINDOW are ms")
    stamp, span = int(timestamp), int(window)
    if not now_ms - span <= stamp < now_ms + MAX_AHEAD_MS:
        raise BybitError(
            10002,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{stamp}],server_timestamp[{now_ms}],recv_window[{span}]",
        )
    signature = headers.get(SIGN_HEADER, "")
    signed = f"{timestamp}{api_key}{window}".encode() + payload
    if not signature or not verify(account.secret, signed, signature):
        raise BybitError(10004, BAD_SIGN)
    return account


class WsAuthRefused(Exception):
    """The private WebSocket's ``auth`` failed; the text is what the venue answers."""


def ws_account(accounts: Accounts, args: object, now_ms: int) -> Account:
    """Check the private WebSocket's ``auth`` args: ``[api_key, expires_ms, signature]``.

    Raises:
        WsAuthRefused: with the answer's ``ret_msg``.
    """
    if not isinstance(args, list) or len(args) != 3:
        raise WsAuthRefused("Params Error: auth takes [api_key, expires, signature]")
    api_key, expires, signature = args
    if not isinstance(api_key, str) or not isinstance(signature, str):
        raise WsAuthRefused("Params Error: api_key and signature are strings")
    if (
        isinstance(expires, bool)
        or not isinstance(expires, int | str)
        or not str(expires).isdigit()
    ):
        raise WsAuthRefused("Params Error: expires is a time in ms")
    account = accounts.by_key(api_key)
    if account is None:
        raise WsAuthRefused("Invalid apikey")
    if int(expires) <= now_ms:
        raise WsAuthRefused("Params Error: expires is in the past")
    if not verify(account.secret, ws_auth_string(int(expires)).encode(), signature):
        raise WsAuthRefused("error sign")
    return account
