"""HaltBanner: the top line, which says whether trading runs, and cannot be missed when it does not.

While trading runs it is a quiet title: instance, venue, symbol, ``trading RUNNING`` and the keys.
After ctrl+k it says ``KILL SENT`` until the engine confirms; once halted it turns into a
full-width ``TRADING HALTED`` banner (the ``-halted`` class; the stylesheet paints it in reverse
red) with the reason and time.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hft_tui import format as fmt
from hft_tui.frame import Frame

_KEYS = "^K kill  q quit "


class HaltBanner(Widget):
    """Trading state of the frame it was handed, across the full width."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"banner--title", "banner--state", "banner--keys"}
    """
    | class | what it styles |
    |---|---|
    | `banner--title` | instance, venue and symbol |
    | `banner--state` | RUNNING, KILL SENT, HALTED |
    | `banner--keys` | the key hints |
    """

    frame: reactive[Frame | None] = reactive(None)
    """The latest frame; None until the UI is attached to an engine."""

    def watch_frame(self, frame: Frame | None) -> None:
        """Move the state classes the stylesheet colours."""
        halted = frame is not None and frame.trading == "halted"
        self.set_class(halted, "-halted")
        self.set_class(not halted and frame is not None and frame.kill_pending, "-pending")

    def _left(self, frame: Frame | None) -> list[tuple[str, str]]:
        if frame is None:
            return [(" hft-tui ", "banner--title"), ("connecting to the engine", "banner--state")]
        title = f" {frame.instance} · {frame.venue or '?'} · {frame.symbol}   "
        if frame.trading == "halted":
            state = f"■ TRADING HALTED ■ {frame.halt_reason or 'halted'}"
            if frame.halted_at_ns:
                state += f" since {fmt.clock_time(frame.halted_at_ns)} UTC"
            return [(" ", "banner--state"), (state, "banner--state")]
        if frame.kill_pending:
            state = f"KILL SENT, waiting for the engine ({fmt.age(frame.kill_pending_ns)})"
        elif frame.trading == "running":
            state = "trading RUNNING"
        else:
            state = "trading state not known yet"
        return [(title, "banner--title"), (state, "banner--state")]

    def render(self) -> Text:
        """The banner line."""
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop")
        for text, component in self._left(self.frame):
            line.append(text, self.get_component_rich_style(component, partial=True))
        gap = width - line.cell_len - len(_KEYS)
        if gap >= 1:
            line.append(" " * gap)
            line.append(_KEYS, self.get_component_rich_style("banner--keys", partial=True))
        return line
