"""RunCompareScreen: finished backtest runs side by side, a column per run, a row per figure.

Opened from the backtest screen with ``c`` on the runs marked with ``m`` (two or more that are
done). The rows are each run's parameters, data and range, then every headline figure; where a
higher figure is the better one (net, Sharpe, Sortino, the drawdown nearest zero, spread capture)
the best run's cell is marked ``*`` and coloured, so it reads in 16 colours or none. Long
parameter lists are cut in their column; the line under the title has every run's in full. Escape
closes it; the kill switch works here as everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from hft_tui import format as fmt

#: (caption, headline key, decimals, a higher value is better)
FIGURES: tuple[tuple[str, str, int, bool], ...] = (
    ("net PnL", "net", 4, True),
    ("gross", "gross", 4, False),
    ("fees", "fees", 4, False),
    ("sharpe", "sharpe", 2, True),
    ("sortino", "sortino", 2, True),
    ("max drawdown", "max_drawdown", 4, True),
    ("fills", "fills", 0, False),
    ("orders sent", "orders_sent", 0, False),
    ("fill ratio", "fill_ratio", 3, False),
    ("maker share", "maker_share", 3, False),
    ("turnover", "turnover", 2, False),
    ("spread capture", "spread_capture", 4, True),
)


#: characters of a run's parameters in its column (all of them are on the title line)
PARAMS_W = 24


def _short(text: str) -> str:
    return text if len(text) <= PARAMS_W else text[: PARAMS_W - 1] + "…"


def compare_rows(
    runs: Sequence[tuple[int, str, Mapping[str, Any]]],
) -> list[tuple[str, list[tuple[str, bool]]]]:
    """The table's rows: (caption, [(cell text, best of the row)] per run).

    Args:
        runs: (run number, its parameters as typed, its result document) per run, in column order.
    """
    rows: list[tuple[str, list[tuple[str, bool]]]] = [
        ("params", [(_short(params or "defaults"), False) for _, params, _ in runs]),
        ("data", [(str(result.get("source", "")), False) for _, _, result in runs]),
        (
            "range (UTC)",
            [
                (
                    f"{fmt.clock_time(int(result.get('start_ns', 0)))}-"
                    f"{fmt.clock_time(int(result.get('end_ns', 0)))}",
                    False,
                )
                for _, _, result in runs
            ],
        ),
    ]
    for caption, key, digits, higher in FIGURES:
        values = [result.get("headline", {}).get(key) for _, _, result in runs]
        numbers = [v for v in values if isinstance(v, int | float)]
        best = max(numbers) if higher and len(numbers) > 1 else None
        if best is not None and numbers.count(best) == len(numbers):
            best = None  # all equal: nothing stands out
        rows.append((
            caption,
            [
                (
                    f"{v:,.{digits}f}" if isinstance(v, int | float) else "-",
                    best is not None and v == best,
                )
                for v in values
            ],
        ))  # fmt: skip
    rows.append((
        "breaker",
        [(str(result.get("halted") or "-"), False) for _, _, result in runs],
    ))  # fmt: skip
    return rows


class RunCompareScreen(ModalScreen[None]):
    """Two or more finished runs side by side.

    Args:
        runs: (run number, parameters, result document) per run, in column order.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,c", "close", "close", tooltip="back to the runs"),
    ]
    """
    | key | action |
    |---|---|
    | `escape`, `c` | back to the runs |
    """

    def __init__(self, runs: Sequence[tuple[int, str, Mapping[str, Any]]]) -> None:
        super().__init__()
        self._runs = list(runs)

    def compose(self) -> ComposeResult:
        """Title, the table, the keys."""
        with Vertical(id="compare-box", classes="backtest-view"):
            numbers = ", ".join(f"#{n}" for n, _, _ in self._runs)
            yield Static(f" COMPARE RUNS {numbers}", id="compare-title", classes="view-title")
            yield Static(
                "  ".join(f" #{n} {params or 'defaults'}" for n, params, _ in self._runs),
                id="compare-params",
                classes="caption",
            )
            yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=False)
            yield Static(
                " * best of the row · ↑↓ scroll · esc back to the runs · ctrl+k kill",
                classes="view-keys",
            )

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one("#compare-table", DataTable)
        table.add_column("figure", key="figure")
        for number, _, _ in self._runs:
            table.add_column(f"#{number}", key=str(number))
        good = self.get_component_rich_style("compare--best", partial=True)
        for caption, cells in compare_rows(self._runs):
            table.add_row(
                Text(caption, no_wrap=True),
                *(
                    Text(
                        text + (" *" if best else ""),
                        style=good if best else "",
                        justify="left" if caption in ("params", "data", "range (UTC)") else "right",
                        no_wrap=True,
                    )
                    for text, best in cells
                ),
                key=caption,
            )
        table.focus()

    COMPONENT_CLASSES: ClassVar[set[str]] = {"compare--best"}
    """
    | class | what it styles |
    |---|---|
    | `compare--best` | the best run's figure on a row |
    """

    def action_close(self) -> None:
        """Back to the runs."""
        self.dismiss(None)
