"""Fixtures for tests that run real engine and venue processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from engine.engine import Engine
from engine.sim.server import SimVenue
from tests.integration.in_process import engine_on_local_venue


@pytest.fixture
def instance() -> str:
    """A unique engine instance name, so parallel or leftover runs never collide."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def engine_config(tmp_path: Path) -> Path:
    """A config for a fast local venue, free ports, and a busy but small book."""
    path = tmp_path / "engine.toml"
    path.write_text(
        "[sim]\nport = 0\nseed = 11\nevents_per_second = 2000.0\ndepth_interval_ms = 20\n"
        "[control]\nport = 0\n"
        "[ipc]\nheartbeat_interval_ms = 50\n"
    )
    return path


@pytest.fixture
def engine_env(instance: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment for an engine subprocess under test, with its own state folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
    env["HFT__ENGINE__INSTANCE"] = instance
    env["HFT__ENGINE__STATE_DIR"] = str(tmp_path / "state")
    return env


TIMEOUT_S = 20.0


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` on the running loop; fail naming ``what`` after TIMEOUT_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT_S
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
async def venue_and_engine(tmp_path: Path) -> AsyncIterator[tuple[SimVenue, Engine, str]]:
    """A fast local venue in this process and an engine talking to it over real sockets."""
    async with engine_on_local_venue(tmp_path, stop_timeout_s=TIMEOUT_S) as (venue, engine, name):
        await until(lambda: engine.book_states.get(0) == "live", "the book to go live")
        yield venue, engine, name
