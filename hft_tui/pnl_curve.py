"""The session's net PnL over time, kept by the UI from the trading pages it reads.

:class:`PnlRecorder` takes the portfolio's net PnL from every trading page the reader sees and
keeps one point per step (the last value in each step wins). The memory is bounded: when the
points reach ``capacity``, every two neighbours merge into one (the later one) and the step
doubles, so a whole day fits in the same few hundred points. :class:`PnlCurve` is the frozen copy
a frame carries; the positions screen draws it with :func:`chart_cells`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

#: a point every second to start with
STEP_NS = 1_000_000_000
#: points kept before neighbours merge and the step doubles
CAPACITY = 512

#: eighths of a cell filled from the bottom
_RISING = " ▁▂▃▄▅▆▇█"


@dataclass(frozen=True, slots=True)
class PnlCurve:
    """Net PnL points (ns since the epoch, value), oldest first."""

    points: tuple[tuple[int, Decimal], ...] = ()

    @property
    def last(self) -> Decimal | None:
        """The newest value, or None before the first page."""
        return self.points[-1][1] if self.points else None


NO_CURVE = PnlCurve()
"""The curve before the first trading page."""


class PnlRecorder:
    """One point per step of the net PnL the trading pages report.

    Args:
        step_ns: the first spacing of points.
        capacity: points kept before pairs merge (at least 2).
    """

    def __init__(self, step_ns: int = STEP_NS, capacity: int = CAPACITY) -> None:
        if step_ns <= 0 or capacity < 2:
            raise ValueError(
                f"PnlRecorder needs step_ns > 0 and capacity >= 2, not {step_ns}, {capacity}"
            )
        self.step_ns = step_ns
        self._capacity = capacity
        self._points: list[tuple[int, Decimal]] = []
        self._curve = PnlCurve()

    def add(self, now_ns: int, net: str) -> None:
        """Note the page's net PnL at ``now_ns``; text that is not a number is ignored."""
        try:
            value = Decimal(net)
        except InvalidOperation:
            return
        if not value.is_finite():
            return
        points = self._points
        if points and now_ns // self.step_ns == points[-1][0] // self.step_ns:
            if points[-1][1] == value:
                return
            points[-1] = (now_ns, value)
        else:
            points.append((now_ns, value))
            if len(points) > self._capacity:
                self._points = points = points[1::2] if len(points) % 2 == 0 else points[0::2]
                self.step_ns *= 2
        self._curve = PnlCurve(tuple(points))

    def curve(self) -> PnlCurve:
        """The points so far (the same object until a point changes)."""
        return self._curve


def resample(curve: PnlCurve, width: int) -> list[float]:
    """The curve as ``width`` values: the last value in each equal slice of its time span."""
    points = curve.points
    if not points or width <= 0:
        return []
    first, last = points[0][0], points[-1][0]
    span = max(last - first, 1)
    out: list[float] = []
    n = 0
    value = float(points[0][1])
    for column in range(width):
        end = first + span * (column + 1) // width
        while n < len(points) and points[n][0] <= end:
            value = float(points[n][1])
            n += 1
        out.append(value)
    return out


def chart_cells(values: Sequence[float], height: int) -> tuple[list[str], int, float, float]:
    """An area chart of ``values`` from a zero line: rows of text, top first.

    Returns:
        (rows, zero_row, top, bottom): ``zero_row`` is the first row below zero (rows above it
        show profit, from it down loss), ``top`` and ``bottom`` the values at the chart's edges.
    """
    if height < 2 or not values:
        return [""] * max(height, 0), height, 0.0, 0.0
    hi, lo = max(max(values), 0.0), min(min(values), 0.0)
    if hi == lo:
        hi = 1.0
    above = round(height * hi / (hi - lo))
    above = min(max(above, 1 if hi > 0 else 0), height - (1 if lo < 0 else 0))
    below = height - above
    unit = max(hi / above if above else 0.0, -lo / below if below else 0.0)
    rows = []
    for row in range(height):
        chars = []
        for v in values:
            if row < above:
                floor = (above - 1 - row) * unit
                fill = min(max((v - floor) / unit, 0.0), 1.0) if v > 0 else 0.0
                chars.append(_RISING[round(fill * 8)])
            else:
                ceiling = (row - above) * unit
                fill = min(max((-v - ceiling) / unit, 0.0), 1.0) if v < 0 else 0.0
                chars.append(
                    "█" if fill >= 0.75 else "▀" if fill >= 0.25 else "▔" if fill > 0 else " "
                )
        rows.append("".join(chars))
    return rows, above, above * unit, -below * unit
