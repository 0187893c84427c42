"""Snapshots of the risk screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.pilot import table_rows
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode("r", lambda p: len(table_rows(p.app.screen, "#limits-table")) > 10, "the limits")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_risk_screen(seeded, served, sim_clock, snap_compare, size):
    """Risk: every limit with its use now, the breaker line and the rejections by check."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)
