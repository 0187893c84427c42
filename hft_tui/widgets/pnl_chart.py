"""PnlChart: the session's net PnL as an area chart from a zero line, as wide as the widget.

Profit rises above the zero line in the profit colour, loss hangs below it in the loss colour;
the left axis names the top, zero and bottom values and the line under the chart the first and
last times, so the chart reads without colour too. It redraws only when handed a new curve.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hft_tui import format as fmt
from hft_tui.pnl_curve import PnlCurve, chart_cells, resample

#: columns of the value axis on the left
AXIS_W = 11


def _axis(value: float) -> str:
    return f"{value:+,.2f}"[: AXIS_W - 2].rjust(AXIS_W - 2) + " ┤"


class PnlChart(Widget):
    """Net PnL over the session."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"pnl--profit", "pnl--loss", "pnl--axis"}
    """
    | class | what it styles |
    |---|---|
    | `pnl--profit` / `pnl--loss` | the area above / below zero |
    | `pnl--axis` | the value axis and the times under the chart |
    """

    curve: reactive[PnlCurve] = reactive(PnlCurve, always_update=False)
    """The points to draw; an equal curve draws nothing new."""

    def __init__(
        self,
        *,
        empty: str = " the chart starts with the second trading page read",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.empty = empty
        """What shows before there are two points."""

    def render(self) -> Text:
        """Axis, area and times, as much as fits."""
        axis = self.get_component_rich_style("pnl--axis", partial=True)
        width, height = self.size.width - AXIS_W, self.size.height - 1
        points = self.curve.points
        out = Text(no_wrap=True, overflow="crop")
        if len(points) < 2 or width < 4 or height < 2:
            out.append(self.empty, axis)
            return out
        rows, zero, top, bottom = chart_cells(resample(self.curve, width), height)
        profit = self.get_component_rich_style("pnl--profit", partial=True)
        loss = self.get_component_rich_style("pnl--loss", partial=True)
        for n, row in enumerate(rows):
            if n == 0:
                label = _axis(top)
            elif n == zero:
                label = _axis(0.0)
            elif n == height - 1 and bottom < 0:
                label = _axis(bottom)
            else:
                label = " " * (AXIS_W - 2) + " │"
            out.append(label, axis)
            out.append(row, profit if n < zero else loss)
            out.append("\n")
        first, last = fmt.clock_time(points[0][0]), fmt.clock_time(points[-1][0])
        out.append(" " * AXIS_W + first, axis)
        out.append(last.rjust(max(width - len(first), 0)), axis)
        return out
