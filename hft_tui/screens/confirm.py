"""ConfirmScreen: a yes/no question for actions that re-enable or change trading."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask once; dismisses with True only for an explicit `y`.

    Args:
        title: what is about to happen, e.g. ``RE-ENABLE TRADING``.
        question: the full question, naming the engine.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "yes"),
        Binding("n", "answer(False)", "no"),
        Binding("escape", "answer(False)", "no", show=False),
    ]
    """
    | key | action |
    |---|---|
    | `y` | confirm |
    | `n`, `escape` | cancel |
    """

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self._title = title
        self._question = question

    def compose(self) -> ComposeResult:
        """The question in a box, with the keys under it."""
        with Vertical(id="confirm-box"):
            yield Static(self._title, id="confirm-title")
            yield Static(self._question, id="confirm-question")
            yield Static("y  yes        n  no", id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        """Close with the operator's answer."""
        self.dismiss(yes)
