"""Bybit v5 request signing: HMAC-SHA256 over timestamp, API key, receive window and payload.

REST (venues.md §3.6, test-vectors.md §9): the string signed is
``timestamp + api_key + recv_window + payload``, where ``payload`` is the query string exactly as
sent for a GET and the raw JSON body for a POST. The lowercase hex digest rides in
``X-BAPI-SIGN`` next to ``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP`` (ms) and ``X-BAPI-RECV-WINDOW``
(ms). The private WebSocket authenticates with ``{"op":"auth","args":[api_key, expires_ms,
signature]}``, the signature taken over ``"GET/realtime" + expires_ms``.

Bybit publishes no signature for a known secret, so only the string construction can be checked
against its documentation; the digest is the standard library's HMAC. The secret is held as a
keyed HMAC state made once and never shown.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

API_KEY_HEADER = "X-BAPI-API-KEY"
TIMESTAMP_HEADER = "X-BAPI-TIMESTAMP"
SIGN_HEADER = "X-BAPI-SIGN"
RECV_WINDOW_HEADER = "X-BAPI-RECV-WINDOW"
WS_AUTH_PREFIX = "GET/realtime"
"""What the private WebSocket's auth signature covers, followed by the expiry in ms."""


def sign_string(timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str) -> str:
    """The text a REST request signs: ``timestamp + api_key + recv_window + payload``."""
    return f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"


def ws_auth_string(expires_ms: int) -> str:
    """The text the private WebSocket's ``auth`` op signs: ``GET/realtime`` + expiry (ms)."""
    return f"{WS_AUTH_PREFIX}{expires_ms}"


def sign(secret: bytes, text: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``text`` (UTF-8) under ``secret``."""
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(secret: bytes, text: bytes, signature: str) -> bool:
    """True when ``signature`` (hex, any case) is the HMAC of ``text``; constant time."""
    expected = hmac.new(secret, text, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.lower())


def ws_auth_frame(api_key: str, expires_ms: int, signature: str, req_id: str = "auth") -> str:
    """The private WebSocket's ``auth`` request frame."""
    frame = {"req_id": req_id, "op": "auth", "args": [api_key, expires_ms, signature]}
    return msgspec.json.encode(frame).decode()


class BybitSigner:
    """Signs REST requests and WebSocket auth for one API key; neither key nor secret is shown.

    Args:
        api_key: the API key (sent in ``X-BAPI-API-KEY``).
        secret: the API secret.
        recv_window_ms: ``X-BAPI-RECV-WINDOW`` of every request.
    """

    __slots__ = ("_api_key", "_mac", "recv_window_ms")

    def __init__(self, api_key: str, secret: bytes, recv_window_ms: int = 5000) -> None:
        self._api_key = api_key
        self._mac = hmac.new(secret, digestmod=hashlib.sha256)
        self.recv_window_ms = recv_window_ms

    def __repr__(self) -> str:
        return f"BybitSigner(<key hidden>, recv_window_ms={self.recv_window_ms})"

    def sign(self, text: str) -> str:
        """Lowercase hex signature of ``text``."""
        mac = self._mac.copy()
        mac.update(text.encode("utf-8"))
        return mac.hexdigest()

    def headers(self, timestamp_ms: int, payload: str) -> dict[str, str]:
        """The four signing headers of one request whose payload (query or body) is ``payload``."""
        window = self.recv_window_ms
        signature = self.sign(sign_string(timestamp_ms, self._api_key, window, payload))
        return {
            API_KEY_HEADER: self._api_key,
            TIMESTAMP_HEADER: str(timestamp_ms),
            SIGN_HEADER: signature,
            RECV_WINDOW_HEADER: str(window),
        }

    def ws_auth(self, expires_ms: int, req_id: str = "auth") -> str:
        """The signed ``auth`` frame for the private WebSocket, valid until ``expires_ms``."""
        return ws_auth_frame(
            self._api_key, expires_ms, self.sign(ws_auth_string(expires_ms)), req_id
        )
