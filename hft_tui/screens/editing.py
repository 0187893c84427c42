"""EditingScreen: a desk screen that reads the control plane and edits one value at a time.

The risk limits and the strategies screens share it: a control client made from the frame's
control URL and this UI's token variable, a message line under the tables (what happened last,
and its tone; "reading ... from the engine" until the first answer), and an inline editor that
opens on a value only when the token is set and closes back onto its table.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Input, Static

from engine.errors import ControlError
from hft_tui.control import ControlClient, TokenMissing
from hft_tui.screens.base import DeskScreen
from hft_tui.widgets.keyed_table import KeyedTable


class EditingScreen(DeskScreen):
    """The control client, message line and inline editor of an editing screen.

    Args:
        token_env: the environment variable holding the control token.
    """

    READS: ClassVar[str] = ""
    """What the screen reads from the engine, for its messages (``limits``)."""
    MESSAGE_ID: ClassVar[str] = ""
    """The id of the message line (a Static)."""
    EDITOR_ID: ClassVar[str] = ""
    """The id of the editor (an Input)."""

    def __init__(self, token_env: str = "HFT_CONTROL_TOKEN") -> None:  # noqa: S107 - a name
        super().__init__()
        self.token_env = token_env
        self.message: tuple[str, str] = ("", "muted")
        """The message line: what happened last, and its tone."""

    def has_read(self) -> bool:
        """Has the engine answered once (until then the message line says it is reading)?"""
        return True

    def _client(self) -> ControlClient | None:
        frame = self.frame
        try:
            return ControlClient(frame.control_url if frame else "", self.token_env)
        except ControlError as exc:
            self._say(f"{self.READS} unavailable: {exc}", "warn")
            return None

    def _say(self, text: str, tone: str) -> None:
        self.message = (text, tone)
        self._redraw()

    def _redraw(self) -> None:
        if self.frame is not None:
            self.show(self.frame)
        else:
            self._draw_message()

    def _draw_message(self) -> None:
        text, tone = self.message
        if not text and not self.has_read():
            text, tone = f"reading the {self.READS} from the engine…", "muted"
        self.query_one(f"#{self.MESSAGE_ID}", Static).update(Text(" " + text, self.tone(tone)))

    def _token_client(self, what: str) -> ControlClient | None:
        """A client that can change things; None (and the message says why) without the token.

        Args:
            what: the change, for the missing-token message (``changing limits``).
        """
        client = self._client()
        if client is None:
            return None
        if not client.has_token():
            self._say(str(TokenMissing(self.token_env, what)), "bad")
            return None
        return client

    def _open_editor(self, value: str, key: str, what: str) -> bool:
        """Open the editor on ``value`` of ``key`` if the token is set (``what`` as above)."""
        if self._token_client(what) is None:
            return False
        editor = self.query_one(f"#{self.EDITOR_ID}", Input)
        editor.value = value
        editor.placeholder = f"new {key}"
        self.add_class("-editing")
        editor.focus()
        return True

    def _close_editor(self, table: KeyedTable) -> None:
        """Hide the editor; ``table`` takes the keys again."""
        self.remove_class("-editing")
        table.focus()
