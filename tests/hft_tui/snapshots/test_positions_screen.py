"""Snapshots of the positions screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.pilot import table_rows
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode(
    "p", lambda p: len(table_rows(p.app.screen, "#positions-table")) == 2, "the positions"
)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_positions_screen(seeded, sim_clock, snap_compare, size):
    """Positions and PnL: the short position, portfolio totals, the day's loss against its limit."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)
