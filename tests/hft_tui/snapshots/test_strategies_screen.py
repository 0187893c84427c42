"""Snapshots of the strategies screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.pilot import table_rows
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode("y", lambda p: len(table_rows(p.app.screen, "#params-table")) > 5, "the strategies")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_strategies_screen(seeded, served, sim_clock, snap_compare, size):
    """Strategies: state and callback times per strategy, the selected one's parameters."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)


def test_strategies_screen_200x50(seeded, served, sim_clock, snap_compare):
    """At 200x50 every column and parameter has room."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=(200, 50), run_before=READY)


def test_strategies_screen_ansi_80x24(seeded, served, sim_clock, snap_compare):
    """With 16 colours (TERM=xterm, the ANSI theme) states still read: running, failed."""
    app = snapshot_app(sim_clock, ansi=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=READY)
