"""QuoteSpark: the shown instrument's mid and spread as two sparklines, one point a second.

Two lines beside the ladder: ``mid`` with its sparkline, the latest mid and, when it fits, its
range over the points shown (high minus low); ``sprd`` with the spread's sparkline and the latest
spread in ticks. The newest points take the right edge; blocks run from the lowest value shown to
the highest, so the lines read by shape without colour. Before two points there is a note instead.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hft_tui.format import BookText
from hft_tui.quote_trail import NO_TRAIL, QuoteTrail, sparkline

#: the caption column: ``" mid "`` / ``" sprd "``
_LABEL_W = 6


class QuoteSpark(Widget):
    """Mid and spread sparklines of the frame's instrument."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"spark--label", "spark--mid", "spark--spread"}
    """
    | class | what it styles |
    |---|---|
    | `spark--label` | captions and the figures after the lines |
    | `spark--mid` / `spark--spread` | the two sparklines |
    """

    trail: reactive[QuoteTrail] = reactive(lambda: NO_TRAIL, always_update=False)
    """The points to draw; an equal trail draws nothing new."""
    text: reactive[BookText | None] = reactive(None, always_update=False)
    """The instrument's exact formatting; None while its grids are not known."""

    def render(self) -> Text:
        """The two lines, cropped to the width."""
        label = self.get_component_rich_style("spark--label", partial=True)
        out = Text(no_wrap=True, overflow="crop")
        points, text = self.trail.points, self.text
        if len(points) < 2 or text is None:
            out.append(" mid/spread: lines once two seconds of quotes are in", label)
            return out
        mids = [p.mid_x2 for p in points]
        spreads = [p.spread for p in points]
        last = points[-1]
        mid_note = f" {text.mid(last.mid_x2)}"
        spread_note = f" {last.spread}t"
        avail = self.size.width - _LABEL_W - max(len(mid_note), len(spread_note))
        shown = mids[-max(avail, 1) :]
        range_note = f" range {text.mid(max(shown) - min(shown))}"
        if avail - len(range_note) >= 16:
            mid_note += range_note
            avail -= len(range_note)
        width = max(avail, 4)
        out.append(" mid  ", label)
        out.append(
            sparkline(mids, width), self.get_component_rich_style("spark--mid", partial=True)
        )
        out.append(mid_note, label)
        out.append("\n")
        out.append(" sprd ", label)
        out.append(
            sparkline(spreads, width), self.get_component_rich_style("spark--spread", partial=True)
        )
        out.append(spread_note, label)
        return out
