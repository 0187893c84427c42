"""TradeScreen: the default mode: halt banner, price ladder beside the trades tape, status bar.

The app hands the screen whole frames (:attr:`TradeScreen.frame`); the screen hands each widget
its part and moves the state classes (``-halted``, ``-lost``, ``-too-small``) that the stylesheet
turns into colour and layout. Below 80x24 the screen shows only a request to enlarge the terminal.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from hft_tui import format as fmt
from hft_tui.format import book_text
from hft_tui.state_reader import Frame
from hft_tui.widgets import HaltBanner, Ladder, StatusBar, TradesTape

#: the smallest terminal the screen is laid out for
MIN_SIZE = Size(80, 24)


class TradeScreen(Screen[None]):
    """One instrument's book and trades, with engine health and the trading state."""

    frame: reactive[Frame | None] = reactive(None)
    """The latest frame from the engine; the screen draws nothing older."""

    _size = MIN_SIZE

    def compose(self) -> ComposeResult:
        """Banner on top, ladder and tape side by side, status at the bottom."""
        yield HaltBanner(id="banner")
        with Horizontal(id="market"):
            yield Ladder(id="ladder")
            yield TradesTape(id="tape")
        yield StatusBar(id="status")
        yield Static(id="too-small")

    def on_mount(self) -> None:
        """Check the terminal size once; resizes are tracked from then on."""
        self._fit(self.app.size)

    def on_resize(self, event: events.Resize) -> None:
        """Ask for a larger terminal when 80x24 does not fit."""
        self._fit(event.size)

    def _fit(self, size: Size) -> None:
        self._size = size
        too_small = size.width < MIN_SIZE.width or size.height < MIN_SIZE.height
        self.set_class(too_small, "-too-small")
        if too_small:
            self._ask_to_enlarge()

    def _ask_to_enlarge(self) -> None:
        """The one message left on a too-small terminal, still saying when trading is halted."""
        frame = self.frame
        halted = "TRADING HALTED\n\n" if frame is not None and frame.trading == "halted" else ""
        self.query_one("#too-small", Static).update(
            f"{halted}enlarge the terminal to {fmt.dimensions(*MIN_SIZE)} "
            f"(it is {fmt.dimensions(*self._size)})\n\nctrl+k halts trading · q quits"
        )

    def watch_frame(self, frame: Frame | None) -> None:
        """Hand each widget its part of the frame."""
        if frame is None:
            return
        with self.app.batch_update():
            self.query_one(HaltBanner).frame = frame
            ladder = self.query_one(Ladder)
            ladder.book = frame.book
            ladder.book_state = frame.book_state
            tape = self.query_one(TradesTape)
            book = frame.book
            tape.text = book_text(book.tick_size, book.lot_size) if book is not None else None
            tape.trades = frame.trades
            self.query_one(StatusBar).frame = frame
            self.set_class(frame.trading == "halted", "-halted")
            self.set_class(bool(frame.lost), "-lost")
            if self.has_class("-too-small"):
                self._ask_to_enlarge()
