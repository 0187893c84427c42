"""Snapshots of the orders screen on fixed data and a simulated clock."""

from __future__ import annotations

import pytest

from tests.hft_tui.pilot import table_rows
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode(
    "o",
    lambda p: (
        len(table_rows(p.app.screen, "#orders-table")) == 5
        and len(table_rows(p.app.screen, "#fills-table")) == 2
    ),
    "orders and fills",
)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_orders_screen(seeded, sim_clock, snap_compare, size):
    """Orders and fills: every order by client id with its state and reason, the fills log."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)
