"""A sweep's results table as the backtest screen shows it: read, sorted, and as a heat map.

``hft-tui backtest sweep`` writes one Parquet table, a row per point: ``point``, the parameters
as ``p_<name>`` columns, the headline figures (``net``, ``sharpe``, ...), ``status``, ``attempts``
and ``error``. :func:`load_sweep` reads it with pyarrow into a :class:`SweepTable`;
:meth:`SweepTable.sorted_rows` orders the rows by any column (missing values last either way);
:func:`heat_grid` lays one metric over two parameters (the mean where other parameters vary too)
and :func:`shade` turns a value into one of five shading characters, so the map reads in 16
colours or none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import EngineError

#: light to full: the lowest value in the map is ``░``, the highest ``█``
SHADES = "░▒▓█"
#: columns of the table that are neither parameters nor figures
_BOOKKEEPING = frozenset({"point", "status", "attempts", "error"})

Value = float | int | str | bool | None


class SweepFileError(EngineError, ValueError):
    """A sweep file cannot be shown; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class SweepTable:
    """One sweep's rows."""

    path: str
    params: tuple[str, ...]
    """Parameter names, without the ``p_`` prefix, in the file's order."""
    metrics: tuple[str, ...]
    """Numeric figure columns (``net``, ``sharpe`` ...), in the file's order."""
    rows: tuple[Mapping[str, Value], ...]
    """Every row as column -> value (parameters under their ``p_`` names)."""

    @property
    def columns(self) -> tuple[str, ...]:
        """What the table shows, left to right: point, parameters, figures, status."""
        return ("point", *(f"p_{p}" for p in self.params), *self.metrics, "status")

    def sorted_rows(self, column: str, *, descending: bool) -> list[Mapping[str, Value]]:
        """The rows ordered by ``column``; rows without a value there come last either way.

        Raises:
            KeyError: the table has no such column.
        """
        if column not in self.columns:
            raise KeyError(column)
        present = [r for r in self.rows if _sortable(r.get(column))]
        missing = [r for r in self.rows if not _sortable(r.get(column))]
        present.sort(key=lambda r: _key(r.get(column)), reverse=descending)
        return present + missing


def _sortable(value: Value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _key(value: Value) -> tuple[int, float, str]:
    """Numbers before text, each in its own order."""
    if isinstance(value, bool):
        return (0, float(value), "")
    if isinstance(value, int | float):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def load_sweep(path: str | Path) -> SweepTable:
    """Read a sweep results file.

    Raises:
        SweepFileError: the file is missing, not Parquet, or has no ``p_`` parameter column.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    where = Path(path)
    if not where.is_file():
        raise SweepFileError(f"sweep file {str(where)!r} does not exist")
    try:
        table = pq.read_table(where)
    except (pa.ArrowException, OSError) as exc:
        raise SweepFileError(
            f"sweep file {str(where)!r} is not a readable Parquet table: {exc}"
        ) from None
    names = table.column_names
    params = tuple(n.removeprefix("p_") for n in names if n.startswith("p_"))
    if not params:
        raise SweepFileError(
            f"sweep file {str(where)!r} has no p_<name> parameter column: not a sweep table"
        )
    metrics = tuple(
        n
        for n in names
        if not n.startswith("p_")
        and n not in _BOOKKEEPING
        and (pa.types.is_floating(table.schema.field(n).type)
             or pa.types.is_integer(table.schema.field(n).type))
    )  # fmt: skip
    rows: tuple[Mapping[str, Any], ...] = tuple(table.to_pylist())
    return SweepTable(path=str(where), params=params, metrics=metrics, rows=rows)


@dataclass(frozen=True, slots=True)
class HeatGrid:
    """A metric over two parameters: ``cells[y][x]`` (None where no point was run)."""

    metric: str
    x: str
    y: str
    xs: tuple[Value, ...]
    ys: tuple[Value, ...]
    cells: tuple[tuple[float | None, ...], ...]

    @property
    def span(self) -> tuple[float, float] | None:
        """(lowest, highest) value in the map, or None when it is empty."""
        values = [v for row in self.cells for v in row if v is not None]
        return (min(values), max(values)) if values else None


def heat_grid(table: SweepTable, metric: str, x: str, y: str) -> HeatGrid:
    """``metric`` over parameters ``x`` (columns) and ``y`` (rows), the mean of every row there.

    Rows without a value for the metric (failed points) are left out.

    Raises:
        KeyError: the metric or a parameter is not in the table.
    """
    for name in (x, y):
        if name not in table.params:
            raise KeyError(name)
    if metric not in table.metrics:
        raise KeyError(metric)
    sums: dict[tuple[Value, Value], list[float]] = {}
    for row in table.rows:
        value = row.get(metric)
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
            continue
        sums.setdefault((row.get(f"p_{x}"), row.get(f"p_{y}")), []).append(float(value))
    xs = _ordered({row.get(f"p_{x}") for row in table.rows})
    ys = _ordered({row.get(f"p_{y}") for row in table.rows})
    cells = tuple(
        tuple(
            (sum(v) / len(v)) if (v := sums.get((cx, cy))) else None
            for cx in xs
        )
        for cy in ys
    )  # fmt: skip
    return HeatGrid(metric=metric, x=x, y=y, xs=xs, ys=ys, cells=cells)


def _ordered(values: set[Value]) -> tuple[Value, ...]:
    return tuple(sorted(values, key=lambda v: (v is None, _key(v))))


def shade(value: float, lo: float, hi: float) -> str:
    """One of :data:`SHADES` for ``value`` between ``lo`` and ``hi`` (the middle one when flat)."""
    if hi <= lo:
        return SHADES[len(SHADES) // 2]
    top = len(SHADES) - 1
    return SHADES[min(top, max(0, round((value - lo) / (hi - lo) * top)))]


def figure(value: Value, width: int = 0) -> str:
    """A cell's text: numbers to a few significant places, missing as ``-``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "-"
    elif isinstance(value, bool):
        text = str(value).lower()
    elif isinstance(value, float):
        text = f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
    else:
        text = str(value)
    return text.rjust(width) if width else text


def next_of(names: Sequence[str], current: str, step: int = 1) -> str:
    """The name ``step`` places after ``current`` in ``names``, wrapping round."""
    if not names:
        return current
    index = names.index(current) if current in names else -step
    return names[(index + step) % len(names)]
