"""Binance request signing: HMAC-SHA256 over REST payloads and over WebSocket-API params.

REST (venues.md §1.7): the payload is the query string followed by the body, with no separator,
exactly as sent; non-ASCII characters are percent-encoded first. The WebSocket API signs its
``params`` sorted by name as ``k=v&...`` with raw UTF-8 values (test-vectors.md §2). Both give
lowercase hex. The secret comes from the environment and is held as bytes, never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote

_SAFE = "-_.~"
"""Characters left as they are in a query value, as Binance's own connectors encode."""


def encode_params(params: Iterable[tuple[str, str]]) -> str:
    """``k=v&...`` in the given order, values percent-encoded (non-ASCII as UTF-8 bytes)."""
    return "&".join(f"{k}={quote(v, safe=_SAFE)}" for k, v in params)


def sign(secret: bytes, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``payload`` (already percent-encoded) under ``secret``."""
    return hmac.new(secret, payload.encode("ascii"), hashlib.sha256).hexdigest()


def sign_rest(secret: bytes, query: str, body: str = "") -> str:
    """The REST signature: HMAC over the query string concatenated with the body."""
    return sign(secret, query + body)


def ws_payload(params: Mapping[str, str]) -> str:
    """The WebSocket-API signing payload: every param but ``signature``, sorted, raw UTF-8."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")


def sign_ws(secret: bytes, params: Mapping[str, str]) -> str:
    """The WebSocket-API signature of ``params`` (``apiKey`` included, ``signature`` left out)."""
    return hmac.new(secret, ws_payload(params).encode("utf-8"), hashlib.sha256).hexdigest()


def verify(secret: bytes, payload: bytes, signature: str) -> bool:
    """True when ``signature`` (hex, any case) is the HMAC of ``payload``; constant time."""
    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.lower())
