"""HelpScreen: every key: the global ones, the modes, and those of the screen on show.

Opened with ``?`` and closed with ``?`` or escape. The kill switch still works while it is open.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hft_tui.keys import MODE_KEYS


class HelpScreen(ModalScreen[None]):
    """The key list.

    Args:
        mode: the mode on show (its keys are listed first).
        global_keys: (key, what) of the keys that work everywhere.
        screen_keys: (key, what) of the screen on show.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", "close"),
    ]
    """
    | key | action |
    |---|---|
    | `?`, `escape` | close the list |
    """

    def __init__(
        self,
        mode: str,
        global_keys: list[tuple[str, str]],
        screen_keys: list[tuple[str, str]],
    ) -> None:
        super().__init__()
        self._mode = mode
        self._global = global_keys
        self._screen = screen_keys

    def _text(self) -> Text:
        out = Text()

        def section(title: str, rows: list[tuple[str, str]]) -> None:
            out.append(f"{title}\n", "bold")
            for key, what in rows:
                out.append(f"  {key:<8}", "bold")
                out.append(f"{what}\n")
            out.append("\n")

        if self._screen:
            section(f"{self._mode} screen", self._screen)
        section("screens", [(m.key, f"{m.label}: {m.about}") for m in MODE_KEYS])
        section("everywhere", self._global)
        out.rstrip()
        return out

    def compose(self) -> ComposeResult:
        """The list in a box, scrollable on a small terminal."""
        with VerticalScroll(id="help-box"):
            yield Static("KEYS", id="help-title")
            yield Static(self._text(), id="help-keys")
            yield Static("? or esc closes this list", id="help-close")

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
