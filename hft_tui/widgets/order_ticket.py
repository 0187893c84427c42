"""OrderTicket: the keyboard order ticket: size presets, the price each key would send, last answer.

Four lines: the size presets (``1``-``3``, the chosen one lit); the buy keys with the prices they
would use (``b`` at the bid, ``B`` at the ask, ``m`` market); the same for sells (``s`` at the ask,
``S`` at the bid, ``M`` market); and the last word on our orders: what was just sent or refused
here, until the trading page shows the engine's answer (working, filled, or REJECTED with the
risk check's or venue's reason).
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from engine.ipc.protocol import OrderRow
from hft_tui import format as fmt
from hft_tui.frame import Frame


def _key(order: OrderRow | None) -> tuple[str, str, int]:
    return (order.client_order_id, order.status, order.filled_lots) if order else ("", "", 0)


class OrderTicket(Widget):
    """The ticket of the frame's instrument."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket--label",
        "ticket--key",
        "ticket--preset",
        "ticket--chosen",
        "ticket--buy",
        "ticket--sell",
        "ticket--note",
        "ticket--bad",
    }
    """
    | class | what it styles |
    |---|---|
    | `ticket--label` | captions |
    | `ticket--key` | the keys |
    | `ticket--preset` / `ticket--chosen` | a size preset / the one in use |
    | `ticket--buy` / `ticket--sell` | the prices the keys would send |
    | `ticket--note` | the last answer |
    | `ticket--bad` | a refusal or a rejected order |
    """

    frame: reactive[Frame | None] = reactive(None)
    """The latest frame; None until the UI is attached to an engine."""
    presets: reactive[tuple[str, ...]] = reactive(())
    """The size presets as exact text."""
    chosen: reactive[int] = reactive(0)
    """Index of the preset in use."""
    note: reactive[tuple[str, bool]] = reactive(("", False))
    """What the ticket last did here, and whether it was a refusal."""

    _baseline: tuple[str, str, int] = ("", "", 0)

    def watch_note(self) -> None:
        """Hold the note until the engine's answer changes the instrument's latest order."""
        frame = self.frame
        self._baseline = _key(frame.desk.latest(frame.instrument) if frame else None)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _prices(
        self, line: Text, side: str, keys: tuple[str, str, str], near: str, far: str
    ) -> None:
        price = self._style(f"ticket--{side}")
        line.append(f" {side:<4} ", self._style("ticket--label"))
        for key, value in zip(keys, (near, far, "mkt"), strict=True):
            line.append(key, self._style("ticket--key"))
            line.append(f" {value} ", price)

    def _last(self, frame: Frame | None) -> tuple[str, bool]:
        if frame is None:
            return (" waiting for the engine", False)
        latest = frame.desk.latest(frame.instrument)
        note, bad = self.note
        if note and _key(latest) == self._baseline:
            return (" " + note, bad)
        if latest is None:
            return (" no orders on this instrument yet", False)
        text = frame.desk.market(latest.instrument).text
        size = fmt.size_or_lots(text, latest.size_lots)
        status = fmt.order_status(latest.status)
        reason = f": {latest.reason}" if latest.reason and latest.status == "rejected" else ""
        counter = latest.client_order_id.rpartition("-")[2]
        line = f" last #{counter} {fmt.side(latest.side)} {size} {status}{reason}"
        return (line, latest.status == "rejected")

    def render(self) -> Text:
        """The four lines."""
        frame = self.frame
        out = Text(no_wrap=True, overflow="crop")
        out.append(" size", self._style("ticket--label"))
        for n, preset in enumerate(self.presets):
            chosen = "ticket--chosen" if n == self.chosen else "ticket--preset"
            out.append(" ")
            out.append(f"{n + 1} {preset}", self._style(chosen))
        out.append("\n")
        bid = ask = "-"
        book = frame.book if frame is not None else None
        if book is not None and frame is not None and frame.book_state == "live":
            text = fmt.book_text(book.tick_size, book.lot_size)
            bid = text.price(book.bids[0][0]) if book.bids else "-"
            ask = text.price(book.asks[0][0]) if book.asks else "-"
        self._prices(out, "buy", ("b", "B", "m"), bid, ask)
        out.append("\n")
        self._prices(out, "sell", ("s", "S", "M"), ask, bid)
        out.append("\n")
        note, bad = self._last(frame)
        out.append(note, self._style("ticket--bad" if bad else "ticket--note"))
        return out
