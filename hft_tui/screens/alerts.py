"""AlertsScreen: the engine's alerts, newest first, filtered by level and by source.

Alerts come from the trading page (its last twenty) and are kept by the UI for longer (see
:mod:`hft_tui.desk`). ``l`` cycles the lowest level shown (info, warning, critical); ``s`` cycles
the source (every source, then each one seen so far). The line under the table shows the selected
alert's whole message.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from engine.ipc.protocol import AlertRow
from hft_tui import format as fmt
from hft_tui.desk import ALERT_LEVELS
from hft_tui.frame import Frame
from hft_tui.screens.base import DeskScreen
from hft_tui.widgets.keyed_table import Cells, KeyedTable, cell

_COLUMNS = (
    ("time", "time (UTC)"),
    ("level", "level"),
    ("source", "source"),
    ("message", "message"),
)
_TONES = {"info": "muted", "warning": "warn", "critical": "bad"}


def _rank(level: str) -> int:
    return ALERT_LEVELS.index(level) if level in ALERT_LEVELS else len(ALERT_LEVELS)


class AlertsScreen(DeskScreen):
    """Alerts with level and source filters."""

    MODE = "alerts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "next_level", "level", tooltip="lowest level shown: info, warning, critical"),
        Binding("s", "next_source", "source", tooltip="source shown: every one, then each in turn"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.level = "info"
        """The lowest level shown."""
        self.source = ""
        """The source shown; empty shows every source."""

    def compose_body(self) -> ComposeResult:
        """Filter line, the alerts, the selected one in full."""
        yield Static(id="alerts-filter", classes="caption")
        yield KeyedTable(_COLUMNS, id="alerts-table")
        yield Static(id="alert-detail")

    def on_mount(self) -> None:
        """The table takes the arrow keys."""
        super().on_mount()
        self.query_one("#alerts-table", KeyedTable).focus()

    def _shown(self, alerts: tuple[AlertRow, ...]) -> list[AlertRow]:
        floor = _rank(self.level)
        return [
            a
            for a in alerts
            if _rank(a.level) >= floor and (not self.source or a.source == self.source)
        ]

    def show(self, frame: Frame) -> None:
        """Filter line, rows, detail."""
        alerts = frame.desk.alerts
        shown = self._shown(alerts)
        info, warning, critical = frame.desk.alerts_raised
        self.query_one("#alerts-filter", Static).update(
            f" level ≥ {self.level} · source {self.source or 'all'} · "
            f"{len(shown)} of {len(alerts)} · raised: {critical} critical "
            f"{warning} warning {info} info"
        )
        rows: list[tuple[str, Cells]] = []
        for n, alert in enumerate(shown):
            tone = self.tone(_TONES.get(alert.level, "warn"))
            rows.append((
                f"{alert.ts_ns}:{len(shown) - n}",
                (
                    cell(fmt.clock_time(alert.ts_ns)),
                    cell(alert.level.upper(), tone),
                    cell(alert.source),
                    cell(alert.message, tone if alert.level == "critical" else ""),
                ),
            ))  # fmt: skip
        table = self.query_one("#alerts-table", KeyedTable)
        table.set_rows(rows)
        keys = [key for key, _ in rows]
        selected = table.selected_key
        detail = Text(no_wrap=False)
        if selected in keys:
            alert = shown[keys.index(selected)]
            detail.append(f" {alert.source}: ", "bold")
            detail.append(alert.message)
        else:
            detail.append(" no alerts" if not alerts else " no alert matches the filters")
        self.query_one("#alert-detail", Static).update(detail)

    def _redraw(self) -> None:
        if self.frame is not None:
            self.show(self.frame)

    def action_next_level(self) -> None:
        """Show the next level up (after critical, every level again)."""
        self.level = ALERT_LEVELS[(ALERT_LEVELS.index(self.level) + 1) % len(ALERT_LEVELS)]
        self._redraw()

    def action_next_source(self) -> None:
        """Show the next source seen so far (after the last, every source again)."""
        frame = self.frame
        sources = sorted({a.source for a in frame.desk.alerts}) if frame is not None else []
        choices = ["", *sources]
        index = choices.index(self.source) if self.source in choices else 0
        self.source = choices[(index + 1) % len(choices)]
        self._redraw()
