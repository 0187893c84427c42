"""EngineLostScreen: the dialog shown when the engine exits, stops beating or cannot be reached.

It says what happened and offers ``r`` (restart the engine this UI started, or re-attach to one
started elsewhere) and ``q`` (quit). Restarting is the app's job: the dialog only asks for it with
:class:`EngineLostScreen.RestartRequested` and shows the outcome it is handed.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Static

_WHY = {
    "exited": "The engine process {pid} has exited.",
    "silent": "The engine (pid {pid}) has stopped sending heartbeats.",
    "failed": "The UI could not attach to the engine.",
}


class EngineLostScreen(ModalScreen[None]):
    """The engine is gone or silent: restart (or re-attach) with r, quit with q."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "restart", "restart"),
        Binding("q", "app.quit", "quit"),
    ]
    """
    | key | action |
    |---|---|
    | `r` | restart the engine (or re-attach to one started elsewhere) |
    | `q` | quit the UI |
    """

    class RestartRequested(Message):
        """The operator asked for the engine to be restarted (or re-attached)."""

    error: reactive[str] = reactive("")
    """Why the last attempt failed; empty before the first attempt."""
    restarting: reactive[bool] = reactive(False)
    """True while a restart is under way; r is ignored meanwhile."""

    def __init__(self, reason: str, *, pid: int, owns_engine: bool, error: str = "") -> None:
        super().__init__()
        self.set_reactive(EngineLostScreen.error, error)
        self.reason = reason
        """``exited``, ``silent`` or ``failed`` (could not attach)."""
        self._pid = pid
        self._owns_engine = owns_engine

    def compose(self) -> ComposeResult:
        """Title, what happened, the last error, the keys."""
        if self._owns_engine:
            keys = "r  restart the engine        q  quit"
        else:
            keys = "r  re-attach (after the engine was restarted where it runs)\nq  quit"
        with Vertical(id="lost-dialog"):
            yield Static("ENGINE LOST", id="lost-title")
            yield Static(_WHY.get(self.reason, "").format(pid=self._pid), id="lost-why")
            yield Static(self.error, id="lost-error", classes="" if self.error else "-empty")
            yield Static(keys, id="lost-keys")

    def watch_error(self, error: str) -> None:
        """Show the last failure."""
        if self.is_mounted:
            shown = self.query_one("#lost-error", Static)
            shown.update(error)
            shown.set_class(not error, "-empty")

    def watch_restarting(self, restarting: bool) -> None:
        """Say that a restart is under way."""
        if restarting and self.is_mounted:
            verb = "restarting" if self._owns_engine else "re-attaching"
            shown = self.query_one("#lost-error", Static)
            shown.update(f"{verb}…")
            shown.remove_class("-empty")

    def action_restart(self) -> None:
        """Ask the app to restart the engine, once at a time."""
        if self.restarting:
            return
        self.restarting = True
        self.post_message(self.RestartRequested())
