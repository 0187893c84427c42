"""Snapshots of the health screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.pilot import text_of
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode("h", lambda p: "frames" in text_of(p.app.screen, "#health"), "the status")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_health_screen(seeded, served, sim_clock, snap_compare, size):
    """Health: link, rates, reconnects from /status, rate limiters with gauges, rings."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)
