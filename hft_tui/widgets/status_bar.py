"""StatusBar: one line of engine health: venue link, update rate, wire-to-book, heartbeat, ring.

Everything an operator needs to trust (or distrust) the numbers above it: whether the venue link
is live, how many book updates arrive per second, how old the engine's heartbeat is, how many
states the UI skipped to stay current, and how full the event ring is and how much it dropped.
``HALTED`` or ``ENGINE LOST`` leads the line when it applies. The fields read
``link <state> │ upd <n>/s │ w2b p99 <µs> │ hb <age> │ skip <frames> │ ring <depth>/<capacity> │
drop <events>``, ``w2b`` (frame received to book updated, the engine's p99 over its latest
updates) once the engine has measured any, then ``bad <frames>`` once the venue has sent
malformed frames.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from hft_tui import format as fmt
from hft_tui.frame import Frame

#: a heartbeat older than this is shown as a warning (the engine beats every 100 ms)
_HB_WARN_NS = 500_000_000
#: a wire-to-book p99 above this is shown as a warning
_WIRE_WARN_US = 1_000.0
_LINK_OK = {"live"}
_LINK_WARN = {"connecting", "subscribing", "syncing"}


class StatusBar(Widget):
    """Engine health for the frame it was handed."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status--label",
        "status--ok",
        "status--warn",
        "status--bad",
    }
    """
    | class | what it styles |
    |---|---|
    | `status--label` | field names and separators |
    | `status--ok` / `status--warn` / `status--bad` | values by health |
    """

    frame: reactive[Frame | None] = reactive(None)
    """The latest frame; None until the UI is attached to an engine."""

    def render(self) -> Text:
        """The status line."""
        frame = self.frame
        label = self.get_component_rich_style("status--label")
        ok = self.get_component_rich_style("status--ok")
        warn = self.get_component_rich_style("status--warn")
        bad = self.get_component_rich_style("status--bad")
        line = Text(no_wrap=True, overflow="crop")
        if frame is None:
            line.append(" connecting to the engine", warn)
            return line
        sep = (" │ ", label)
        ring = frame.events_ring
        if frame.lost:
            line.append(" ENGINE LOST", bad)
        else:
            if frame.trading == "halted":
                line.append(" HALTED", bad)
                line.append(*sep)
            else:
                line.append(" ", label)
            rate = frame.engine.updates_per_s if frame.engine is not None else 0.0
            link_style = ok if frame.link in _LINK_OK else warn if frame.link in _LINK_WARN else bad
            line.append("link ", label)
            line.append(frame.link, link_style)
            line.append(*sep)
            line.append("upd ", label)
            line.append(fmt.rate(rate), ok if rate > 0 else warn)
            wire = frame.engine.wire_p99_us if frame.engine is not None else 0.0
            if wire > 0:  # once the engine has measured book updates
                line.append(*sep)
                line.append("w2b p99 ", label)
                line.append(fmt.micros(wire), ok if wire < _WIRE_WARN_US else warn)
        line.append(*sep)
        line.append("hb ", label)
        hb_style = ok if frame.heartbeat_age_ns < _HB_WARN_NS else bad
        line.append(fmt.age(frame.heartbeat_age_ns), hb_style)
        line.append(*sep)
        line.append("skip ", label)
        line.append(fmt.count(frame.skipped), ok)
        line.append(*sep)
        line.append("ring ", label)
        line.append(fmt.ring_fill(ring.depth, ring.capacity), ok)
        line.append(*sep)
        line.append("drop ", label)
        line.append(fmt.count(ring.dropped), bad if ring.dropped else ok)
        if frame.malformed:
            line.append(*sep)
            line.append("bad ", label)
            line.append(fmt.count(frame.malformed), warn)
        return line
