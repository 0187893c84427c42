"""When a lost market-data link may be opened again: backoff, a per-minute cap and an alert.

:class:`ReconnectPolicy` decides the wait before each new connection of a
:class:`~engine.venues.stream_feed.StreamFeed` (venues.md §9.2):

- the :class:`~engine.venues.backoff.Backoff` delay (exponential, jittered, reset by a connection
  that stayed healthy), taken after every connection that ended;
- at most ``max_per_minute`` connection attempts in any 60 s window, whatever the backoff says
  (and also when the venue asked us to move at once): a link that flaps every second would
  otherwise open hundreds of connections an hour, which venues punish with bans (Binance bans
  IPs that reconnect in a loop);
- a count of failures in a row (a connection that never opened, or closed before it was
  healthy for ``healthy_after_s``); on the ``alert_after``-th the policy says so once, and
  again (recovered) when a connection stays up.
"""

from __future__ import annotations

import collections
import enum

from engine.venues.backoff import Backoff

_WINDOW_S = 60.0


class LinkAlert(enum.Enum):
    """What the policy has to say about the link after a connection ended or held."""

    NONE = "none"
    FAILING = "failing"
    """``alert_after`` failures in a row: tell the operator."""
    RECOVERED = "recovered"
    """A connection held after the failing alert."""


class ReconnectPolicy:
    """Reconnect delays with a cap on attempts per minute and an alert on repeated failures.

    Args:
        backoff: the delay envelope; 100 ms doubling to 30 s with jitter by default.
        max_per_minute: most connection attempts in any 60 s window.
        alert_after: failures in a row that raise :attr:`LinkAlert.FAILING`.
        healthy_after_s: a connection up this long is a success, not a failure.

    Raises:
        ValueError: a limit is not positive.
    """

    def __init__(
        self,
        backoff: Backoff | None = None,
        *,
        max_per_minute: int = 12,
        alert_after: int = 5,
        healthy_after_s: float = 10.0,
    ) -> None:
        if max_per_minute < 1:
            raise ValueError(f"max_per_minute must be at least 1, got {max_per_minute}")
        if alert_after < 1:
            raise ValueError(f"alert_after must be at least 1, got {alert_after}")
        self.backoff = backoff or Backoff()
        self.max_per_minute = max_per_minute
        self.alert_after = alert_after
        self.healthy_after_s = healthy_after_s
        self.failures_in_row = 0
        """Connections in a row that failed or did not stay healthy."""
        self.throttled = 0
        """Waits lengthened by the per-minute cap."""
        self.alerting = False
        """True from the failing alert until a connection holds."""
        self._attempts: collections.deque[float] = collections.deque()

    def attempt(self, now_s: float) -> None:
        """A connection attempt starts now (monotonic seconds)."""
        self._attempts.append(now_s)
        self._expire(now_s)

    def held(self) -> LinkAlert:
        """The connection opened now has been healthy for ``healthy_after_s``."""
        self.failures_in_row = 0
        self.backoff.reset()
        if self.alerting:
            self.alerting = False
            return LinkAlert.RECOVERED
        return LinkAlert.NONE

    def ended(self, up_for_s: float, *, opened: bool) -> LinkAlert:
        """A connection ended after ``up_for_s`` seconds (``opened`` False: it never opened)."""
        if opened and up_for_s >= self.healthy_after_s:
            return self.held()
        self.failures_in_row += 1
        if self.failures_in_row == self.alert_after and not self.alerting:
            self.alerting = True
            return LinkAlert.FAILING
        return LinkAlert.NONE

    def delay(self, now_s: float, healthy_for_s: float = 0.0, *, at_once: bool = False) -> float:
        """Seconds to wait before the next attempt.

        Args:
            now_s: monotonic seconds now.
            healthy_for_s: how long the connection that ended was up (resets the backoff).
            at_once: the venue asked us to move: no backoff, only the per-minute cap.
        """
        wait = 0.0 if at_once else self.backoff.next_delay(healthy_for_s)
        room = self.room_in_s(now_s)
        if room > wait:
            self.throttled += 1
            return room
        return wait

    def room_in_s(self, now_s: float) -> float:
        """Seconds until one more attempt fits in the window (0 when it fits now)."""
        self._expire(now_s)
        if len(self._attempts) < self.max_per_minute:
            return 0.0
        oldest = self._attempts[len(self._attempts) - self.max_per_minute]
        return max(0.0, oldest + _WINDOW_S - now_s)

    def attempts_last_minute(self, now_s: float) -> int:
        """Connection attempts in the 60 s before ``now_s``."""
        self._expire(now_s)
        return len(self._attempts)

    def _expire(self, now_s: float) -> None:
        attempts = self._attempts
        while attempts and attempts[0] <= now_s - _WINDOW_S:
            attempts.popleft()
