"""Snapshots of the trade screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.conftest import engine_view
from tests.hft_tui.snapshots.conftest import INSTANCE, SIZES, drawn, snapshot_app


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_trade_screen(seeded, sim_clock, snap_compare, size):
    """Ladder with our orders, position and PnL, ticket, working orders, tape, status, keys."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=drawn)


def test_trade_screen_halted_ansi_80x24(seeded, sim_clock, snap_compare):
    """Halted in 16 colours: the red banner across the top, the book still readable."""
    seeded.publish_engine(
        engine_view(
            sim_clock,
            INSTANCE,
            trading="halted",
            halt_reason="kill switch (ui)",
            halted_at_ns=sim_clock.time_ns(),
        )
    )
    assert snap_compare(
        snapshot_app(sim_clock, ansi=True), terminal_size=(80, 24), run_before=drawn
    )
