"""DeskScreen: what every mode's screen has: halt banner on top, status bar and key bar below.

A subclass composes its body (:meth:`DeskScreen.compose_body`) and draws its part of each frame
(:meth:`DeskScreen.show`). The base hands the banner and status bar the frame, moves the state
classes (``-halted``, ``-lost``, ``-too-small``) that the stylesheet turns into colour and layout,
and below 80x24 shows only a request to enlarge the terminal (still saying when trading is halted).
Only the screen on show is handed frames, so hidden screens cost no redraws. A screen that also
reads the control plane sets :attr:`DeskScreen.REMOTE_EVERY_S` and gets
:meth:`DeskScreen.fetch_remote` calls with the control URL: on the first frame after it is shown,
then every that many seconds while it stays on show.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual import events
from textual.app import ComposeResult
from textual.geometry import Size
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

from hft_tui import format as fmt
from hft_tui.frame import Frame
from hft_tui.keys import hints
from hft_tui.widgets import HaltBanner, KeyBar, StatusBar

#: the smallest terminal the screens are laid out for
MIN_SIZE = Size(80, 24)


class DeskScreen(Screen[None]):
    """A workstation screen on the latest frame."""

    MODE: ClassVar[str] = ""
    """The app's mode name of this screen."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "desk--buy",
        "desk--sell",
        "desk--profit",
        "desk--loss",
        "desk--ok",
        "desk--warn",
        "desk--bad",
        "desk--muted",
    }
    """
    | class | what it styles (table cells and panels of every screen) |
    |---|---|
    | `desk--buy` / `desk--sell` | a side |
    | `desk--profit` / `desk--loss` | PnL above / below zero |
    | `desk--ok` / `desk--warn` / `desk--bad` | a value by health |
    | `desk--muted` | captions and figures that do not matter now |
    """

    REMOTE_EVERY_S: ClassVar[float] = 0.0
    """Seconds between control-plane reads while on show; 0 for a screen that reads none."""

    frame: reactive[Frame | None] = reactive(None, repaint=False)
    """The latest frame from the engine; the screen draws nothing older. Setting it repaints only
    the widgets whose part changed (a repaint of the screen itself would redraw every cell)."""

    _size = MIN_SIZE
    _fetch_due = True

    def compose(self) -> ComposeResult:
        """Banner on top, the body, status and keys at the bottom."""
        yield HaltBanner(id="banner")
        yield from self.compose_body()
        yield StatusBar(id="status")
        yield KeyBar(self.MODE, hints(type(self).BINDINGS), id="keys")
        yield Static(id="too-small")

    def tone(self, name: str) -> Style:
        """The style of ``desk--<name>`` (buy, sell, profit, loss, ok, warn, bad, muted)."""
        return self.get_component_rich_style(f"desk--{name}", partial=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the banner and the status bar."""
        yield from ()

    def show(self, frame: Frame) -> None:
        """Draw the screen's own part of ``frame`` (the banner and status are done)."""

    def fetch_remote(self, control_url: str) -> None:
        """Start reading the control plane at ``control_url`` (in a worker; it may be empty)."""

    def on_mount(self) -> None:
        """Check the terminal size once; resizes are tracked from then on."""
        self._fit(self.app.size)
        if self.REMOTE_EVERY_S > 0:
            self.set_interval(self.REMOTE_EVERY_S, self._remote_tick)

    def on_screen_resume(self) -> None:
        """Read the control plane again with the first frame drawn after being shown."""
        self._fetch_due = True

    def _remote_tick(self) -> None:
        frame = self.frame
        if self.REMOTE_EVERY_S <= 0 or frame is None or not self.is_current:
            return
        self._fetch_due = False
        self.fetch_remote(frame.control_url)

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
        """Hand the banner, status bar and the screen's own widgets their parts of the frame."""
        if frame is None:
            return
        with self.app.batch_update():
            self.query_one(HaltBanner).frame = frame
            self.query_one(StatusBar).frame = frame
            self.set_class(frame.trading == "halted", "-halted")
            self.set_class(bool(frame.lost), "-lost")
            self.show(frame)
            if self.has_class("-too-small"):
                self._ask_to_enlarge()
        if self._fetch_due:
            self._remote_tick()
