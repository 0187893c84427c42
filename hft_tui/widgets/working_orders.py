"""WorkingOrders: our open orders on the shown instrument, one a line, with the selection to cancel.

The selected order is marked ``>`` and lit; ``x`` on the trade screen cancels it. When there are
more orders than lines the list scrolls to keep the selection in view.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from engine.ipc.protocol import OrderRow
from hft_tui import format as fmt
from hft_tui.format import BookText


class WorkingOrders(Widget):
    """Open orders, oldest first: side, size, price, state and how long since they changed."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "working--header",
        "working--buy",
        "working--sell",
        "working--selected",
    }
    """
    | class | what it styles |
    |---|---|
    | `working--header` | the caption line |
    | `working--buy` / `working--sell` | an order by side |
    | `working--selected` | the order ``x`` would cancel |
    """

    orders: reactive[tuple[OrderRow, ...]] = reactive(())
    """Open orders on the instrument, oldest first."""
    selected: reactive[str] = reactive("")
    """Client order id of the selected order; empty when none."""
    text: reactive[BookText | None] = reactive(None)
    """The instrument's price and size formatting."""
    now_ns: reactive[int] = reactive(0)
    """The frame's time, for ages."""

    def render(self) -> Text:
        """The caption, then as many orders as fit around the selection."""
        header = self.get_component_rich_style("working--header", partial=True)
        out = Text(no_wrap=True, overflow="crop")
        orders, text = self.orders, self.text
        if not orders or text is None:
            out.append(" no working orders", header)
            return out
        out.append(f" working {len(orders)} · ↑↓ select · x cancel", header)
        room = max(1, self.size.height - 1)
        index = next((n for n, o in enumerate(orders) if o.client_order_id == self.selected), 0)
        first = min(max(0, index - room + 1), max(0, len(orders) - room))
        for order in orders[first : first + room]:
            chosen = order.client_order_id == self.selected
            side = "buy" if order.side == 1 else "sell"
            line = (
                (">" if chosen else " ")
                + fmt.side(order.side)[0]
                + " "
                + text.size(order.size_lots - order.filled_lots).rjust(9)
                + " "
                + fmt.order_price(text, order.price_ticks).rjust(9)
                + " "
                + fmt.order_status(order.status).ljust(7)
                + " "
                + fmt.age(self.now_ns - order.ts_ns).rjust(5)
            )
            style = self.get_component_rich_style(f"working--{side}", partial=True)
            if chosen:
                style += self.get_component_rich_style("working--selected", partial=True)
            out.append("\n")
            out.append(line, style)
        return out
