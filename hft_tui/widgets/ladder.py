"""Ladder: the price ladder of one book, 10 asks above 10 bids, with spread and mid between.

Drawn with the Line API: each refresh rebuilds 22 short lines from the frozen
:class:`~engine.ipc.protocol.BookView` it was handed. A book that is not ``live`` is never shown
as valid: the widget gets the ``-invalid`` class (the stylesheet dims it) and the state replaces
the spread and mid.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from engine.ipc.protocol import BookView
from hft_tui.format import book_text

#: levels shown on each side
LEVELS = 10
#: header + asks + spread/mid + bids
HEIGHT = 1 + LEVELS + 1 + LEVELS
_PRICE_W = 11
_SIZE_W = 11
_BAR_X = 1 + _PRICE_W + 1 + _SIZE_W + 1
_EIGHTHS = " ▏▎▍▌▋▊▉"

Row = tuple[tuple[str, str], ...]
"""One line as (text, component class) pieces."""

_STATE_LABELS = {
    "live": "LIVE",
    "syncing": "SYNCING",
    "crossed": "CROSSED",
    "stale": "STALE",
    "waiting": "WAITING",
}
_STATE_NOTES = {
    "syncing": "SYNCING: book not valid",
    "crossed": "CROSSED: book not valid",
    "stale": "STALE: engine not updating",
    "waiting": "waiting for the first book",
}


def size_bar(size: int, largest: int, width: int) -> str:
    """A bar of ``width`` cells scaled to ``size / largest``, in eighths of a cell."""
    if largest <= 0 or width <= 0 or size <= 0:
        return ""
    eighths = max(1, size * width * 8 // largest)
    full, part = divmod(min(eighths, width * 8), 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


class Ladder(Widget):
    """Price ladder of one book: worst shown ask at the top, best bid under the spread line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ladder--header",
        "ladder--state",
        "ladder--ask",
        "ladder--bid",
        "ladder--best-ask",
        "ladder--best-bid",
        "ladder--ask-bar",
        "ladder--bid-bar",
        "ladder--spread",
        "ladder--note",
    }
    """
    | class | what it styles |
    |---|---|
    | `ladder--header` | the column captions |
    | `ladder--state` | the book-state badge (LIVE, SYNCING, ...) |
    | `ladder--ask` / `ladder--bid` | price and size of a level |
    | `ladder--best-ask` / `ladder--best-bid` | the best level on each side |
    | `ladder--ask-bar` / `ladder--bid-bar` | size bars |
    | `ladder--spread` | the spread and mid line |
    | `ladder--note` | the line that replaces spread and mid when the book is not valid |
    """

    book: reactive[BookView | None] = reactive(None)
    """The book to show; a new frozen view replaces the old one whole."""
    book_state: reactive[str] = reactive("waiting")
    """``live`` when the book may be shown as valid; anything else dims it."""

    _rows: list[Row] | None = None

    def watch_book(self) -> None:
        """Rebuild the lines for the new book."""
        self._rows = None

    def watch_book_state(self, state: str) -> None:
        """Dim the ladder unless the book is live."""
        self.set_class(state != "live", "-invalid")
        self._rows = None

    def _build(self) -> list[Row]:
        width = self.size.width
        state = self.book_state
        badge = f" {_STATE_LABELS.get(state, state.upper())} "
        header: Row = (
            (" " + "price".rjust(_PRICE_W) + " " + "size".rjust(_SIZE_W) + " ", "ladder--header"),
            (badge, "ladder--state"),
        )
        rows: list[Row] = [header]
        book = self.book
        if book is None:
            rows.extend(() for _ in range(LEVELS))
            rows.append(((" " + _STATE_NOTES["waiting"], "ladder--note"),))
            rows.extend(() for _ in range(LEVELS))
            return rows
        text = book_text(book.tick_size, book.lot_size)
        asks = book.asks[:LEVELS]
        bids = book.bids[:LEVELS]
        largest = max((size for _, size in asks + bids), default=0)
        bar_w = max(0, width - _BAR_X - 1)

        def level(price: int, size: int, side: str, best: bool) -> Row:
            style = f"ladder--best-{side}" if best else f"ladder--{side}"
            numbers = (
                " " + text.price(price).rjust(_PRICE_W) + " " + text.size(size).rjust(_SIZE_W) + " "
            )
            return ((numbers, style), (size_bar(size, largest, bar_w), f"ladder--{side}-bar"))

        rows.extend(() for _ in range(LEVELS - len(asks)))
        rows.extend(
            level(price, size, "ask", n == 0)
            for n, (price, size) in reversed(list(enumerate(asks)))
        )
        if state != "live":
            rows.append(((" " + _STATE_NOTES.get(state, state.upper()), "ladder--note"),))
        elif asks and bids:
            best_bid, best_ask = bids[0][0], asks[0][0]
            line = (
                f" spread {text.spread(best_ask - best_bid)}  mid {text.mid(best_bid + best_ask)}"
            )
            rows.append(((line, "ladder--spread"),))
        else:
            rows.append(((" one side of the book is empty", "ladder--note"),))
        rows.extend(level(price, size, "bid", n == 0) for n, (price, size) in enumerate(bids))
        rows.extend(() for _ in range(LEVELS - len(bids)))
        return rows

    def notify_style_update(self) -> None:
        """Styles changed (theme, classes): draw again with the new ones."""
        super().notify_style_update()
        self._rows = None

    def on_resize(self) -> None:
        """Bars depend on the width."""
        self._rows = None

    def render_line(self, y: int) -> Strip:
        """One line of the ladder."""
        if self._rows is None:
            self._rows = self._build()
        width = self.size.width
        base = self.visual_style.rich_style
        if y >= len(self._rows):
            return Strip.blank(width, base)
        segments = [
            Segment(text, self.get_component_rich_style(component))
            for text, component in self._rows[y]
            if text
        ]
        return Strip(segments).crop_extend(0, width, base)
