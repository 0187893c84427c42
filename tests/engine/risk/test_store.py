"""The live parameter store: local file and real Redis (each Redis test in its own namespace)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from engine.core.config import load_config
from engine.risk.file_store import FileStore
from engine.risk.redis_store import RedisStore
from engine.risk.store import (
    LIMITS,
    PARAMS,
    Fields,
    StoreUnavailable,
    open_store,
    redact_url,
    validated,
)
from tests.engine.risk.redis_harness import (
    REDIS_URL,
    PrivateRedis,
    delete_namespace,
    redis_answers,
    wait_until,
)


class Seen:
    """Records every (old, new) a watch callback receives."""

    def __init__(self) -> None:
        self.calls: list[tuple[Fields | None, Fields]] = []

    def __call__(self, old: Fields | None, new: Fields) -> None:
        """Record one change."""
        self.calls.append((old, new))

    @property
    def last(self) -> Fields | None:
        """The newest value seen, or None."""
        return self.calls[-1][1] if self.calls else None


def positive_limit(fields: Fields) -> int:
    """Parse ``max_position``; reject anything below zero."""
    value = int(fields["max_position"])
    if value < 0:
        raise ValueError(f"max_position must not be negative, got {value}")
    return value


# --- local file -------------------------------------------------------------------------------


async def test_file_store_round_trip(tmp_path: Path) -> None:
    """A hash put into the file store reads back, also from a fresh store, from a 0600 file."""
    path = tmp_path / "params.json"
    store = FileStore(path, "t1")
    await store.start()
    try:
        await store.put(LIMITS, "BTCUSDT", {"max_position": "5"}, actor="test")
        await store.put_breaker({"state": "halted", "reason": "daily loss"})
        assert await store.get(LIMITS, "BTCUSDT") == {"max_position": "5"}
        assert await store.get(PARAMS, "mm") is None
    finally:
        await store.stop()
    assert path.stat().st_mode & 0o777 == 0o600
    again = FileStore(path, "t1")
    await again.start()
    try:
        assert await again.get(LIMITS, "BTCUSDT") == {"max_position": "5"}
        assert await again.get_breaker() == {"state": "halted", "reason": "daily loss"}
        assert again.healthy
    finally:
        await again.stop()


async def test_file_store_watch_sees_change_by_another_writer(tmp_path: Path) -> None:
    """A store watching the file sees a change written by another store through mtime polling."""
    path = tmp_path / "params.json"
    writer, reader = FileStore(path, "t1"), FileStore(path, "t1")
    await writer.start()
    await reader.start()
    seen = Seen()
    reader.watch(PARAMS, "mm", seen)
    try:
        await writer.put(PARAMS, "mm", {"spread_ticks": "3"}, actor="operator")
        await wait_until(lambda: seen.last == {"spread_ticks": "3"})
        await writer.put(PARAMS, "mm", {"spread_ticks": "4"}, actor="operator")
        await wait_until(lambda: seen.last == {"spread_ticks": "4"})
        assert seen.calls[-1][0] == {"spread_ticks": "3"}
    finally:
        await writer.stop()
        await reader.stop()


async def test_validator_rejects_negative_and_last_good_value_stays(tmp_path: Path) -> None:
    """A value the caller's validator rejects is dropped and the last good value stays in force."""
    store = FileStore(tmp_path / "params.json", "t1")
    await store.start()
    in_force: list[int] = []
    store.watch(LIMITS, "BTCUSDT", validated(positive_limit, in_force.append, what="limits"))
    try:
        await store.put(LIMITS, "BTCUSDT", {"max_position": "5"}, actor="test")
        await store.put(LIMITS, "BTCUSDT", {"max_position": "-1"}, actor="test")
        assert in_force == [5]
        await store.put(LIMITS, "BTCUSDT", {"max_position": "7"}, actor="test")
        assert in_force == [5, 7]
    finally:
        await store.stop()


async def test_unreadable_file_keeps_last_values(tmp_path: Path) -> None:
    """A corrupted file makes the store unhealthy, keeps the last values and refuses writes."""
    path = tmp_path / "params.json"
    store = FileStore(path, "t1")
    await store.start()
    try:
        await store.put(LIMITS, "ETHUSDT", {"max_position": "2"}, actor="test")
        path.write_text("{not json", encoding="utf-8")
        await wait_until(lambda: not store.healthy)
        assert await store.get(LIMITS, "ETHUSDT") == {"max_position": "2"}
        with pytest.raises(StoreUnavailable):
            await store.put(LIMITS, "ETHUSDT", {"max_position": "3"}, actor="test")
    finally:
        await store.stop()


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    """Without ``redis.url`` the store is a local file; with it, Redis."""
    file_store = open_store(load_config(None, {}), state_dir=tmp_path)
    assert isinstance(file_store, FileStore)
    assert file_store.path == tmp_path / "params.json"
    config = load_config(None, {"HFT__REDIS__URL": REDIS_URL})
    assert isinstance(open_store(config), RedisStore)


def test_redacted_url_has_no_password() -> None:
    """A URL with credentials is logged without them."""
    assert redact_url("redis://user:s3cret@10.0.0.1:6380/2") == "redis://10.0.0.1:6380/2"


# --- real Redis -------------------------------------------------------------------------------


@pytest.fixture
def instance() -> Iterator[str]:
    """A fresh key namespace on the shared Redis; its keys are deleted afterwards."""
    if not redis_answers(REDIS_URL):
        pytest.skip("no Redis server answers at 127.0.0.1:6379")
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    delete_namespace(name)


@pytest.fixture
async def raw_client() -> AsyncIterator[aioredis.Redis]:
    """A plain client, standing in for another tool editing the hashes."""
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest.mark.redis
async def test_redis_round_trip(instance: str) -> None:
    """A hash put into Redis reads back from a second store of the same instance."""
    writer, reader = RedisStore(REDIS_URL, instance), RedisStore(REDIS_URL, instance)
    await writer.start()
    await reader.start()
    try:
        assert writer.healthy
        await writer.put(
            LIMITS, "BTCUSDT", {"max_position": "5", "max_notional": "1000"}, actor="t"
        )
        assert await reader.get(LIMITS, "BTCUSDT") == {"max_position": "5", "max_notional": "1000"}
        await writer.put(LIMITS, "BTCUSDT", {"max_position": "6"}, actor="t")
        assert await reader.get(LIMITS, "BTCUSDT") == {"max_position": "6"}
    finally:
        await writer.stop()
        await reader.stop()


@pytest.mark.redis
async def test_redis_change_reaches_watcher_by_pubsub(
    instance: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A put by one store reaches another store's watcher through the changes channel."""
    writer = RedisStore(REDIS_URL, instance)
    watcher = RedisStore(REDIS_URL, instance, poll_interval_s=3600.0)  # polling cannot help here
    await writer.start()
    await writer.put(PARAMS, "mm", {"spread_ticks": "3"}, actor="setup")
    seen = Seen()
    watcher.watch(PARAMS, "mm", seen)
    await watcher.start()
    caplog.set_level(logging.INFO, logger="engine.risk.store")
    try:
        assert seen.last == {"spread_ticks": "3"}
        await writer.put(PARAMS, "mm", {"spread_ticks": "4"}, actor="operator")
        await wait_until(lambda: seen.last == {"spread_ticks": "4"})
        assert seen.calls[-1][0] == {"spread_ticks": "3"}
        assert "params/mm changed by operator: spread_ticks: 3 -> 4" in caplog.text
    finally:
        await writer.stop()
        await watcher.stop()


@pytest.mark.redis
async def test_plain_hset_by_another_client_is_seen_by_polling(
    instance: str, raw_client: aioredis.Redis
) -> None:
    """An HSET made without announcing it is picked up by the once-a-second read-back."""
    store = RedisStore(REDIS_URL, instance)
    await store.start()
    seen = Seen()
    store.watch(LIMITS, "ETHUSDT", seen)
    try:
        await store.put(LIMITS, "ETHUSDT", {"max_position": "2"}, actor="setup")
        await raw_client.hset(f"hft:{instance}:limits:ETHUSDT", "max_position", "9")
        await wait_until(lambda: seen.last == {"max_position": "9"})
    finally:
        await store.stop()


@pytest.mark.redis
async def test_breaker_state_round_trip(instance: str, raw_client: aioredis.Redis) -> None:
    """The breaker state is stored at hft:{instance}:breaker and reads back in another store."""
    store, other = RedisStore(REDIS_URL, instance), RedisStore(REDIS_URL, instance)
    await store.start()
    await other.start()
    try:
        assert await other.get_breaker() is None
        await store.put_breaker({"state": "tripped", "reason": "daily loss"}, actor="risk")
        assert await raw_client.hgetall(f"hft:{instance}:breaker") == {
            "state": "tripped",
            "reason": "daily loss",
        }
        assert await other.get_breaker() == {"state": "tripped", "reason": "daily loss"}
    finally:
        await store.stop()
        await other.stop()


# --- a private Redis that is stopped and restarted --------------------------------------------


@pytest.mark.redis
async def test_redis_stopped_and_restarted_mid_run(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis going away leaves the last values in force; after restart the store resyncs."""
    caplog.set_level(logging.INFO, logger="engine.risk.store")
    private_redis.start()
    await private_redis.ready()
    store = private_redis.store("restart")
    await store.start()
    seen = Seen()
    store.watch(LIMITS, "BTCUSDT", seen)
    try:
        assert store.healthy
        await store.put(LIMITS, "BTCUSDT", {"max_position": "5"}, actor="setup")

        private_redis.stop()
        await wait_until(lambda: not store.healthy)
        assert await store.get(LIMITS, "BTCUSDT") == {"max_position": "5"}
        with pytest.raises(StoreUnavailable):
            await store.put(LIMITS, "BTCUSDT", {"max_position": "6"}, actor="operator")

        private_redis.start()
        await private_redis.ready()
        client = aioredis.Redis.from_url(
            private_redis.url, password=private_redis.password, decode_responses=True
        )
        try:
            await client.hset("hft:restart:limits:BTCUSDT", "max_position", "8")
        finally:
            await client.aclose()
        await wait_until(lambda: store.healthy and seen.last == {"max_position": "8"})
        assert seen.calls[-1][0] == {"max_position": "5"}
        assert "unreachable" in caplog.text
        assert private_redis.password not in caplog.text
    finally:
        await store.stop()
