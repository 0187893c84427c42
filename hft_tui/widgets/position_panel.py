"""PositionPanel: the shown instrument's position and PnL, and today's PnL against its limit.

Three lines beside the ladder: net position and average entry; unrealised, realised and fees;
the day's net PnL with the daily loss limit and how much of it is used. Figures are the engine's
exact text; profit and loss get their own colour and a sign, so they read without colour too.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hft_tui import format as fmt
from hft_tui.frame import Frame


class PositionPanel(Widget):
    """Position and PnL of the frame's instrument."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "position--label",
        "position--value",
        "position--profit",
        "position--loss",
    }
    """
    | class | what it styles |
    |---|---|
    | `position--label` | captions |
    | `position--value` | plain figures |
    | `position--profit` / `position--loss` | figures above / below zero |
    """

    frame: reactive[Frame | None] = reactive(None)
    """The latest frame; None until the UI is attached to an engine."""

    def _money(self, line: Text, label: str, value: str) -> None:
        line.append(label, self.get_component_rich_style("position--label", partial=True))
        sign = fmt.pnl_class(value)
        style = "position--value" if sign == "flat" else f"position--{sign}"
        line.append(fmt.money(value), self.get_component_rich_style(style, partial=True))

    def render(self) -> Text:
        """The three lines."""
        label = self.get_component_rich_style("position--label", partial=True)
        value = self.get_component_rich_style("position--value", partial=True)
        out = Text(no_wrap=True, overflow="crop")
        frame = self.frame
        page = frame.desk.page if frame is not None else None
        if frame is None or page is None:
            out.append(" position: waiting for the trading page", label)
            return out
        market = frame.desk.market(frame.instrument)
        text = market.text
        pos = frame.desk.position(frame.instrument)
        out.append(" pos ", label)
        if pos is None or text is None or pos.net_lots == 0:
            out.append("flat", value)
        else:
            out.append(text.signed_size(pos.net_lots), value)
            out.append(" @ ", label)
            out.append(pos.avg_entry or "?", value)
        out.append("\n")
        self._money(out, " unrl ", pos.unrealised if pos is not None else "0")
        self._money(out, " real ", pos.realised if pos is not None else "0")
        out.append(" fees ", label)
        out.append(fmt.amount(pos.fees) if pos is not None else "0", value)
        out.append("\n")
        self._money(out, " day ", page.daily)
        out.append(f"  limit -{page.daily_loss_limit}", label)
        out.append(f"  used {fmt.loss_used(page.daily, page.daily_loss_limit)}", label)
        return out
