"""Shared fixtures: the captured-data folder, the default config, a simulated clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.clock import SimClock
from engine.core.config import EngineConfig, load_config

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real captured exchange data; skips the test when the folder is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"captured exchange data not found at {SHARED_DATA} (../shared is absent)")
    return SHARED_DATA


@pytest.fixture
def sim_clock() -> SimClock:
    """A clock that moves only when the test moves it."""
    return SimClock()


@pytest.fixture
def default_config() -> EngineConfig:
    """The embedded default configuration, with no environment overrides."""
    return load_config(None, {})
