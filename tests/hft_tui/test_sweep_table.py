"""Sweep results as the backtest screen reads them: columns, sorting, the heat map's grid."""

from __future__ import annotations

import pytest

from hft_tui.sweep_table import (
    SHADES,
    SweepFileError,
    figure,
    heat_grid,
    load_sweep,
    next_of,
    shade,
)
from tests.hft_tui.backtest_runs import sweep_file


def test_a_sweep_file_reads_into_parameters_figures_and_rows(tmp_path):
    """p_ columns are the parameters; numeric columns other than bookkeeping are figures."""
    table = load_sweep(sweep_file(tmp_path))
    assert table.params == ("half_spread_ticks", "skew_ticks")
    assert table.metrics == ("net", "sharpe", "fills")
    assert table.columns == (
        "point", "p_half_spread_ticks", "p_skew_ticks", "net", "sharpe", "fills", "status",
    )  # fmt: skip
    assert len(table.rows) == 6


def test_rows_sort_by_any_column_with_missing_values_last(tmp_path):
    """Descending or ascending, the failed point (no net) is last."""
    table = load_sweep(sweep_file(tmp_path))
    down = [r["point"] for r in table.sorted_rows("net", descending=True)]
    up = [r["point"] for r in table.sorted_rows("net", descending=False)]
    assert down == [4, 2, 0, 3, 1, 5]
    assert up == [1, 0, 3, 2, 4, 5]  # ties keep the file order
    assert table.sorted_rows("status", descending=False)[0]["status"] == "failed"
    with pytest.raises(KeyError):
        table.sorted_rows("nope", descending=True)


def test_the_heat_grid_lays_a_metric_over_two_parameters(tmp_path):
    """Columns are x values, rows y values; a point not run is None; the mean where repeated."""
    table = load_sweep(sweep_file(tmp_path))
    grid = heat_grid(table, "net", "half_spread_ticks", "skew_ticks")
    assert grid.xs == (10, 20, 40)
    assert grid.ys == (0, 20)
    assert grid.cells == ((1.0, 2.0, 4.0), (0.0, 1.0, None))
    assert grid.span == (0.0, 4.0)
    one = heat_grid(table, "net", "half_spread_ticks", "half_spread_ticks")
    assert one.cells[0][0] == 0.5  # (10, 10): the mean of skew 0 (1.0) and 20 (0.0)
    assert one.cells[0][1] is None
    with pytest.raises(KeyError):
        heat_grid(table, "net", "levels", "skew_ticks")


def test_shades_run_from_light_to_full():
    """The lowest value is the lightest shade, the highest the full block; flat is the middle."""
    assert [shade(v, 0.0, 3.0) for v in (0.0, 1.0, 2.0, 3.0)] == list(SHADES)
    assert shade(5.0, 5.0, 5.0) == SHADES[2]


def test_a_file_that_is_not_a_sweep_is_named(tmp_path):
    """Missing, not Parquet, or without parameter columns: each says so with the path."""
    with pytest.raises(SweepFileError, match="does not exist"):
        load_sweep(tmp_path / "none.parquet")
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet")
    with pytest.raises(SweepFileError, match="not a readable Parquet table"):
        load_sweep(junk)
    import pyarrow as pa
    import pyarrow.parquet as pq

    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"net": [1.0]}), plain)
    with pytest.raises(SweepFileError, match="no p_<name> parameter column"):
        load_sweep(plain)


def test_figures_and_cycling():
    """Cells print compactly; next_of wraps both ways."""
    assert [figure(v) for v in (None, 1.23456, 7, "ok", True)] == ["-", "1.235", "7", "ok", "true"]
    assert next_of(["a", "b", "c"], "c") == "a"
    assert next_of(["a", "b", "c"], "a", -1) == "c"
