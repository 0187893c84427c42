"""Snapshots of the key list over the trade screen."""

from __future__ import annotations

import pytest

from hft_tui.screens.help import HelpScreen
from tests.hft_tui.snapshots.conftest import SIZES, on_mode, snapshot_app

READY = on_mode("question_mark", lambda p: isinstance(p.app.screen, HelpScreen), "the key list")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen(seeded, sim_clock, snap_compare, size):
    """The trade screen's keys, the modes and the global keys, in a box over the screen."""
    assert snap_compare(snapshot_app(sim_clock), terminal_size=size, run_before=READY)
