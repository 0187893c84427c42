"""Snapshots of the alerts screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.pilot import table_rows
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode("a", lambda p: len(table_rows(p.app.screen, "#alerts-table")) == 3, "the alerts")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alerts_screen(seeded, sim_clock, snap_compare, size):
    """Alerts newest first, critical ones loud, the selected one in full below."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)
