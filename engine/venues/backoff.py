"""Reconnect delays: exponential growth from ``base_s`` to ``cap_s``, with jitter (venues.md §9.2).

The n-th consecutive failure waits a random time in ``[d/2, d]`` where ``d = min(cap, base * 2**n)``
("equal jitter"): never zero, so a venue that drops us at once is not hammered, and never in
lock-step with other clients. With the defaults the envelope runs 100 ms, 200 ms, 400 ms ... 30 s.
A connection that stayed healthy for ``reset_after_s`` starts again from the base.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays between reconnect attempts.

    Args:
        base_s: the first delay's upper bound, in seconds.
        cap_s: the largest delay, in seconds.
        rng: source of jitter; a seeded ``random.Random`` makes delays reproducible.
        reset_after_s: a connection healthy at least this long resets the attempt count.

    Raises:
        ValueError: when ``base_s`` is not positive or ``cap_s`` is below ``base_s``.
    """

    __slots__ = ("_attempt", "_rng", "base_s", "cap_s", "reset_after_s")

    def __init__(
        self,
        base_s: float = 0.1,
        cap_s: float = 30.0,
        rng: random.Random | None = None,
        reset_after_s: float = 60.0,
    ) -> None:
        if base_s <= 0:
            raise ValueError(f"backoff base must be positive, got {base_s} s")
        if cap_s < base_s:
            raise ValueError(f"backoff cap {cap_s} s is below its base {base_s} s")
        self.base_s = base_s
        self.cap_s = cap_s
        self.reset_after_s = reset_after_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """How many delays were handed out since the last reset."""
        return self._attempt

    def envelope(self, attempt: int) -> float:
        """The upper bound of the delay for the ``attempt``-th consecutive failure."""
        if attempt >= 64:  # 2**64 * base is past any cap; avoid huge floats
            return self.cap_s
        return min(self.cap_s, self.base_s * 2.0**attempt)

    def next_delay(self, healthy_for_s: float = 0.0) -> float:
        """The delay before the next attempt, in seconds; each call counts one more failure.

        Args:
            healthy_for_s: how long the connection that just ended was healthy; at least
                ``reset_after_s`` starts the sequence again from the base.
        """
        if healthy_for_s >= self.reset_after_s:
            self._attempt = 0
        bound = self.envelope(self._attempt)
        self._attempt += 1
        return bound / 2 + self._rng.uniform(0.0, bound / 2)

    def reset(self) -> None:
        """Start again from the base delay (after a healthy connection)."""
        self._attempt = 0
