"""Client-side rate limiting for one venue: a token bucket per published limit, synced to headers.

A venue publishes its limits (Binance spot: ``REQUEST_WEIGHT`` 6000 per minute, ``ORDERS`` 100
per 10 s and a daily count, ``RAW_REQUESTS`` 61,000 per 5 minutes). Each becomes one bucket of
:class:`RateLimit` ``limit`` tokens. A token spent comes back one window after it was spent, so
no window of ``window_s`` ever holds more than ``limit`` spent tokens, which keeps us inside the
venue's fixed windows as well (a bucket that refilled continuously would allow twice the limit
across a window boundary). Spends are kept in coarse time slots (1/200 of the window, rounded
up, so tokens come back late rather than early), which bounds the memory of a day-long window.

Every request says what it spends in each bucket as a :class:`Cost` (a new order: 1 weight, 1 in
each order window, 1 raw request; a cancel: weight and raw only), and goes through
:meth:`RateLimiter.reserve` (the caller waits the seconds returned) or :meth:`RateLimiter.acquire`
(waits itself). The pace, bucket by bucket (venues.md §9.8):

- below 80 % of a bucket, a request goes at once;
- from 80 % to 100 %, requests are spaced out: each goes a gap after the one before it, the gap
  growing linearly from 0 (at 80 %) to the time the bucket gives back that many tokens (at 100 %),
  so the rate slows smoothly down to what the window sustains;
- a request that would overflow a bucket waits until enough tokens came back. It is queued, never
  dropped: the reservation is taken when the request asks, so a later request on the same bucket
  never overtakes it. A bucket that is not short holds nobody up: cancels (weight only) pass
  orders that wait for the order count.

Waiting is counted as used: reserved tokens count from the moment they are reserved, which may
hold a later request a little longer than needed, never less.

The venue's own counts are the truth where they are more: :meth:`RateLimiter.observe` (or
:meth:`RateLimiter.observe_headers` with ``X-MBX-USED-WEIGHT-1M`` and friends) raises a bucket to
what the venue reports, as spent now. A lower count is not taken (the venue's window may have
reset, but requests of ours still in flight are not in it yet). :meth:`RateLimiter.retry_after`
holds every request until a 429's ``Retry-After`` has passed; :meth:`RateLimiter.ban` (HTTP 418)
makes every request raise :class:`~engine.errors.IpBanned` until the ban ends.

Time comes from an injected :class:`~engine.core.clock.Clock` and waits from an injected ``sleep``,
so a test with :class:`~engine.core.clock.SimClock` is deterministic.
"""

from __future__ import annotations

import asyncio
import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Mapping, Sequence

import msgspec

from engine.core.clock import Clock
from engine.errors import IpBanned
from engine.venues.base import RateUsage

_NS = 1_000_000_000
_SLOTS_PER_WINDOW = 200
PACE_FROM = 0.8
"""Share of a bucket above which requests are spaced out."""

Sleep = Callable[[float], Awaitable[None]]


class RateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """One limit a venue publishes: at most ``limit`` tokens in any ``window_s`` seconds."""

    name: str
    """The limit's name in usage reports, e.g. ``REQUEST_WEIGHT`` or ``ORDERS_10S``."""
    limit: int
    """Tokens allowed per window."""
    window_s: float
    """Window length in seconds."""
    header: str = ""
    """The response header in which the venue reports this limit's use, if any."""

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"rate limit {self.name}: limit must be >= 1, got {self.limit}")
        if self.window_s <= 0:
            raise ValueError(
                f"rate limit {self.name}: window must be positive, got {self.window_s}"
            )


class Cost:
    """What one request spends in each bucket, resolved once against a limiter (hot path ready).

    Build it with :meth:`RateLimiter.cost`.
    """

    __slots__ = ("spends",)

    def __init__(self, spends: tuple[tuple[int, int], ...]) -> None:
        self.spends = spends
        """``(bucket index, tokens)`` pairs."""


class _Bucket:
    """One limit's spent tokens: return-time slots, ascending, with running token totals.

    ``cum[i]`` is the number of tokens spent (ever) up to and including slot ``i``, so how many
    come back by any time is one bisection away, and a request that must wait finds its time in
    ``O(log n)`` however long the queue.
    """

    __slots__ = (
        "added",
        "base",
        "cum",
        "last_spend_ns",
        "limit",
        "name",
        "pace_at",
        "returns",
        "slot_ns",
        "tail_ns",
        "waiting",
        "window_ns",
    )

    def __init__(self, limit: RateLimit) -> None:
        self.name = limit.name
        self.limit = limit.limit
        self.window_ns = int(limit.window_s * _NS)
        self.slot_ns = max(1, self.window_ns // _SLOTS_PER_WINDOW)
        self.pace_at = PACE_FROM * limit.limit
        """Tokens out above which requests are spaced out."""
        self.returns: list[int] = []
        """When each slot's tokens come back (monotonic ns), ascending."""
        self.cum: list[int] = []
        """Tokens spent ever, up to and including each slot."""
        self.added = 0
        """Tokens spent ever."""
        self.base = 0
        """Tokens spent ever in slots that came back already."""
        self.tail_ns = 0
        """Go time of the last request that had to wait for this bucket."""
        self.waiting: list[int] = []
        """Go times of reservations on this bucket still in the future: a heap."""
        self.last_spend_ns = -(1 << 62)
        """Go time of the latest spend (the pace counts from it)."""

    @property
    def spent(self) -> int:
        """Tokens out now (reserved ones included)."""
        return self.added - self.base

    def expire(self, now: int) -> None:
        returns = self.returns
        if returns and returns[0] <= now:
            n = bisect_right(returns, now)
            self.base = self.cum[n - 1]
            del returns[:n], self.cum[:n]

    def earliest(self, tokens: int, start: int, now: int) -> int:
        """The first time at or after ``start`` this bucket lets ``tokens`` go (after expire)."""
        at = max(start, self.tail_ns)
        returns, cum = self.returns, self.cum
        back = self.base  # tokens ever spent that are back by ``at``
        i = 0
        if at > now and returns:
            i = bisect_right(returns, at)
            if i:
                back = cum[i - 1]
        out = self.added - back
        need = out + tokens - self.limit
        if need > 0:  # wait for the slot by which ``need`` more tokens have come back
            j = bisect_left(cum, back + need, lo=i)
            at = returns[j]
            out = self.added - cum[j]
        pace = out + tokens - PACE_FROM * self.limit
        if pace > 0:
            share = min(1.0, pace / ((1.0 - PACE_FROM) * self.limit))
            gap = int(share * tokens * self.window_ns / self.limit)
            at = max(at, self.last_spend_ns + gap)
        return at

    def spend(self, tokens: int, at: int) -> None:
        back = -(-(at + self.window_ns) // self.slot_ns) * self.slot_ns  # round up to the slot
        returns, cum = self.returns, self.cum
        self.added += tokens
        if returns and returns[-1] == back:
            cum[-1] += tokens
        elif not returns or returns[-1] < back:
            returns.append(back)
            cum.append(self.added)
        else:  # an earlier slot than the newest: keep the order, shift the totals after it
            n = bisect_right(returns, back)
            if not n or returns[n - 1] != back:
                returns.insert(n, back)
                cum.insert(n, cum[n - 1] if n else self.base)
                n += 1
            for k in range(n - 1, len(cum)):
                cum[k] += tokens
        if at > self.last_spend_ns:
            self.last_spend_ns = at


class RateLimiter:
    """Every rate limit of one venue.

    Args:
        venue: venue name, for errors.
        limits: the venue's published limits.
        clock: where time comes from (monotonic nanoseconds).
        sleep: how :meth:`acquire` waits; ``asyncio.sleep`` by default.

    Raises:
        ValueError: when two limits share a name or there are none.
    """

    def __init__(
        self,
        venue: str,
        limits: Sequence[RateLimit],
        clock: Clock,
        *,
        sleep: Sleep | None = None,
    ) -> None:
        if not limits:
            raise ValueError(f"{venue}: a rate limiter needs at least one limit")
        names = [limit.name for limit in limits]
        if len(set(names)) != len(names):
            raise ValueError(f"{venue}: rate limit names repeat: {names}")
        self.venue = venue
        self.limits = tuple(limits)
        self._clock = clock
        self._sleep: Sleep = sleep or asyncio.sleep
        self._buckets = [_Bucket(limit) for limit in limits]
        self._index = {limit.name: n for n, limit in enumerate(limits)}
        self._headers = {limit.header.lower(): n for n, limit in enumerate(limits) if limit.header}
        self._waiting: list[int] = []
        """Go times (monotonic ns) of reservations still in the future: a heap."""
        self._paused_until = 0
        self._banned_until = 0
        self._ban_reason = ""

    def __repr__(self) -> str:
        return f"RateLimiter({self.venue!r}, {[b.name for b in self._buckets]})"

    def cost(self, spends: Mapping[str, int]) -> Cost:
        """A request's spend per limit name, e.g. ``{"REQUEST_WEIGHT": 1, "ORDERS_10S": 1}``.

        Raises:
            KeyError: a name is not one of this limiter's limits.
            ValueError: a spend is negative or more than its whole limit.
        """
        resolved = []
        for name, tokens in spends.items():
            if name not in self._index:
                raise KeyError(f"{self.venue}: no rate limit named {name!r}")
            bucket = self._buckets[self._index[name]]
            if tokens < 0 or tokens > bucket.limit:
                raise ValueError(f"{self.venue}: {tokens} {name} is outside 0..{bucket.limit}")
            if tokens:
                resolved.append((self._index[name], tokens))
        return Cost(tuple(resolved))

    # ---- spending --------------------------------------------------------------------------------

    def reserve(self, cost: Cost) -> float:
        """Take ``cost`` now and say how long the caller must wait before sending, in seconds.

        Raises:
            IpBanned: while the venue's ban lasts; nothing is reserved.
        """
        now = self._clock.monotonic_ns()
        if now < self._banned_until:
            self._raise_banned(now)
        buckets = self._buckets
        start = now if now >= self._paused_until else self._paused_until
        fast = start == now  # the common case: every bucket below its pace, nobody queued
        for index, tokens in cost.spends:
            bucket = buckets[index]
            returns = bucket.returns
            if returns and returns[0] <= now:
                bucket.expire(now)
            if fast and (
                bucket.tail_ns > now or bucket.added - bucket.base + tokens > bucket.pace_at
            ):
                fast = False
        if fast:
            for index, tokens in cost.spends:
                bucket = buckets[index]
                returns = bucket.returns
                slot = bucket.slot_ns
                if returns and returns[-1] == -(-(now + bucket.window_ns) // slot) * slot:
                    # spend()'s usual case, inline: the tokens join the newest slot
                    bucket.added += tokens
                    bucket.cum[-1] += tokens
                    if now > bucket.last_spend_ns:
                        bucket.last_spend_ns = now
                else:
                    bucket.spend(tokens, now)
            return 0.0
        return self._reserve_held(cost, start, now)

    def _reserve_held(self, cost: Cost, start: int, now: int) -> float:
        """Reserve when some bucket paces or queues: the latest go time over the buckets."""
        buckets = self._buckets
        at = start
        held = 0  # bit n: bucket n alone would have held this request
        for index, tokens in cost.spends:
            own = buckets[index].earliest(tokens, start, now)
            if own > start:
                held |= 1 << index
                if own > at:
                    at = own
        for index, tokens in cost.spends:
            bucket = buckets[index]
            bucket.spend(tokens, at)
            if held >> index & 1:
                bucket.tail_ns = max(bucket.tail_ns, at)
        if at <= now:
            return 0.0
        for index, _ in cost.spends:
            heapq.heappush(buckets[index].waiting, at)
        heapq.heappush(self._waiting, at)
        return (at - now) / _NS

    async def acquire(self, cost: Cost) -> None:
        """Wait until ``cost`` may be sent: at once, paced, or queued in order.

        Raises:
            IpBanned: when a ban is on now, or began while waiting.
        """
        delay = self.reserve(cost)
        while delay > 0:
            await self._sleep(delay)
            now = self._clock.monotonic_ns()
            if now < self._banned_until:
                self._raise_banned(now)
            delay = max(0, self._paused_until - now) / _NS  # a 429 came while we waited

    def _raise_banned(self, now: int) -> None:
        left = (self._banned_until - now) / _NS
        raise IpBanned(
            self.venue,
            f"IP banned for {left:.0f} more s; nothing is sent: {self._ban_reason}",
            retry_after_s=left,
        )

    # ---- the venue's word ------------------------------------------------------------------------

    def observe(self, used: int, window: str) -> None:
        """The venue says ``used`` tokens of limit ``window`` (a limit name) are spent.

        Only a count above ours is taken, as spent now.

        Raises:
            KeyError: ``window`` is not one of this limiter's limit names.
        """
        if window not in self._index:
            raise KeyError(f"{self.venue}: no rate limit named {window!r}")
        self._observe(self._index[window], used)

    def _observe(self, index: int, used: int) -> None:
        now = self._clock.monotonic_ns()
        bucket = self._buckets[index]
        bucket.expire(now)
        extra = used - bucket.spent
        if extra > 0:
            bucket.spend(extra, now)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Take every limit's use from response headers that report it (any header case).

        Headers that are missing or not whole numbers are ignored.
        """
        for header, index in self._headers.items():
            value = headers.get(header)
            if value is None:
                continue
            try:
                used = int(value)
            except ValueError:
                continue
            self._observe(index, used)

    def retry_after(self, seconds: float) -> None:
        """Hold every request until ``seconds`` from now have passed (a 429's ``Retry-After``)."""
        until = self._clock.monotonic_ns() + int(max(0.0, seconds) * _NS)
        self._paused_until = max(self._paused_until, until)

    def ban(self, seconds: float, reason: str = "") -> None:
        """The venue banned us (HTTP 418) for ``seconds``: every request raises until then."""
        until = self._clock.monotonic_ns() + int(max(0.0, seconds) * _NS)
        self._banned_until = max(self._banned_until, until)
        self._paused_until = max(self._paused_until, until)
        self._ban_reason = reason or "HTTP 418"

    @property
    def banned_for_s(self) -> float:
        """Seconds the ban has left, 0 when there is none."""
        return max(0, self._banned_until - self._clock.monotonic_ns()) / _NS

    @property
    def paused_for_s(self) -> float:
        """Seconds before anything may be sent again after a 429 or a ban, 0 when none."""
        return max(0, self._paused_until - self._clock.monotonic_ns()) / _NS

    # ---- reporting -------------------------------------------------------------------------------

    def usage(self) -> list[RateUsage]:
        """Every limit's use now, reservations included, and the requests waiting on it."""
        now = self._clock.monotonic_ns()
        out = []
        for bucket in self._buckets:
            bucket.expire(now)
            out.append(
                RateUsage(
                    name=bucket.name,
                    used=bucket.spent,
                    limit=bucket.limit,
                    window_s=bucket.window_ns / _NS,
                    queued=_still_waiting(bucket.waiting, now),
                )
            )
        return out

    @property
    def queued(self) -> int:
        """Requests whose reserved go time is still in the future."""
        return _still_waiting(self._waiting, self._clock.monotonic_ns())


def _still_waiting(heap: list[int], now: int) -> int:
    """How many go times in ``heap`` are after ``now`` (the others are dropped)."""
    while heap and heap[0] <= now:
        heapq.heappop(heap)
    return len(heap)
