"""The replay: market events and the venue's answers in one simulated time line.

```
source (ts, event) ─► venue side at ts (matching core: queue, fills)  ─► reports at +response
                   └► engine side at ts + feed latency (books, strategy, risk, OMS)
engine commands at local t ─► core at t + entry (in send order) ─► reports at +response
```

:class:`Replay` owns the order of things. Before a market event at ``ts`` reaches the venue,
everything due at or before ``ts`` happens first, in time order: market data reaching the engine
(after the feed latency) and the venue's commands and reports (a tie goes to the venue's
reports). With no feed latency the engine sees an event right after the venue applied it and
delivered what it caused, exactly as the paper gateway does on live data.

Speed: :meth:`Replay.run` goes as fast as it can; :class:`ReplayControl` paces a replay at real
time x N with pause, step and seek (forward in place; backward by building the run again from
its factory), for a screen to drive.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

from backtest.source import MarketEvent
from engine.core.clock import SimClock
from engine.sim.latency import LatencyModel

DRAIN_ROUNDS = 100_000
"""Deliveries allowed after the last event (a strategy answering reports forever ends here)."""


class ReplayTarget(Protocol):
    """What a replay drives: the venue side and the engine side of one run."""

    clock: SimClock

    def next_due_ns(self) -> int | None:
        """When the venue next processes a command or shows us a report, or None."""
        ...

    def deliver(self) -> None:
        """The venue's commands and reports due by the clock's time."""
        ...

    def to_venue(self, ts: int, event: MarketEvent) -> None:
        """A market event reaches the venue at ``ts`` (the clock is there)."""
        ...

    def to_engine(self, event: MarketEvent) -> None:
        """A market event reaches the engine (the clock is at its arrival)."""
        ...

    def tick(self, now_ns: int) -> None:
        """The clock moved to ``now_ns``: housekeeping and samples that fell due."""
        ...

    def finish(self) -> None:
        """The replay is over."""
        ...


class Replay:
    """Steps one run's market events and the venue's answers; see the module docstring.

    Args:
        target: the run.
        events: (replay ns, event) in replay order.
        feed: draws the feed latency per event (ns); None is zero.
    """

    def __init__(
        self,
        target: ReplayTarget,
        events: Iterator[tuple[int, MarketEvent]],
        feed: LatencyModel | None = None,
    ) -> None:
        self.target = target
        self.clock = target.clock
        self._events = events
        self._feed = feed
        self._pending: deque[tuple[int, MarketEvent]] = deque()
        self._last_visible = 0
        self.events = 0
        """Market events replayed so far."""
        self.done = False
        """True once every event was replayed and the answers drained."""

    @property
    def now_ns(self) -> int:
        """Where the replay is in simulated time."""
        return self.clock.time_ns()

    def step(self) -> bool:
        """Replay one market event (and everything due before it); False once finished."""
        if self.done:
            return False
        nxt = next(self._events, None)
        if nxt is None:
            self._drain()
            return False
        ts, event = nxt
        target = self.target
        self._until(ts)
        clock = self.clock
        if ts > clock.time_ns():
            clock.set(ts)
        target.tick(ts)
        target.to_venue(ts, event)
        self.events += 1
        feed = self._feed
        if feed is None:
            target.to_engine(event)
            return True
        visible = ts + feed.feed_ns()
        if visible < self._last_visible:
            visible = self._last_visible  # one connection: data never overtakes older data
        self._last_visible = visible
        self._pending.append((visible, event))
        return True

    def run(self, until_ns: int | None = None, max_events: int | None = None) -> int:
        """Replay as fast as possible, to the end or up to a time or event count.

        Returns:
            Events replayed by this call.
        """
        done = 0
        step = self.step
        if until_ns is None and max_events is None:
            while step():
                done += 1
            return done
        limit = max_events if max_events is not None else -1
        while done != limit:
            if until_ns is not None and self.clock.time_ns() >= until_ns:
                break
            if not step():
                break
            done += 1
        return done

    def close(self) -> None:
        """Abandon an unfinished replay: the run is finished where it stands (nothing drained)."""
        if not self.done:
            self.done = True
            self.target.finish()

    def _until(self, ts: int) -> None:
        """Everything the venue and the feed have due at or before ``ts``, in time order."""
        target = self.target
        clock = self.clock
        pending = self._pending
        while True:
            due = target.next_due_ns()
            seen = pending[0][0] if pending else None
            if seen is not None and seen <= ts and (due is None or seen < due):
                if seen > clock.time_ns():
                    clock.set(seen)
                target.tick(seen)
                target.to_engine(pending.popleft()[1])
            elif due is not None and due <= ts:
                if due > clock.time_ns():
                    clock.set(due)
                target.tick(due)
                target.deliver()
            else:
                return

    def _drain(self) -> None:
        """After the last event: what is still in flight lands, then the run finishes."""
        target = self.target
        for _ in range(DRAIN_ROUNDS):
            due = target.next_due_ns()
            seen = self._pending[0][0] if self._pending else None
            nxt = min(t for t in (due, seen) if t is not None) if (due or seen) else None
            if nxt is None:
                break
            self._until(nxt)
        self.done = True
        target.finish()


class ReplayControl:
    """Paces a replay for a screen: real time x ``speed`` (None: as fast as possible).

    Args:
        factory: builds a fresh :class:`Replay` of the run (seeking backwards replays from it).
        speed: simulated seconds per wall second; None runs flat out.
        wall: the wall clock in ns (tests pass their own).
    """

    def __init__(
        self,
        factory: Callable[[], Replay],
        speed: float | None = 1.0,
        wall: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._factory = factory
        self.replay = factory()
        self.speed = speed
        self.paused = False
        self._wall = wall
        self._anchor: tuple[int, int] | None = None  # (wall ns, sim ns) pacing starts from

    def pause(self) -> None:
        """Stop advancing until :meth:`resume`."""
        self.paused = True
        self._anchor = None

    def resume(self) -> None:
        """Go on at the set speed."""
        self.paused = False
        self._anchor = None

    def set_speed(self, speed: float | None) -> None:
        """Real time x ``speed`` from now (None: flat out)."""
        self.speed = speed
        self._anchor = None

    def step(self) -> bool:
        """One market event, paused or not; False at the end."""
        return self.replay.step()

    def seek(self, ts_ns: int) -> None:
        """Jump to simulated time ``ts_ns``: forward in place, backward by replaying from the start.

        Everything between is replayed at full speed (the run's results stay exact).
        """
        if ts_ns < self.replay.now_ns:
            self.replay.close()
            self.replay = self._factory()
        self.replay.run(until_ns=ts_ns)
        self._anchor = None

    def advance(self) -> float:
        """Replay what is due by the wall clock now; returns seconds until more is due (0: now).

        Paused or finished, nothing moves and the answer is a short poll interval.
        """
        replay = self.replay
        if self.paused or replay.done:
            return 0.05
        if self.speed is None:
            replay.run(max_events=10_000)
            return 0.0
        now = self._wall()
        if self._anchor is None:
            self._anchor = (now, replay.now_ns)
        wall0, sim0 = self._anchor
        target = sim0 + int((now - wall0) * self.speed)
        replay.run(until_ns=target)
        return min(0.05, max(0.0, (replay.now_ns - target) / self.speed / 1e9))

    async def run(self) -> None:
        """Advance until the replay is done, yielding to the event loop between slices."""
        while not self.replay.done:  # noqa: ASYNC110 - pacing by the wall clock, no event to wait on
            await asyncio.sleep(self.advance())
