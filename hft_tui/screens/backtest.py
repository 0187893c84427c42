"""BacktestScreen: backtests of the market maker over recorded markets, run beside the live desk.

A form (data, parameters, start, end) describes a run; ``e`` moves into it, enter in any field
starts the run and ``n`` starts another with the form as it stands. Runs go to worker processes
(:func:`~hft_tui.backtest_jobs.worker_pool`, two at a time), so the UI and the live engine's
screens stay responsive while they replay. The table lists every run: its parameters, state
(queued, running with its elapsed time, done, failed), net PnL, Sharpe, max drawdown and fills;
under it the selected run's parameters, other figures and its equity curve (net PnL over the
replay, :class:`~hft_tui.widgets.pnl_chart.PnlChart`). ``x`` cancels a run that has not started.
A form that cannot make a run says which field is wrong, on the line at the bottom.

``m`` marks runs (``*`` after their number) and ``c`` compares the finished ones marked side by
side (:class:`~hft_tui.screens.run_compare.RunCompareScreen`); ``s`` opens a sweep's results file
as a sortable table and a heat map (:class:`~hft_tui.screens.sweep_view.SweepScreen`); ``l``
replays the selected finished run on the ladder with its orders drawn, at a chosen speed
(:class:`~hft_tui.screens.replay_view.ReplayScreen`). The strategy is any reference kind; its
parameters are checked against its ranges before the run is handed to a worker.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from hft_tui import format as fmt
from hft_tui.backtest_jobs import BacktestForm, BacktestFormError, build_job, submit, worker_pool
from hft_tui.backtest_replay import ReplayOpenError, ReplayWatch, open_replay
from hft_tui.frame import Frame
from hft_tui.pnl_curve import PnlCurve
from hft_tui.screens.base import DeskScreen
from hft_tui.screens.replay_view import ReplayScreen
from hft_tui.screens.run_compare import RunCompareScreen
from hft_tui.screens.sweep_view import SweepScreen
from hft_tui.widgets.keyed_table import Cells, KeyedTable, cell
from hft_tui.widgets.pnl_chart import PnlChart

_FIELDS = (
    ("strategy", "strategy", "market_maker, imbalance, grid, ma_cross, rsi_revert, twap, vwap"),
    ("data", "data", "capture stem or file(s), or catalog:<folder>"),
    ("params", "params", "half_spread_ticks=50 size_lots=1000 ..."),
    ("start", "start", "ISO-8601, ns, or +90s/+5m/+1h from the data's start; empty: its start"),
    ("end", "end", "the same; empty: the data's end"),
)
_COLUMNS = (
    ("run", "run"),
    ("params", "params"),
    ("state", "state"),
    ("net", "net PnL"),
    ("sharpe", "sharpe"),
    ("dd", "max dd"),
    ("fills", "fills"),
)
_PARAMS_W = 20
"""Characters of a run's parameters shown in the table (all of them on the detail line)."""
_TONE = {"queued": "muted", "running": "warn", "done": "ok", "failed": "bad", "canceled": "muted"}
WORKERS = 2


@dataclass(slots=True)
class BacktestRun:
    """One run the screen started."""

    number: int
    form: BacktestForm
    submitted: float
    """``time.monotonic()`` when it was handed to the pool."""
    future: Future[dict[str, Any]] | None = None
    result: dict[str, Any] = field(default_factory=dict)
    state: str = "queued"
    finished: float = 0.0

    @property
    def error(self) -> str:
        """Why it failed; empty otherwise."""
        return str(self.result.get("error", ""))


def _short(text: str) -> str:
    return text if len(text) <= _PARAMS_W else text[: _PARAMS_W - 1] + "…"


def _figure(value: object, digits: int = 2) -> str:
    return f"{value:,.{digits}f}" if isinstance(value, int | float) else "-"


class BacktestScreen(DeskScreen):
    """The backtest form, the runs and the selected run's figures and equity curve.

    Args:
        data: what the data field starts with (``ui`` settings or ``HFT_BACKTEST_DATA``).
        pool: the worker pool to submit to (tests pass their own); two spawned workers by default.
    """

    MODE = "backtest"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "form", tooltip="move into the form (enter there starts a run)"),
        Binding("n", "start", "run", tooltip="start a run with the form as it stands"),
        Binding(
            "x",
            "cancel",
            "cancel",
            show=False,
            tooltip="cancel the selected run if it has not started",
        ),
        Binding("m", "mark", "mark", tooltip="mark or unmark the selected run for comparing"),
        Binding(
            "c",
            "compare",
            "compare",
            tooltip="the finished runs marked, side by side (two or more)",
        ),
        Binding("s", "sweep", "sweep", tooltip="open a sweep's results file: table and heat map"),
        Binding(
            "l",
            "replay",
            "replay",
            tooltip="replay the selected finished run on the ladder with its orders",
        ),
        Binding("escape", "leave_form", "runs", show=False, tooltip="back to the runs table"),
    ]

    def __init__(self, data: str = "", pool: ProcessPoolExecutor | None = None) -> None:
        super().__init__()
        self._data = data
        self._pool = pool
        self._own_pool = pool is None
        self.runs: dict[int, BacktestRun] = {}
        self.message: tuple[str, str] = ("", "muted")
        self.marked: set[int] = set()
        """Runs marked for comparing."""
        self.sweep_path = ""
        """The sweep file last opened (the sweep view starts on it)."""

    def compose_body(self) -> ComposeResult:
        """Form, runs, figures, chart, message."""
        with Vertical(id="backtest-form"):
            for key, label, hint in _FIELDS:
                with Horizontal(classes="form-row"):
                    yield Static(f" {label:<8}", classes="form-label")
                    value = {"data": self._data, "strategy": "market_maker"}.get(key, "")
                    yield Input(value, placeholder=hint, id=f"bt-{key}", compact=True)
        yield KeyedTable(_COLUMNS, id="runs-table")
        yield Static(id="run-detail")
        yield PnlChart(empty=" the selected run's equity curve shows here", id="equity-chart")
        yield Static(id="backtest-message")

    def on_mount(self) -> None:
        """The runs table has the keys; the table rows refresh every second while runs run."""
        super().on_mount()
        self.query_one("#runs-table", KeyedTable).focus()
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        """Cancel what has not started; end the workers this screen started."""
        pool, self._pool = self._pool, None
        if pool is None or not self._own_pool:
            return
        # a run in progress would hold up quitting until it ends: its worker is stopped instead
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()

    # ---- the form --------------------------------------------------------------------------------

    def _form(self) -> BacktestForm:
        values = {key: self.query_one(f"#bt-{key}", Input).value for key, _, _ in _FIELDS}
        return BacktestForm(**values)

    def action_edit(self) -> None:
        """Move into the form's first field."""
        self.query_one("#bt-data", Input).focus()

    def action_leave_form(self) -> None:
        """Back to the runs table."""
        self.query_one("#runs-table", KeyedTable).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_start()
        self.action_leave_form()

    def action_start(self) -> None:
        """Check the form and hand the run to a worker."""
        number = max(self.runs, default=0) + 1
        form = self._form()
        try:
            job = build_job(form, number)
        except BacktestFormError as exc:
            self._say(f"not started: {exc}", "bad")
            return
        if self._pool is None:
            self._pool = worker_pool(WORKERS)
        run = BacktestRun(number, form, time.monotonic())
        run.future = submit(self._pool, job)
        self.runs[number] = run
        run.future.add_done_callback(lambda done: self.app.call_from_thread(self._done, number))
        self._say(f"run {number} started in a worker process", "ok")

    def action_cancel(self) -> None:
        """Cancel the selected run if it has not started yet."""
        run = self._selected()
        if run is None:
            self._say("no run selected", "warn")
        elif run.future is not None and run.future.cancel():
            run.state = "canceled"
            self._say(f"run {run.number} canceled", "ok")
        else:
            self._say(f"run {run.number} has started or ended; it cannot be canceled", "warn")

    # ---- compare, sweep, replay --------------------------------------------------------------

    def action_mark(self) -> None:
        """Mark the selected run for comparing, or unmark it."""
        run = self._selected()
        if run is None:
            self._say("no run selected", "warn")
            return
        self.marked ^= {run.number}
        shown = ", ".join(f"#{n}" for n in sorted(self.marked)) or "none"
        self._say(f"marked for comparing: {shown}", "ok")

    def action_compare(self) -> None:
        """The finished runs marked, side by side."""
        done = [self.runs[n] for n in sorted(self.marked) if self.runs[n].state == "done"]
        if len(done) < 2:
            self._say("mark two or more finished runs with m, then c compares them", "warn")
            return
        self.app.push_screen(RunCompareScreen([(r.number, r.form.params, r.result) for r in done]))

    def action_sweep(self) -> None:
        """A sweep's results table and heat map."""
        view = SweepScreen(self.sweep_path)
        self.app.push_screen(view, lambda _: self._sweep_closed(view))

    def _sweep_closed(self, view: SweepScreen) -> None:
        if view.table is not None:
            self.sweep_path = view.table.path

    def action_replay(self) -> None:
        """Replay the selected finished run on the ladder (built again in this process)."""
        run = self._selected()
        if run is None or run.state != "done":
            self._say("select a finished run to replay", "warn")
            return
        try:
            job = build_job(run.form, run.number)
            watch = ReplayWatch(open_replay(job))
        except (BacktestFormError, ReplayOpenError) as exc:
            self._say(f"no replay: {exc}", "bad")
            return
        self.app.push_screen(ReplayScreen(run.number, watch))

    # ---- runs ------------------------------------------------------------------------------------

    def _done(self, number: int) -> None:
        run = self.runs.get(number)
        if run is None or run.future is None or run.future.cancelled():
            return
        run.finished = time.monotonic()
        try:
            run.result = run.future.result()
        except Exception as exc:  # a worker that died (killed, out of memory) or a pool shut down
            run.result = {"error": f"{type(exc).__name__}: {exc}"}
        run.state = "failed" if run.error else "done"
        if run.error:
            self._say(f"run {number} failed: {run.error}", "bad")
        else:
            self._say(f"run {number} done in {run.finished - run.submitted:.1f} s", "ok")
        self.finish(run)

    def finish(self, run: BacktestRun) -> None:
        """Show a run that has its result (tests hand finished runs in here too)."""
        self.runs[run.number] = run
        self._redraw()

    def _tick(self) -> None:
        moved = False
        for run in self.runs.values():
            future = run.future
            if run.state == "queued" and future is not None and future.running():
                run.state, moved = "running", True
            if run.state == "running":
                moved = True
        if moved:
            self._redraw()

    def _selected(self) -> BacktestRun | None:
        key = self.query_one("#runs-table", KeyedTable).selected_key
        return self.runs.get(int(key)) if key is not None else None

    # ---- drawing ---------------------------------------------------------------------------------

    def _say(self, text: str, tone: str) -> None:
        self.message = (text, tone)
        self._redraw()

    def _redraw(self) -> None:
        if self.frame is not None:
            self.show(self.frame)
        else:
            self._draw_runs()

    def show(self, frame: Frame) -> None:
        """Runs, the selected one's figures and curve, the message (the engine is not needed)."""
        self._draw_runs()

    def _state(self, run: BacktestRun) -> Text:
        state = run.state
        if state == "running":
            state = f"running {time.monotonic() - run.submitted:.0f}s"
        elif state == "done":
            state = f"done {run.finished - run.submitted:.1f}s"
        return cell(state, self.tone(_TONE[run.state]))

    def _draw_runs(self) -> None:
        rows: list[tuple[str, Cells]] = []
        for number, run in sorted(self.runs.items(), reverse=True):
            head = run.result.get("headline", {})
            net = head.get("net")
            tone: str = fmt.pnl_class(str(net)) if isinstance(net, int | float) else "flat"
            rows.append((
                str(number),
                (
                    cell(f"#{number}" + (" *" if number in self.marked else "")),
                    cell(_short(run.form.params or "defaults"), self.tone("muted")),
                    self._state(run),
                    cell(_figure(net, 4), self.tone(tone) if tone != "flat" else "", right=True),
                    cell(_figure(head.get("sharpe")), right=True),
                    cell(_figure(head.get("max_drawdown"), 4), right=True),
                    cell(_figure(head.get("fills"), 0), right=True),
                ),
            ))  # fmt: skip
        self.query_one("#runs-table", KeyedTable).set_rows(rows)
        self._draw_selected()
        text, tone = self.message
        if not text and not self.runs:
            text = "e fills in the form, enter there (or n here) starts a run in a worker"
        self.query_one("#backtest-message", Static).update(Text(" " + text, self.tone(tone)))

    def _draw_selected(self) -> None:
        run = self._selected()
        detail = Text(no_wrap=True, overflow="crop")
        curve = PnlCurve()
        muted = self.tone("muted")
        if run is not None and run.result and not run.error:
            head = run.result.get("headline", {})
            start, end = run.result.get("start_ns", 0), run.result.get("end_ns", 0)
            detail.append(f" #{run.number} {run.result.get('source', '')}", "bold")
            detail.append(f"  {fmt.clock_time(start)}-{fmt.clock_time(end)} UTC", muted)
            detail.append(f"  {run.form.params or 'default parameters'}\n", muted)
            for label, key, digits in (
                ("gross", "gross", 4), ("fees", "fees", 4), ("orders", "orders_sent", 0),
                ("sortino", "sortino", 2),
                ("fill ratio", "fill_ratio", 3), ("maker", "maker_share", 3),
                ("spread capture", "spread_capture", 4),
            ):  # fmt: skip
                detail.append(f" {label} ", muted)
                detail.append(_figure(head.get(key), digits))
            if run.result.get("halted"):
                detail.append(f"  breaker: {run.result['halted']}", self.tone("bad"))
            points = run.result.get("equity", [])
            curve = PnlCurve(tuple((int(ts), Decimal(net)) for ts, net in points))
        elif run is not None and run.error:
            detail.append(f" #{run.number} failed: {run.error}", self.tone("bad"))
        elif run is not None:
            detail.append(f" #{run.number} {run.state}: the figures come when it ends", muted)
        self.query_one("#run-detail", Static).update(detail)
        self.query_one("#equity-chart", PnlChart).curve = curve

    @on(DataTable.RowHighlighted, "#runs-table")
    def _run_moved(self) -> None:
        """Show the run under the cursor."""
        self._draw_selected()
