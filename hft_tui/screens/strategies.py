"""StrategiesScreen: the engine's strategies, their state and callback times, their parameters.

The strategies come from ``GET /strategies`` (on show, then every two seconds): one row each with
its state (running, stopped, failed after raising), callbacks, the callback time p50 and p99 in
microseconds, callbacks over budget, orders sent and refused; its kind and any error are on the
line under the table. Under it, the parameters of the
selected strategy; ``tab`` moves between the two tables. ``e`` (or enter on a parameter) edits
one: the change goes to ``PUT /strategies/{name}/params`` with the control token from this UI's
environment; a value the engine refuses is shown inline with the field, what it allows and the
old value, which stays in force. ``x`` stops the selected strategy (its orders are canceled),
``g`` starts it again, ``L`` reloads its source after a y/n confirmation (it restarts flat).
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Input, Static

from engine.errors import ControlError
from hft_tui.control import ControlClient, ControlRefused
from hft_tui.frame import Frame
from hft_tui.screens.confirm import ConfirmScreen
from hft_tui.screens.editing import EditingScreen
from hft_tui.strategy_rows import (
    ParamInputError,
    StrategyDocError,
    StrategyRow,
    param_change,
    param_text,
    strategy_rows,
)
from hft_tui.widgets.keyed_table import Cells, KeyedTable, cell

_COLUMNS = (
    ("name", "strategy"),
    ("state", "state"),
    ("callbacks", "calls"),
    ("p50", "p50 µs"),
    ("p99", "p99 µs"),
    ("over", "over"),
    ("sent", "sent"),
    ("refused", "refused"),
)
_PARAM_COLUMNS = (("param", "parameter"), ("value", "value"))
_STATE_TONE = {"running": "ok", "stopped": "warn", "failed": "bad"}


def _micros(value: float) -> str:
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


class StrategiesScreen(EditingScreen):
    """Strategies, their parameters and their controls.

    Args:
        token_env: the environment variable holding the control token.
    """

    MODE = "strategies"
    REMOTE_EVERY_S = 2.0
    READS = "strategies"
    MESSAGE_ID = "strategies-message"
    EDITOR_ID = "param-input"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "edit param", tooltip="edit the selected parameter"),
        Binding("x", "stop", "stop", tooltip="stop the selected strategy and cancel its orders"),
        Binding("g", "start", "start", tooltip="start the selected strategy again"),
        Binding("L", "reload", "reload", tooltip="reload its source; it restarts flat (asks y/n)"),
        Binding("tab", "switch_table", "strategies/params", show=False,
                tooltip="move between the strategies and the parameters"),
        Binding("escape", "close_editor", "keep", show=False,
                tooltip="leave the parameter as it is"),
    ]  # fmt: skip

    def __init__(self, token_env: str = "HFT_CONTROL_TOKEN") -> None:  # noqa: S107 - a name
        super().__init__(token_env)
        self.strategies: list[StrategyRow] | None = None
        """The last strategies the engine listed; None before the first answer."""
        self._editing: tuple[str, str] | None = None
        """(strategy, parameter) while the editor is open."""

    def compose_body(self) -> ComposeResult:
        """Strategies, the selected one's detail, its parameters, the editor and the message."""
        yield KeyedTable(_COLUMNS, id="strategies-table")
        yield Static(id="strategy-detail")
        yield KeyedTable(_PARAM_COLUMNS, id="params-table")
        yield Input(id="param-input", compact=True)
        yield Static(id="strategies-message")

    def on_mount(self) -> None:
        """The strategies table takes the arrow keys first."""
        super().on_mount()
        self._table().focus()

    def _table(self) -> KeyedTable:
        return self.query_one("#strategies-table", KeyedTable)

    def _params_table(self) -> KeyedTable:
        return self.query_one("#params-table", KeyedTable)

    # ---- control plane ------------------------------------------------------------------------

    def fetch_remote(self, control_url: str) -> None:
        """Read the strategies (not while a parameter is being edited)."""
        if self._editing is not None:
            return
        client = self._client()
        if client is not None:
            self.run_worker(
                lambda: self._fetch(client), thread=True, exclusive=True,
                group="strategies-read", exit_on_error=False,
            )  # fmt: skip

    def _fetch(self, client: ControlClient) -> None:
        try:
            rows = strategy_rows(client.get("/strategies"))
        except (ControlError, StrategyDocError) as exc:
            self.app.call_from_thread(self._say, f"strategies unavailable: {exc}", "warn")
            return
        self.app.call_from_thread(self._fetched, rows)

    def _fetched(self, rows: list[StrategyRow]) -> None:
        self.strategies = rows
        self._redraw()

    def _change(
        self, client: ControlClient, method: str, path: str, body: object, done: str
    ) -> None:
        """One change over the control plane (in a worker), then read the strategies again."""
        try:
            if method == "PUT":
                client.put(path, body)
            else:
                client.post(path)
        except ControlRefused as exc:
            self.app.call_from_thread(self._refused, exc)
            return
        except ControlError as exc:
            self.app.call_from_thread(self._say, f"not changed: {exc}", "bad")
            return
        self.app.call_from_thread(self._say, done, "ok")
        self._fetch(client)

    def _refused(self, exc: ControlRefused) -> None:
        doc = exc.document
        file = str(doc.get("file") or "")
        where = f" ({file}:{doc.get('line')})" if file and file not in exc.detail else ""
        self._say(f"refused, nothing changed: {exc.detail}{where}", "bad")

    def _send(self, method: str, path: str, body: object, done: str, what: str) -> None:
        client = self._token_client(what)
        if client is None:
            return
        self.run_worker(
            lambda: self._change(client, method, path, body, done), thread=True,
            group="strategies-write", exit_on_error=False,
        )  # fmt: skip

    # ---- drawing ------------------------------------------------------------------------------

    def has_read(self) -> bool:
        """Have the strategies been read once?"""
        return self.strategies is not None

    def _selected(self) -> StrategyRow | None:
        key = self._table().selected_key
        return next((s for s in self.strategies or [] if s.name == key), None)

    def show(self, frame: Frame) -> None:
        """The strategy rows, the selected one's detail and parameters, the message line."""
        rows: list[tuple[str, Cells]] = []
        for s in self.strategies or []:
            over = self.tone("bad") if s.over_budget else ""
            rows.append((
                s.name,
                (
                    cell(s.name),
                    cell(s.state, self.tone(_STATE_TONE[s.state])),
                    cell(f"{s.callbacks:,}", right=True),
                    cell(_micros(s.p50_us), right=True),
                    cell(_micros(s.p99_us), right=True),
                    cell(f"{s.over_budget:,}", over, right=True),
                    cell(f"{s.sent:,}", right=True),
                    cell(f"{s.refused:,}", right=True),
                ),
            ))  # fmt: skip
        self._table().set_rows(rows)
        self._draw_selected()
        self._draw_message()

    def _draw_selected(self) -> None:
        selected = self._selected()
        detail = Text(no_wrap=True, overflow="crop")
        params: list[tuple[str, Cells]] = []
        if selected is None:
            none = "no strategies run on this engine" if self.strategies == [] else ""
            detail.append(f" {none}", self.tone("muted"))
        else:
            detail.append(f" {selected.name}", "bold")
            detail.append(f" ({selected.kind}) ", self.tone("muted"))
            detail.append(selected.state, self.tone(_STATE_TONE[selected.state]))
            if selected.error:
                detail.append(f": {selected.error}", self.tone("bad"))
            if selected.cpu_p99_us:
                cpu = f"{_micros(selected.cpu_p50_us)}/{_micros(selected.cpu_p99_us)}"
                detail.append(f"   cpu p50/p99 {cpu} µs", self.tone("muted"))
            detail.append("   parameters:", self.tone("muted"))
            params = [
                (field, (cell(field), cell(param_text(value))))
                for field, value in selected.params.items()
            ]
        self.query_one("#strategy-detail", Static).update(detail)
        self._params_table().set_rows(params)

    @on(DataTable.RowHighlighted, "#strategies-table")
    def _strategy_moved(self) -> None:
        """Show the parameters of the strategy under the cursor."""
        if self.strategies is not None:
            self._draw_selected()

    # ---- actions ------------------------------------------------------------------------------

    def _path(self, name: str, action: str) -> str:
        return f"/strategies/{quote(name, safe='')}/{action}"

    def action_switch_table(self) -> None:
        """Move the cursor between the strategies and the parameters."""
        if self._editing is not None:
            return
        table = self._params_table() if self._table().has_focus else self._table()
        table.focus()

    def action_edit(self) -> None:
        """Open the editor on the selected parameter (only with the token in the environment)."""
        selected = self._selected()
        field = self._params_table().selected_key
        if selected is None or field is None:
            self._say("no parameter selected (tab moves to the parameters)", "warn")
            return
        value = param_text(selected.params.get(field))
        if not self._open_editor(value, field, "changing parameters"):
            return
        self._editing = (selected.name, field)
        self._say(f"new {selected.name}.{field}: enter sends it, esc keeps {value}", "warn")

    @on(KeyedTable.RowSelected, "#params-table")
    def _param_chosen(self) -> None:
        """Enter on a parameter edits it."""
        self.action_edit()

    @on(KeyedTable.RowSelected, "#strategies-table")
    def _strategy_chosen(self) -> None:
        """Enter on a strategy moves to its parameters."""
        self._params_table().focus()

    def action_close_editor(self) -> None:
        """Close the editor without sending anything."""
        if self._editing is None:
            return
        self._editing = None
        self._close_editor(self._params_table())
        self._say("not changed", "muted")

    @on(Input.Submitted, "#param-input")
    def _submitted(self, event: Input.Submitted) -> None:
        editing, self._editing = self._editing, None
        self._close_editor(self._params_table())
        strategy = next(
            (s for s in self.strategies or [] if editing and s.name == editing[0]), None
        )
        if editing is None or strategy is None:
            return
        name, field = editing
        try:
            change = param_change(strategy.params, field, event.value)
        except ParamInputError as exc:
            self._say(f"not sent, the old value stays: {exc}", "bad")
            return
        shown = param_text(change[field])
        self._say(f"sending {name}.{field} = {shown}…", "muted")
        self._send(
            "PUT", self._path(name, "params"), change, f"{name}.{field} is now {shown}",
            "changing parameters",
        )  # fmt: skip

    def action_stop(self) -> None:
        """Stop the selected strategy; the engine cancels its orders."""
        selected = self._selected()
        if selected is None:
            self._say("no strategy selected", "warn")
            return
        self._send(
            "POST", self._path(selected.name, "stop"), None,
            f"{selected.name} stopped, its orders canceled", "stopping a strategy",
        )  # fmt: skip

    def action_start(self) -> None:
        """Start the selected strategy again (also after it raised)."""
        selected = self._selected()
        if selected is None:
            self._say("no strategy selected", "warn")
            return
        self._send(
            "POST", self._path(selected.name, "start"), None, f"{selected.name} started",
            "starting a strategy",
        )  # fmt: skip

    def action_reload(self) -> None:
        """Ask, then reload the selected strategy's source; it restarts flat."""
        selected = self._selected()
        if selected is None:
            self._say("no strategy selected", "warn")
            return
        name = selected.name
        instance = self.frame.instance if self.frame is not None else "?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._send(
                    "POST", self._path(name, "reload"), None,
                    f"{name} reloaded from its source, flat", "reloading a strategy",
                )  # fmt: skip

        self.app.push_screen(
            ConfirmScreen(
                "RELOAD STRATEGY",
                f"Reload {name!r} on engine {instance!r}? Its orders are canceled and it "
                "restarts flat.",
            ),
            answered,
        )
