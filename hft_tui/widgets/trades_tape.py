"""TradesTape: the latest public trades of one instrument, newest at the top.

Drawn with the Line API from the frozen tuple of trades it was handed; it shows as many as fit.
The aggressor side is a letter (B/S) as well as a colour, so it reads without colour too.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from hft_tui.format import BookText, clock_time
from hft_tui.frame import TapeTrade

_PRICE_W = 10
_SIZE_W = 9


class TradesTape(Widget):
    """Public trades, newest first: time (UTC), aggressor side, price, size."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tape--header",
        "tape--time",
        "tape--buy",
        "tape--sell",
    }
    """
    | class | what it styles |
    |---|---|
    | `tape--header` | the column captions |
    | `tape--time` | the trade time |
    | `tape--buy` / `tape--sell` | side, price and size of a trade, by aggressor |
    """

    trades: reactive[tuple[TapeTrade, ...]] = reactive(())
    """The trades to show, newest first."""
    text: reactive[BookText | None] = reactive(None)
    """Price and size formatting of the instrument; nothing is shown without it."""

    def render_line(self, y: int) -> Strip:
        """The header on line 0, then one trade per line."""
        width = self.size.width
        base = self.visual_style.rich_style
        if y == 0:
            caption = (
                " "
                + "time (UTC)".ljust(12)
                + "   "
                + "price".rjust(_PRICE_W)
                + " "
                + "size".rjust(_SIZE_W)
            )
            style = self.get_component_rich_style("tape--header")
            return Strip([Segment(caption, style)]).crop_extend(0, width, base)
        text, trades = self.text, self.trades
        index = y - 1
        if text is None or index >= len(trades):
            return Strip.blank(width, base)
        trade = trades[index]
        side_style = self.get_component_rich_style("tape--buy" if trade.buy else "tape--sell")
        numbers = (
            f" {'B' if trade.buy else 'S'} "
            f"{text.price(trade.price).rjust(_PRICE_W)} {text.size(trade.size).rjust(_SIZE_W)}"
        )
        segments = [
            Segment(" " + clock_time(trade.exch_ts), self.get_component_rich_style("tape--time")),
            Segment(numbers, side_style),
        ]
        return Strip(segments).crop_extend(0, width, base)
