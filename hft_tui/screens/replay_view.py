"""ReplayScreen: a finished backtest run replayed on the ladder, its orders drawn, at a set speed.

Opened from the backtest screen with ``l`` on a finished run. The run is built again in the UI
process from the same config and data (:mod:`hft_tui.backtest_replay`), so it sends the same
orders and gets the same fills; it starts paused before the data's first event. The ladder shows
the traded book with our resting orders on their levels (lots, count, and the public size queued
ahead of them as the matching core estimates it); beside it the simulated time, how far through
the range it is, the speed, events replayed, position, net PnL, fills and open orders.

| key | action |
|---|---|
| ``space`` | play / pause |
| ``.`` | one market event (while paused) |
| ``+`` / ``-`` | faster / slower (x0.25 ... x100 real time) |
| ``]`` | skip ten simulated seconds ahead |
| ``escape`` | back to the runs |
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from hft_tui import format as fmt
from hft_tui.backtest_replay import ReplayState, ReplayWatch, faster
from hft_tui.format import book_text
from hft_tui.widgets import Ladder

#: seconds between slices of the replay (and redraws) while it plays
TICK_S = 0.05
#: how far ``]`` skips ahead, simulated ns
SKIP_NS = 10_000_000_000
#: cells of the progress bar
_BAR_W = 24


class ReplayScreen(ModalScreen[None]):
    """One run replayed on the ladder.

    Args:
        number: the run's number on the backtest screen.
        replay: the paced replay and its reader.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play_pause", "play/pause", tooltip="play or pause the replay"),
        Binding("full_stop", "step", "step", tooltip="one market event (while paused)"),
        Binding("plus,equals_sign", "speed(1)", "faster", tooltip="replay faster"),
        Binding("minus", "speed(-1)", "slower", tooltip="replay slower"),
        Binding("right_square_bracket", "skip", "skip 10s", tooltip="ten simulated seconds ahead"),
        Binding("escape", "close", "close", tooltip="back to the runs"),
    ]

    def __init__(self, number: int, replay: ReplayWatch) -> None:
        super().__init__()
        self.number = number
        self.replay = replay

    def compose(self) -> ComposeResult:
        """Ladder on the left, the replay's figures beside it, the keys under them."""
        with Vertical(id="replay-box", classes="backtest-view"):
            with Horizontal(id="replay-market"):
                yield Ladder(id="replay-ladder")
                yield Static(id="replay-status")
            yield Static(
                " space play/pause · . step · + - speed · ] skip 10s · esc back · ctrl+k kill",
                classes="view-keys",
            )

    def on_mount(self) -> None:
        """Draw the first event's state; slices run on a timer while playing."""
        self._draw()
        self.set_interval(TICK_S, self._tick)

    def _tick(self) -> None:
        control = self.replay.control
        if control.paused or control.replay.done:
            return
        control.advance()
        self._draw()

    # ---- drawing ---------------------------------------------------------------------------------

    def _draw(self) -> None:
        state = self.replay.state()
        ladder = self.query_one("#replay-ladder", Ladder)
        ladder.book = state.book
        ladder.book_state = state.book.state if state.book is not None else "waiting"
        ladder.ours = state.ours
        self.query_one("#replay-status", Static).update(self._status(state))

    def _status(self, state: ReplayState) -> Text:
        control = self.replay.control
        out = Text(no_wrap=True, overflow="crop")
        mode = "DONE" if state.done else "PAUSED" if control.paused else "PLAYING"
        out.append(f" REPLAY #{self.number}  {mode}\n", "bold")
        span = max(state.end_ns - state.start_ns, 1)
        through = min(max(state.now_ns - state.start_ns, 0), span)
        filled = through * _BAR_W // span
        out.append(f" {fmt.clock_time(state.now_ns)} UTC\n")
        out.append(" " + "█" * filled + "░" * (_BAR_W - filled) + f" {through * 100 // span}%\n")
        speed = control.speed
        out.append(f" speed x{speed:g}\n" if speed is not None else " speed flat out\n")
        out.append(f" events {state.events:,}\n")
        book = state.book
        text = book_text(book.tick_size, book.lot_size) if book is not None else None
        pos = text.signed_size(state.position_lots) if text else str(state.position_lots)
        out.append(f" pos {pos if state.position_lots else 'flat'}\n")
        out.append(" net ")
        out.append(fmt.money(state.net), _pnl_style(state.net))
        out.append(f"\n fills {state.fills}  open {state.open_orders}")
        return out

    # ---- keys ------------------------------------------------------------------------------------

    def action_play_pause(self) -> None:
        """Play or pause."""
        control = self.replay.control
        if control.paused:
            control.resume()
        else:
            control.pause()
        self._draw()

    def action_step(self) -> None:
        """One market event; playing, it pauses first."""
        control = self.replay.control
        if not control.paused:
            control.pause()
        control.step()
        self._draw()

    def action_speed(self, step: int) -> None:
        """Faster or slower."""
        control = self.replay.control
        control.set_speed(faster(control.speed or 1.0, step))
        self._draw()

    def action_skip(self) -> None:
        """Ten simulated seconds ahead (replayed at full speed)."""
        control = self.replay.control
        control.seek(control.replay.now_ns + SKIP_NS)
        self._draw()

    def action_close(self) -> None:
        """Back to the runs."""
        self.dismiss(None)


def _pnl_style(net: str) -> str:
    sign = fmt.pnl_class(net)
    return "green" if sign == "profit" else "red" if sign == "loss" else ""
