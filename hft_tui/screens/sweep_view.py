"""SweepScreen: a sweep's results file as a sortable table and a heat map of one metric.

Opened from the backtest screen with ``s``. The path line takes the Parquet table
``hft-tui backtest sweep`` wrote (enter reads it; a file that is not a sweep table is named with
the problem on that line). The table lists every point: its parameters, figures and status,
sorted by one column (``<`` / ``>`` pick it, ``r`` flips the order; rows without a value come
last). Under it the heat map: the metric ``M`` picks, over the parameters ``X`` (across) and ``Y``
(down) pick, the mean where other parameters vary too; each cell is shaded ``░▒▓█`` from the
lowest value to the highest and carries its number, so it reads in 16 colours or none. Escape
closes it; the kill switch works here as everywhere.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Static

from hft_tui.sweep_table import (
    SHADES,
    HeatGrid,
    SweepFileError,
    SweepTable,
    figure,
    heat_grid,
    load_sweep,
    next_of,
    shade,
)

#: characters of one heat-map cell: two of shading and the value
CELL_W = 10
#: characters of the heat map's row captions (the Y parameter's values)
AXIS_W = 10


def heat_text(grid: HeatGrid, styles: dict[str, str] | None = None) -> Text:
    """The heat map as text: a header of X values, a row per Y value, a legend line.

    Args:
        grid: the map.
        styles: a style per shading character (the stylesheet's colours); none is plain.
    """
    out = Text(no_wrap=True, overflow="crop")
    span = grid.span
    title = f" {grid.metric} over {grid.x} (across) by {grid.y} (down)"
    if span is None:
        out.append(title + ": no point has a value")
        return out
    lo, hi = span
    out.append(title + "\n", "bold")
    out.append(f"{grid.y[: AXIS_W - 1]:>{AXIS_W - 1}} ")
    for x in grid.xs:
        out.append(figure(x).rjust(CELL_W))
    out.append("\n")
    for y, row in zip(grid.ys, grid.cells, strict=True):
        out.append(f"{figure(y)[: AXIS_W - 1]:>{AXIS_W - 1}} ")
        for value in row:
            if value is None:
                out.append(" " * (CELL_W - 1) + "·")
                continue
            mark = shade(value, lo, hi)
            style = (styles or {}).get(mark, "")
            out.append(" " + mark * 2, style)
            out.append(figure(value).rjust(CELL_W - 3))
        out.append("\n")
    out.append(
        f" {SHADES[0]} lowest {figure(lo)} … {SHADES[-1]} highest {figure(hi)} · blank: not run"
    )
    return out


class SweepScreen(ModalScreen[None]):
    """One sweep's points, sorted, and a heat map over two of its parameters.

    Args:
        path: the file to read when it opens (empty: type one on the path line).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("less_than_sign", "sort(-1)", "sort column ←", tooltip="sort by the column before"),
        Binding("greater_than_sign", "sort(1)", "sort column →", tooltip="sort by the next column"),
        Binding("r", "reverse", "reverse", tooltip="flip the sort order"),
        Binding("M", "metric", "metric", tooltip="the heat map's metric (cycles)"),
        Binding("X", "axis('x')", "x param", tooltip="the heat map's parameter across (cycles)"),
        Binding("Y", "axis('y')", "y param", tooltip="the heat map's parameter down (cycles)"),
        Binding("e", "edit", "path", tooltip="move to the path line (enter reads the file)"),
        Binding("escape", "close", "close", tooltip="back to the runs (or from the path line)"),
    ]  # fmt: skip
    """
    | key | action |
    |---|---|
    | `<` / `>` | sort by the column before / after |
    | `r` | flip the sort order |
    | `M` | the heat map's metric (cycles) |
    | `X` / `Y` | the heat map's parameter across / down (cycles) |
    | `e` | the path line (enter reads the file) |
    | `escape` | back to the runs |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"heat--{n}" for n in range(len(SHADES))}
    """
    | class | what it styles |
    |---|---|
    | `heat--0` ... `heat--3` | heat-map cells from the lowest value to the highest |
    """

    def __init__(self, path: str = "") -> None:
        super().__init__()
        self._path = path
        self.table: SweepTable | None = None
        self.sort_column = "point"
        self.descending = False
        self.metric = ""
        self.x = ""
        self.y = ""

    def compose(self) -> ComposeResult:
        """Title, path, table, heat map, keys."""
        with Vertical(id="sweep-box", classes="backtest-view"):
            yield Static(" SWEEP", id="sweep-title", classes="view-title")
            yield Input(
                self._path, placeholder="a sweep results .parquet", id="sweep-path", compact=True
            )
            yield DataTable(id="sweep-table", cursor_type="row", zebra_stripes=False)
            yield Static(id="sweep-heat")
            yield Static(
                " < > sort · r reverse · M metric · X Y params · e path · esc back · ctrl+k kill",
                classes="view-keys",
            )

    def on_mount(self) -> None:
        """Read the file given, if any; the table has the keys."""
        if self._path:
            self.open(self._path)
        else:
            self._say("type the path of a sweep results file, then enter")
            self.query_one("#sweep-path", Input).focus()

    # ---- reading ---------------------------------------------------------------------------------

    def open(self, path: str) -> None:
        """Read ``path`` and show it; a bad file is named on the title line, the old one kept."""
        try:
            table = load_sweep(path.strip())
        except SweepFileError as exc:
            self._say(str(exc), bad=True)
            return
        self.table = table
        self.sort_column = table.metrics[0] if table.metrics else "point"
        self.descending = True
        self.metric = table.metrics[0] if table.metrics else ""
        self.x = table.params[0]
        self.y = table.params[1] if len(table.params) > 1 else table.params[0]
        self._draw()
        self.query_one("#sweep-table", DataTable).focus()

    @on(Input.Submitted, "#sweep-path")
    def _path_given(self, event: Input.Submitted) -> None:
        self.open(event.value)

    # ---- drawing ---------------------------------------------------------------------------------

    def _say(self, text: str, *, bad: bool = False) -> None:
        self.query_one("#sweep-title", Static).update(
            Text(f" SWEEP · {text}", style="bold red" if bad else "bold")
        )

    def _draw(self) -> None:
        table = self.table
        if table is None:
            return
        order = "descending" if self.descending else "ascending"
        failed = sum(1 for r in table.rows if r.get("status") == "failed")
        self._say(
            f"{table.path} · {len(table.rows)} points ({failed} failed)"
            f" · sorted by {self.sort_column} {order}"
        )
        view = self.query_one("#sweep-table", DataTable)
        view.clear(columns=True)
        for column in table.columns:
            mark = (" ▼" if self.descending else " ▲") if column == self.sort_column else ""
            view.add_column(column.removeprefix("p_") + mark, key=column)
        for n, row in enumerate(table.sorted_rows(self.sort_column, descending=self.descending)):
            view.add_row(
                *(
                    Text(figure(row.get(c)), justify="left" if c == "status" else "right")
                    for c in table.columns
                ),
                key=str(n),
            )
        self._draw_heat()

    def _draw_heat(self) -> None:
        table = self.table
        heat = self.query_one("#sweep-heat", Static)
        if table is None:
            return
        if not self.metric:
            heat.update(" no numeric figure in this table to map")
            return
        styles = {
            mark: str(self.get_component_rich_style(f"heat--{n}", partial=True))
            for n, mark in enumerate(SHADES)
        }
        heat.update(heat_text(heat_grid(table, self.metric, self.x, self.y), styles))

    # ---- keys ------------------------------------------------------------------------------------

    def action_sort(self, step: int) -> None:
        """Sort by the column before or after the current one."""
        if self.table is not None:
            self.sort_column = next_of(self.table.columns, self.sort_column, step)
            self._draw()

    def action_reverse(self) -> None:
        """Flip the sort order."""
        if self.table is not None:
            self.descending = not self.descending
            self._draw()

    def action_metric(self) -> None:
        """The heat map's next metric."""
        if self.table is not None and self.table.metrics:
            self.metric = next_of(self.table.metrics, self.metric)
            self._draw_heat()

    def action_axis(self, which: str) -> None:
        """The heat map's next parameter across (``x``) or down (``y``)."""
        if self.table is None:
            return
        if which == "x":
            self.x = next_of(self.table.params, self.x)
        else:
            self.y = next_of(self.table.params, self.y)
        self._draw_heat()

    def action_edit(self) -> None:
        """Move to the path line."""
        self.query_one("#sweep-path", Input).focus()

    def action_close(self) -> None:
        """Back to the table from the path line; from anywhere else, back to the runs."""
        path = self.query_one("#sweep-path", Input)
        if path.has_focus and self.table is not None:
            self.query_one("#sweep-table", DataTable).focus()
            return
        self.dismiss(None)
