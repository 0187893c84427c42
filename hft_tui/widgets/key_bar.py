"""KeyBar: the footer: this screen's keys, then the mode keys with the current mode lit.

The screen's own keys come first (from its bindings, see :func:`hft_tui.keys.hints`), then the
modes. When the line is too short for every mode's name (80 columns) only the current mode keeps
its name and the others shrink to their letters; ``?`` always opens the full list.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widget import Widget

from hft_tui.keys import MODE_KEYS


class KeyBar(Widget):
    """One line of key hints.

    Args:
        mode: the mode of the screen this bar belongs to (lit in the mode list).
        hints: (keys, what) pieces of the screen's own keys.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "keys--key",
        "keys--what",
        "keys--mode",
        "keys--current",
    }
    """
    | class | what it styles |
    |---|---|
    | `keys--key` | a key |
    | `keys--what` | what it does |
    | `keys--mode` | a mode's key and name |
    | `keys--current` | the mode being shown |
    """

    def __init__(
        self, mode: str, hints: tuple[tuple[str, str], ...], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.mode = mode
        self.hints = hints

    def _modes(self, names: bool) -> list[tuple[str, str]]:
        """The mode list: every name, or only the current one's with the others' letters."""
        pieces = []
        for mode in MODE_KEYS:
            current = mode.mode == self.mode
            style = "keys--current" if current else "keys--mode"
            pieces.append((" ", "keys--what"))
            named = names or current
            pieces.append((f"{mode.key} {mode.label}" if named else mode.key, style))
        pieces.append((" ? keys" if names else " ?", "keys--key"))
        return pieces

    def render(self) -> Text:
        """The hint line, as much as fits."""
        width = self.size.width
        key = self.get_component_rich_style("keys--key", partial=True)
        what = self.get_component_rich_style("keys--what", partial=True)
        line = Text(no_wrap=True, overflow="crop")
        for keys, label in self.hints:
            line.append(" " + keys, key)
            line.append(f" {label}", what)
        if self.hints:
            line.append(" │", what)
        for names in (True, False):
            modes = self._modes(names)
            if not names or line.cell_len + sum(len(text) for text, _ in modes) <= width:
                break
        for text, component in modes:
            line.append(text, self.get_component_rich_style(component, partial=True))
        return line
