"""Ladder: the price ladder of one book, asks above bids, the book state, spread and mid between.

Drawn with the Line API from the frozen :class:`~engine.ipc.protocol.BookView` it was handed. It
shows as many levels a side as its height allows (10 at 80x24, up to the 20 a book page holds);
the middle line carries the book-state badge with the spread and mid. Our own resting orders are
marked on their levels (``● size``, ``xn`` for several, then ``q size`` for the public size
queued ahead of the first of them when the gateway estimates it) in place of the size bar; a
price we rest on with no public size gets a level of its own (its size column blank). A book
that is not ``live`` is never shown as valid: the widget gets the ``-invalid`` class (the
stylesheet dims it) and the state replaces the spread and mid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.segment import Segment
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from engine.ipc.protocol import BookView
from hft_tui.format import BookText, book_text

#: levels shown on each side at the standard height
LEVELS = 10
#: asks + state/spread/mid line + bids at the standard height
HEIGHT = LEVELS + 1 + LEVELS
#: the most levels a side shown on a tall terminal
MAX_LEVELS = 20
_PRICE_W = 11
_SIZE_W = 11
_BAR_X = 1 + _PRICE_W + 1 + _SIZE_W + 1
_EIGHTHS = " ▏▎▍▌▋▊▉"

Row = tuple[tuple[str, str], ...]
"""One line as (text, component class) pieces."""
Ours = Mapping[tuple[int, int], tuple[int, int, int]]
"""(side 1 buy / 2 sell, price ticks) -> (our resting lots, how many orders, public lots queued
ahead of the first of them, or -1 when not known)."""

_STATE_LABELS = {
    "live": "LIVE",
    "syncing": "SYNCING",
    "crossed": "CROSSED",
    "stale": "STALE",
    "waiting": "WAITING",
}
_STATE_NOTES = {
    "syncing": "book not valid",
    "crossed": "book not valid",
    "stale": "engine not updating",
    "waiting": "waiting for the first book",
}


def size_bar(size: int, largest: int, width: int) -> str:
    """A bar of ``width`` cells scaled to ``size / largest``, in eighths of a cell."""
    if largest <= 0 or width <= 0 or size <= 0:
        return ""
    eighths = max(1, size * width * 8 // largest)
    full, part = divmod(min(eighths, width * 8), 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def our_mark(text: BookText, lots: int, orders: int, ahead: int, *, room: int) -> str:
    """``● 0.00300 x2 q 1.20000``: our lots, the order count, the public lots queued ahead.

    When that is wider than ``room``, the spaces go, then our own lots (the queue is what the
    size bar's place cannot show otherwise); it is never cut inside a number.
    """
    count = f"x{orders}" if orders > 1 else ""
    queue = f"q {text.size(ahead)}" if ahead >= 0 else ""
    wide = " ".join(p for p in ("●", text.size(lots), count, queue) if p)
    if len(wide) <= room or not queue:
        return wide
    tight = f"●{text.size(lots)}{count} q{text.size(ahead)}"
    return tight if len(tight) <= room else f"●{count} q{text.size(ahead)}"


def with_ours(
    levels: list[tuple[int, int]],
    ours: list[int],
    count: int,
    *,
    bids: bool,
    other_best: int | None = None,
) -> list[tuple[int, int]]:
    """The best ``count`` levels of one side with our prices that have no public size added.

    A price of ours inside the range shown (or anywhere, when the side has fewer levels than
    ``count``) gets a level of its own, public size 0, so every order we rest there is drawn;
    one at or through ``other_best`` (the other side's best price) would cross the book and is
    left to the working orders list.
    """
    shown = levels[:count]
    public = {price for price, _ in levels}
    worst = shown[-1][0] if len(shown) == count else None
    extra = [
        (price, 0)
        for price in set(ours)
        if price not in public
        and (worst is None or (price >= worst if bids else price <= worst))
        and (other_best is None or (price < other_best if bids else price > other_best))
    ]
    if not extra:
        return shown
    merged = sorted(shown + extra, key=lambda level: -level[0] if bids else level[0])
    return merged[:count]


def levels_for(height: int) -> int:
    """How many levels a side fit in ``height`` lines (one line is the spread line)."""
    return max(1, min(MAX_LEVELS, (height - 1) // 2))


class Ladder(Widget):
    """Price ladder of one book: worst shown ask at the top, best bid under the spread line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ladder--state",
        "ladder--ask",
        "ladder--bid",
        "ladder--best-ask",
        "ladder--best-bid",
        "ladder--ask-bar",
        "ladder--bid-bar",
        "ladder--ours",
        "ladder--spread",
        "ladder--note",
    }
    """
    | class | what it styles |
    |---|---|
    | `ladder--state` | the book-state badge (LIVE, SYNCING, ...) |
    | `ladder--ask` / `ladder--bid` | price and size of a level |
    | `ladder--best-ask` / `ladder--best-bid` | the best level on each side |
    | `ladder--ask-bar` / `ladder--bid-bar` | size bars |
    | `ladder--ours` | our resting orders on a level |
    | `ladder--spread` | the spread and mid |
    | `ladder--note` | what replaces spread and mid when the book is not valid |
    """

    book: reactive[BookView | None] = reactive(None)
    """The book to show; a new frozen view replaces the old one whole."""
    book_state: reactive[str] = reactive("waiting")
    """``live`` when the book may be shown as valid; anything else dims it."""
    ours: reactive[Ours] = reactive(dict, always_update=False)
    """Our resting orders by (side, price)."""

    _rows: list[Row] | None = None

    def watch_book(self) -> None:
        """Rebuild the lines for the new book."""
        self._rows = None

    def watch_ours(self) -> None:
        """Rebuild the lines for our new orders."""
        self._rows = None

    def watch_book_state(self, state: str) -> None:
        """Dim the ladder unless the book is live."""
        self.set_class(state != "live", "-invalid")
        self._rows = None

    def _middle(self, text: BookText | None, width: int) -> Row:
        state = self.book_state
        badge = (f" {_STATE_LABELS.get(state, state.upper())} ", "ladder--state")
        book = self.book
        if state != "live" or book is None or text is None:
            return (badge, (" " + _STATE_NOTES.get(state, state), "ladder--note"))
        if not book.asks or not book.bids:
            return (badge, (" one side of the book is empty", "ladder--note"))
        best_bid, best_ask = book.bids[0][0], book.asks[0][0]
        mid = f"  mid {text.mid(best_bid + best_ask)}"
        spread = f" spread {text.spread(best_ask - best_bid)}"
        if len(badge[0]) + len(spread) + len(mid) > width:
            spread = f" spread {text.price(best_ask - best_bid)}"
        return (badge, (spread + mid, "ladder--spread"))

    def _build(self) -> list[Row]:
        width = self.size.width
        levels = levels_for(self.size.height)
        book = self.book
        text = book_text(book.tick_size, book.lot_size) if book is not None else None
        if book is None or text is None:
            blank: list[Row] = [() for _ in range(levels)]
            return [*blank, self._middle(None, width), *blank]
        ours = self.ours
        best_bid = book.bids[0][0] if book.bids else None
        best_ask = book.asks[0][0] if book.asks else None
        asks = with_ours(
            book.asks, [p for s, p in ours if s == 2], levels, bids=False, other_best=best_bid
        )
        bids = with_ours(
            book.bids, [p for s, p in ours if s == 1], levels, bids=True, other_best=best_ask
        )
        largest = max((size for _, size in asks + bids), default=0)
        bar_w = max(0, width - _BAR_X - 1)

        def level(price: int, size: int, side: str, best: bool) -> Row:
            style = f"ladder--best-{side}" if best else f"ladder--{side}"
            shown = text.size(size) if size else ""  # a level only we rest on
            numbers = " " + text.price(price).rjust(_PRICE_W) + " " + shown.rjust(_SIZE_W) + " "
            mine = ours.get((1 if side == "bid" else 2, price))
            if mine is not None:
                mark = our_mark(text, *mine, room=width - _BAR_X)
                return ((numbers, style), (mark, "ladder--ours"))
            return ((numbers, style), (size_bar(size, largest, bar_w), f"ladder--{side}-bar"))

        rows: list[Row] = [() for _ in range(levels - len(asks))]
        rows.extend(
            level(price, size, "ask", n == 0)
            for n, (price, size) in reversed(list(enumerate(asks)))
        )
        rows.append(self._middle(text, width))
        rows.extend(level(price, size, "bid", n == 0) for n, (price, size) in enumerate(bids))
        rows.extend(() for _ in range(levels - len(bids)))
        return rows

    def notify_style_update(self) -> None:
        """Styles changed (theme, classes): draw again with the new ones."""
        super().notify_style_update()
        self._rows = None

    def on_resize(self) -> None:
        """Bars and the number of levels depend on the size."""
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
