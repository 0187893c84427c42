"""The shown instrument's mid and spread over time, kept by the UI from the book pages it reads.

:class:`QuoteRecorder` takes every live, two-sided book view the reader sees and keeps one point
per step of the UI clock (the last view in each step wins), the newest :data:`CAPACITY` of them.
Points are integers: the mid as ``bid + ask`` (twice the mid, in ticks, so it stays exact) and the
spread in ticks. :class:`QuoteTrail` is the frozen copy a frame carries; :func:`sparkline` draws
the newest values as one line of eighth-height blocks scaled between their low and high.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from engine.ipc.protocol import BookView

#: a point a second
STEP_NS = 1_000_000_000
#: the newest points kept (five minutes at the default step)
CAPACITY = 300

#: eighths of a cell filled from the bottom; the lowest value still shows as a sliver
_BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class QuotePoint:
    """One step's last quote."""

    ts_ns: int
    """The UI clock's time of the view, ns since the epoch."""
    mid_x2: int
    """Best bid plus best ask, ticks (twice the mid)."""
    spread: int
    """Best ask minus best bid, ticks."""


@dataclass(frozen=True, slots=True)
class QuoteTrail:
    """Mid and spread points, oldest first."""

    points: tuple[QuotePoint, ...] = ()


NO_TRAIL = QuoteTrail()
"""The trail before the first live book."""


class QuoteRecorder:
    """One point per step of the mid and spread of the books read.

    Args:
        step_ns: the spacing of points.
        capacity: the newest points kept (at least 2).
    """

    def __init__(self, step_ns: int = STEP_NS, capacity: int = CAPACITY) -> None:
        if step_ns <= 0 or capacity < 2:
            raise ValueError(
                f"QuoteRecorder needs step_ns > 0 and capacity >= 2, not {step_ns}, {capacity}"
            )
        self.step_ns = step_ns
        self._points: deque[QuotePoint] = deque(maxlen=capacity)
        self._trail = NO_TRAIL

    def add(self, now_ns: int, view: BookView) -> None:
        """Note the view's top at ``now_ns``; a book not live or with an empty side is skipped."""
        if view.state != "live" or not view.bids or not view.asks:
            return
        bid, ask = view.bids[0][0], view.asks[0][0]
        point = QuotePoint(now_ns, bid + ask, ask - bid)
        points = self._points
        if points and now_ns // self.step_ns == points[-1].ts_ns // self.step_ns:
            last = points[-1]
            if (last.mid_x2, last.spread) == (point.mid_x2, point.spread):
                return
            points[-1] = point
        else:
            points.append(point)
        self._trail = QuoteTrail(tuple(points))

    def trail(self) -> QuoteTrail:
        """The points so far (the same object until a point changes)."""
        return self._trail


def sparkline(values: Sequence[int], width: int) -> str:
    """The newest ``width`` values as blocks from the lowest (``▁``) to the highest (``█``).

    A flat run draws at mid height, so a constant spread reads as steady rather than as zero.
    """
    if width <= 0 or not values:
        return ""
    shown = values[-width:]
    lo, hi = min(shown), max(shown)
    if hi == lo:
        return _BLOCKS[3] * len(shown)
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[(v - lo) * top // (hi - lo)] for v in shown)
