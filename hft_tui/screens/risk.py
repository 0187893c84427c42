"""RiskScreen: every risk limit with its use now, the limit editor, and the circuit breaker.

Limits come from ``GET /risk/limits`` (on show, then every few seconds) and are listed with how
much of each is used where the trading page tells. ``e`` (or enter) edits the selected limit; the
new document goes to ``PUT /risk/limits`` with the control token from this UI's environment. The
engine validates it: an invalid value shows the engine's words under the table and the old value
stays; with no token set the screen says which variable to set. The breaker line says whether
trading runs; ``ctrl+k`` halts at once, ``ctrl+r`` resets after a y/n confirmation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from engine.errors import ControlError
from hft_tui import format as fmt
from hft_tui.control import ControlClient, ControlRefused
from hft_tui.frame import Frame
from hft_tui.limits import LimitInputError, LimitRow, in_use, limit_rows, with_value
from hft_tui.screens.editing import EditingScreen
from hft_tui.widgets.keyed_table import Cells, KeyedTable, cell

_COLUMNS = (("scope", "scope"), ("limit", "limit"), ("value", "value"), ("use", "in use now"))


class RiskScreen(EditingScreen):
    """Risk limits, their editor and the breaker.

    Args:
        token_env: the environment variable holding the control token.
    """

    MODE = "risk"
    REMOTE_EVERY_S = 3.0
    READS = "limits"
    MESSAGE_ID = "risk-message"
    EDITOR_ID = "limit-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e,enter", "edit", "edit limit", tooltip="edit the selected limit"),
        Binding("escape", "close_editor", "keep", show=False, tooltip="leave the limit as it is"),
        Binding("g", "reload", "reload", tooltip="read the limits from the engine again"),
    ]

    def __init__(self, token_env: str = "HFT_CONTROL_TOKEN") -> None:  # noqa: S107 - a name
        super().__init__(token_env)
        self.limits: dict[str, Any] | None = None
        """The last limits document the engine sent."""
        self.rejections: dict[str, int] = {}
        """Orders refused per risk check since the engine started (from ``/status``)."""
        self._editing: LimitRow | None = None

    def compose_body(self) -> ComposeResult:
        """Breaker, limits, editor, message."""
        yield Static(id="breaker")
        yield KeyedTable(_COLUMNS, id="limits-table")
        yield Input(id="limit-input", compact=True)
        yield Static(id="risk-message")

    def on_mount(self) -> None:
        """The table takes the arrow keys."""
        super().on_mount()
        self.query_one("#limits-table", KeyedTable).focus()

    # ---- control plane ------------------------------------------------------------------------

    def fetch_remote(self, control_url: str) -> None:
        """Read the limits and the rejection counts (not while the editor is open)."""
        if self._editing is not None:
            return
        client = self._client()
        if client is not None:
            self.run_worker(
                lambda: self._fetch(client), thread=True, exclusive=True, group="risk-read",
                exit_on_error=False,
            )  # fmt: skip

    def _fetch(self, client: ControlClient) -> None:
        try:
            limits = client.get("/risk/limits")
            status = client.get("/status")
        except ControlError as exc:
            self.app.call_from_thread(self._say, f"limits unavailable: {exc}", "warn")
            return
        self.app.call_from_thread(self._fetched, limits, status)

    def _fetched(self, limits: object, status: object) -> None:
        if isinstance(limits, dict):
            self.limits = limits
        risk = status.get("risk") if isinstance(status, dict) else None
        counts = risk.get("rejections") if isinstance(risk, dict) else None
        if isinstance(counts, dict):
            self.rejections = {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}
        self._redraw()

    def _put(self, client: ControlClient, doc: dict[str, Any], row: LimitRow, text: str) -> None:
        try:
            answer = client.put("/risk/limits", doc)
        except ControlRefused as exc:
            old = exc.document.get("limits")
            self.app.call_from_thread(self._refused, exc.detail, old)
            return
        except ControlError as exc:
            self.app.call_from_thread(self._say, f"not changed: {exc}", "bad")
            return
        self.app.call_from_thread(self._changed, answer, f"{row.key} is now {text.strip()}")

    def _refused(self, detail: str, old: object) -> None:
        if isinstance(old, dict):
            self.limits = old
        self._say(f"refused, the old value stays: {detail}", "bad")

    def _changed(self, answer: object, what: str) -> None:
        if isinstance(answer, dict):
            self.limits = answer
        self._say(what, "ok")

    # ---- drawing ------------------------------------------------------------------------------

    def has_read(self) -> bool:
        """Have the limits been read once?"""
        return self.limits is not None

    def show(self, frame: Frame) -> None:
        """Breaker line, limit rows with their use, the message line."""
        self.query_one("#breaker", Static).update(self._breaker(frame))
        rows: list[tuple[str, Cells]] = []
        doc = self.limits
        if doc is not None:
            per = doc.get("per_instrument")
            own = set(per) if isinstance(per, dict) else set()
            rows = [
                (
                    row.key,
                    (
                        cell(row.scope, self.tone("muted")),
                        cell(row.name),
                        cell(fmt.limit_value(row.value), right=True),
                        cell(in_use(row, frame, own)),
                    ),
                )
                for row in limit_rows(doc)
            ]
        self.query_one("#limits-table", KeyedTable).set_rows(rows)
        self._draw_message()

    def _breaker(self, frame: Frame) -> Text:
        out = Text(no_wrap=True, overflow="crop")
        if frame.trading == "halted":
            since = f" since {fmt.clock_time(frame.halted_at_ns)} UTC" if frame.halted_at_ns else ""
            out.append(" breaker TRIPPED: trading halted", self.tone("bad"))
            out.append(f" ({frame.halt_reason or 'halted'}){since}", self.tone("bad"))
            out.append("\n ctrl+r resets it (asks y/n)", self.tone("muted"))
        else:
            state = "RUNNING" if frame.trading == "running" else "not known yet"
            out.append(f" breaker closed: trading {state}", self.tone("ok"))
            out.append("   ctrl+k halts now and cancels every order", self.tone("muted"))
            out.append("\n")
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.rejections.items()) if v)
        if frame.trading != "halted":
            out.append(f" refused by risk: {refused or 'none'}", self.tone("muted"))
        return out

    # ---- editing ------------------------------------------------------------------------------

    def _selected(self) -> LimitRow | None:
        key = self.query_one("#limits-table", KeyedTable).selected_key
        rows = limit_rows(self.limits) if self.limits is not None else []
        return next((r for r in rows if r.key == key), None)

    def action_edit(self) -> None:
        """Open the editor on the selected limit (only with the token in the environment)."""
        row = self._selected()
        if row is None:
            self._say("no limit selected (the limits have not been read yet)", "warn")
            return
        if not self._open_editor(fmt.limit_value(row.value), row.key, "changing limits"):
            return
        self._editing = row
        self._say(f"new value for {row.key}: enter sends it, esc keeps {row.value}", "warn")

    @on(KeyedTable.RowSelected, "#limits-table")
    def _row_chosen(self) -> None:
        """Enter on a limit edits it."""
        self.action_edit()

    def action_close_editor(self) -> None:
        """Close the editor without sending anything."""
        if self._editing is None:
            return
        self._editing = None
        self._close_editor(self.query_one("#limits-table", KeyedTable))
        self._say("not changed", "muted")

    def action_reload(self) -> None:
        """Read the limits again now."""
        if self.frame is not None:
            self.fetch_remote(self.frame.control_url)

    @on(Input.Submitted, "#limit-input")
    def _submitted(self, event: Input.Submitted) -> None:
        row, doc = self._editing, self.limits
        client = self._client()
        self._editing = None
        self._close_editor(self.query_one("#limits-table", KeyedTable))
        if row is None or doc is None or client is None:
            return
        try:
            new = with_value(doc, row.path, event.value)
        except LimitInputError as exc:
            self._say(f"not sent, the old value stays: {exc}", "bad")
            return
        self._say(f"sending {row.key} = {event.value.strip()}…", "muted")
        self.run_worker(
            lambda: self._put(client, new, row, event.value), thread=True, exclusive=True,
            group="risk-write", exit_on_error=False,
        )  # fmt: skip
