"""Bybit v5 rate limits on the local venue: per account and endpoint, and per IP (venues.md §3.7).

Per account (Bybit's UID), each endpoint allows ``limit`` requests in any rolling second (the
defaults of §3.7's linear column). Every signed answer carries ``X-Bapi-Limit`` (the endpoint's
limit), ``X-Bapi-Limit-Status`` (requests left) and ``X-Bapi-Limit-Reset-Timestamp`` (ms: when a
request is allowed again once the limit is spent, otherwise now). A request over the limit is
answered retCode 10006 ``Too many visits!`` and does nothing. Across every endpoint, one address
may send ``ip_limit`` requests in ``ip_window_ms``; beyond it the answer is HTTP 403 ``access too
frequent``. Time comes from an injected clock, so tests are deterministic.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping

import msgspec

ENDPOINT_LIMITS: Mapping[str, int] = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/position/list": 50,
    "/v5/account/wallet-balance": 50,
}
"""Requests per rolling second per account (Bybit's defaults for the linear category)."""
IP_LIMIT = 600
IP_WINDOW_MS = 5000
_WINDOW_MS = 1000


class LimitState(msgspec.Struct, frozen=True):
    """One request's standing against its endpoint's limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int

    def headers(self) -> dict[str, str]:
        """The ``X-Bapi-Limit*`` headers of the answer."""
        return {
            "X-Bapi-Limit": str(self.limit),
            "X-Bapi-Limit-Status": str(self.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(self.reset_ms),
        }


class BybitLimits:
    """The venue's request counts.

    Args:
        limits: requests per rolling second per account, by endpoint path.
        ip_limit: requests per ``ip_window_ms`` per address over every endpoint.
        ip_window_ms: the address window.
        clock: wall-clock nanoseconds.
    """

    def __init__(
        self,
        limits: Mapping[str, int] = ENDPOINT_LIMITS,
        *,
        ip_limit: int = IP_LIMIT,
        ip_window_ms: int = IP_WINDOW_MS,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.limits = dict(limits)
        self.ip_limit = ip_limit
        self.ip_window_ms = ip_window_ms
        self._clock = clock
        self._sent: dict[tuple[int, str], deque[int]] = {}
        self._ip: dict[str, deque[int]] = {}

    def now_ms(self) -> int:
        """The clock in ms."""
        return self._clock() // 1_000_000

    def take_ip(self, address: str) -> bool:
        """Count one request from ``address``; False when its window is spent (nothing counted)."""
        now = self.now_ms()
        sent = self._ip.setdefault(address, deque())
        _expire(sent, now - self.ip_window_ms)
        if len(sent) >= self.ip_limit:
            return False
        sent.append(now)
        return True

    def take(self, uid: int, path: str) -> LimitState:
        """Count one request of account ``uid`` on ``path``, unless its limit is spent."""
        limit = self.limits.get(path)
        now = self.now_ms()
        if limit is None:
            return LimitState(True, 0, 0, now)
        sent = self._sent.setdefault((uid, path), deque())
        _expire(sent, now - _WINDOW_MS)
        if len(sent) >= limit:
            return LimitState(False, limit, 0, sent[0] + _WINDOW_MS)
        sent.append(now)
        return LimitState(True, limit, limit - len(sent), now)


def _expire(sent: deque[int], before_ms: int) -> None:
    while sent and sent[0] <= before_ms:
        sent.popleft()
