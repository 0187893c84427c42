"""Fixtures over the live parameter store backends (tests/engine/risk/redis_harness.py)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.engine.risk.redis_harness import (
    REDIS_URL,
    Backend,
    PrivateRedis,
    delete_namespace,
    redis_answers,
    stop_store,
)


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """The local file, then the shared Redis in a fresh namespace (its keys deleted afterwards)."""
    kind: str = request.param
    if kind == "redis" and not redis_answers(REDIS_URL):
        pytest.skip("no Redis server answers at 127.0.0.1:6379")
    made = Backend(kind, tmp_path, f"test-{uuid.uuid4().hex[:12]}")
    yield made
    for store in made.stores:
        await stop_store(store)
    if kind == "redis":
        delete_namespace(made.instance)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private redis-server this test may stop and restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found; cannot run a private server to restart")
    server = PrivateRedis(binary, f"pw-{uuid.uuid4().hex}")
    yield server
    server.stop()
