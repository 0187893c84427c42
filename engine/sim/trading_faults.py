"""Fault injection on the order side of the local venue: order endpoints and the user stream.

Reached as ``venue.faults.trading`` in-process and over ``/sim/faults/...`` (see
:mod:`engine.sim.control`). Counted faults fire on the next requests or frames:

- ``order_rate_limit_next``: order-entry requests answer 429 (-1003) or 418 (the ban text),
  with ``Retry-After``, and nothing happens;
- ``status_unknown_next``: order-entry requests answer "status unknown" after ``delay_s``:
  408 with -1007 (a backend timeout) or 503 (unavailable), the order either carried out first or
  not at all (``placed``), so a client must find out which by querying;
- ``garbage_rest_next``: REST answers (any endpoint) carry a body that is not JSON (an HTML error
  page, or JSON cut short); the request itself takes effect;
- ``slow_orders``: order-entry requests take effect at once but their answers are held ``delay_s``
  (the user stream tells the client first);
- ``malformed_user_stream_next``: a broken frame goes ahead of the next user-stream events.

Disconnecting every WebSocket-API connection, and ending every user-stream subscription with
``eventStreamTerminated``, happen at once.
"""

from __future__ import annotations

import logging
from typing import Literal, Protocol

import msgspec

from engine.sim import SimError

log = logging.getLogger("engine.sim")

UnknownAnswer = Literal["timeout", "unavailable"]


class UserStreamTarget(Protocol):
    """What the injector needs from the venue's WebSocket API for the faults that act at once."""

    def drop_user_streams(self) -> int:
        """Cut every WebSocket-API connection without a close frame; returns how many."""
        ...

    def end_user_streams(self) -> int:
        """End every user-stream subscription with ``eventStreamTerminated``; returns how many."""
        ...


class OrderRateLimitFault(msgspec.Struct, frozen=True):
    """A 429 (or 418, banned) answer to serve on an order-entry request."""

    status: int
    retry_after_s: int


class StatusUnknownFault(msgspec.Struct, frozen=True):
    """A "status unknown" answer: 408 / -1007 (``timeout``) or 503 (``unavailable``)."""

    answer: UnknownAnswer
    placed: bool
    """Whether the request is carried out before the answer."""
    delay_s: float


class ArmedTradingFaults(msgspec.Struct, frozen=True):
    """Order-side faults still waiting to fire, as counts."""

    order_rate_limited: int
    order_status: int
    order_retry_after_s: int
    status_unknown: int
    garbage_rest: int
    slow_orders: int
    slow_order_delay_s: float
    malformed_user_stream: int


class TradingFaults:
    """Arms faults on the order endpoints and the user stream.

    Args:
        target: the venue's WebSocket API (for disconnects and terminations).
    """

    def __init__(self, target: UserStreamTarget) -> None:
        self._target = target
        self._rate_limited = 0
        self._rate = OrderRateLimitFault(429, 1)
        self._unknown = 0
        self._unknown_fault = StatusUnknownFault("timeout", True, 0.0)
        self._garbage = self._garbage_sent = 0
        self._slow = 0
        self._slow_delay_s = 0.0
        self._malformed = self._malformed_sent = 0

    # ---- arming -------------------------------------------------------------------------------

    def order_rate_limit_next(
        self, count: int = 1, retry_after_s: int = 1, *, banned: bool = False
    ) -> None:
        """Answer the next ``count`` order-entry requests 429 (or 418 when ``banned``).

        Raises:
            SimError: when ``count`` is below 1 or ``retry_after_s`` below 0.
        """
        _at_least(1, count=count)
        _at_least(0, retry_after_s=retry_after_s)
        self._rate_limited += count
        self._rate = OrderRateLimitFault(418 if banned else 429, retry_after_s)
        log.info(
            "fault armed: order rate limit",
            extra={"count": count, "status": self._rate.status, "retry_after_s": retry_after_s},
        )

    def status_unknown_next(
        self,
        count: int = 1,
        *,
        placed: bool = True,
        answer: UnknownAnswer = "timeout",
        delay_s: float = 0.0,
    ) -> None:
        """Answer the next ``count`` order-entry requests with "status unknown".

        Raises:
            SimError: when ``count`` is below 1, ``delay_s`` negative or ``answer`` unknown.
        """
        _at_least(1, count=count)
        if not delay_s >= 0:
            raise SimError(f"delay_s must be zero or more, not {delay_s}")
        if answer not in ("timeout", "unavailable"):
            raise SimError(f"answer must be 'timeout' or 'unavailable', not {answer!r}")
        self._unknown += count
        self._unknown_fault = StatusUnknownFault(answer, placed, delay_s)
        log.info(
            "fault armed: order status unknown",
            extra={"count": count, "answer": answer, "placed": placed, "delay_s": delay_s},
        )

    def garbage_rest_next(self, count: int = 1) -> None:
        """Give the next ``count`` REST answers a body that is not JSON.

        Raises:
            SimError: when ``count`` is below 1.
        """
        _at_least(1, count=count)
        self._garbage += count
        log.info("fault armed: garbage REST bodies", extra={"count": count})

    def slow_orders(self, delay_s: float, count: int = 1) -> None:
        """Hold the answers to the next ``count`` order-entry requests for ``delay_s`` seconds.

        Raises:
            SimError: when ``count`` is below 1 or ``delay_s`` is negative.
        """
        _at_least(1, count=count)
        if not delay_s >= 0:
            raise SimError(f"delay_s must be zero or more, not {delay_s}")
        self._slow += count
        self._slow_delay_s = delay_s
        log.info("fault armed: slow order answers", extra={"count": count, "delay_s": delay_s})

    def malformed_user_stream_next(self, count: int = 1) -> None:
        """Send a broken frame ahead of each of the next ``count`` user-stream events.

        Raises:
            SimError: when ``count`` is below 1.
        """
        _at_least(1, count=count)
        self._malformed += count
        log.info("fault armed: malformed user-stream frames", extra={"count": count})

    def disconnect_user_streams(self) -> int:
        """Cut every WebSocket-API connection at once, without a close frame; returns how many."""
        dropped = self._target.drop_user_streams()
        log.info("fault: disconnected every user stream", extra={"connections": dropped})
        return dropped

    def terminate_user_streams(self) -> int:
        """End every user-stream subscription (``eventStreamTerminated``); returns how many."""
        ended = self._target.end_user_streams()
        log.info("fault: terminated every user-stream subscription", extra={"ended": ended})
        return ended

    def clear(self) -> None:
        """Disarm every counted fault."""
        self._rate_limited = self._unknown = self._garbage = self._slow = self._malformed = 0

    def armed(self) -> ArmedTradingFaults:
        """What is still waiting to fire."""
        return ArmedTradingFaults(
            order_rate_limited=self._rate_limited,
            order_status=self._rate.status,
            order_retry_after_s=self._rate.retry_after_s,
            status_unknown=self._unknown,
            garbage_rest=self._garbage,
            slow_orders=self._slow,
            slow_order_delay_s=self._slow_delay_s,
            malformed_user_stream=self._malformed,
        )

    # ---- firing (called by the venue) -----------------------------------------------------------

    def take_order_rate_limit(self) -> OrderRateLimitFault | None:
        """If an order-entry 429/418 is due, consume it."""
        if not self._rate_limited:
            return None
        self._rate_limited -= 1
        return self._rate

    def take_status_unknown(self) -> StatusUnknownFault | None:
        """If a "status unknown" answer is due, consume it."""
        if not self._unknown:
            return None
        self._unknown -= 1
        return self._unknown_fault

    def take_garbage(self) -> int | None:
        """If a garbage body is due, consume it and return its variant number."""
        if not self._garbage:
            return None
        self._garbage -= 1
        self._garbage_sent += 1
        return self._garbage_sent - 1

    def take_slow_order(self) -> float:
        """Seconds to hold this order answer (0 when none is due)."""
        if not self._slow:
            return 0.0
        self._slow -= 1
        return self._slow_delay_s

    def take_malformed_user_frame(self) -> int | None:
        """If a broken user-stream frame is due, consume it and return its variant number."""
        if not self._malformed:
            return None
        self._malformed -= 1
        self._malformed_sent += 1
        return self._malformed_sent - 1


def _at_least(minimum: int, **values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise SimError(f"{name} must be a whole number of at least {minimum}, not {value!r}")
