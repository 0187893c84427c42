"""Strategy parameters kept in step with the store: the local file and the real Redis.

The Redis cases run in a fresh key namespace on 127.0.0.1:6379 and skip when nothing answers
there. The engine's side is real: a runner with the reference market maker on the paper desk.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from engine.control.strategies import RunnerControl
from engine.risk.redis_store import RedisStore
from engine.risk.store import PARAMS
from engine.strategy.live_params import ParamsSync, params_fields
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.venues.backoff import Backoff
from tests.engine.risk.redis_harness import Backend, PrivateRedis, stop_store, wait_until
from tests.engine.strategy.conftest import StrategyDesk


class Seen(MarketMaker):
    """The market maker, counting on_params calls."""

    def __init__(self, name: str, params: MarketMakerParams) -> None:
        super().__init__(name, params)
        self.changes: list[tuple[int, int]] = []

    def on_params(self, old: MarketMakerParams, new: MarketMakerParams) -> None:
        """Record half spreads old -> new."""
        self.changes.append((old.half_spread_ticks, new.half_spread_ticks))
        super().on_params(old, new)


@pytest.fixture
async def mm(desk: StrategyDesk) -> Seen:
    """A market maker on the desk, configured with a half spread of 10."""
    s = Seen("mm", MarketMakerParams(half_spread_ticks=10, size_lots=2))
    desk.runner.add(s)
    return s


class Later:
    """Starts the sync when the test says, over a store started then (as the engine does)."""

    def __init__(self, backend: Backend, desk: StrategyDesk) -> None:
        self.backend = backend
        self.desk = desk
        self.made: ParamsSync | None = None

    async def start(self) -> ParamsSync:
        """A started store of the backend, and the sync over it, started."""
        self.made = ParamsSync(await self.backend.store(), self.desk.runner, retry_interval_s=0.05)
        await self.made.start()
        return self.made


@pytest.fixture
async def later(backend: Backend, desk: StrategyDesk, mm: Seen) -> AsyncIterator[Later]:
    """Starts the sync on demand; stops it afterwards."""
    made = Later(backend, desk)
    yield made
    if made.made is not None:
        await made.made.stop()


async def test_absent_hash_is_seeded_from_the_parameters_in_force(
    backend: Backend, later: Later, mm: Seen
) -> None:
    """At start the store gets the configured parameters as text fields."""
    await later.start()
    stored = await backend.hgetall("mm", PARAMS)
    assert stored == params_fields(mm.params)
    assert stored["half_spread_ticks"] == "10"
    assert stored["post_only"] == "true"
    assert mm.changes == []


async def test_the_stores_hash_wins_over_the_config_at_start(
    backend: Backend, later: Later, mm: Seen
) -> None:
    """A hash already there (one field is enough) is put in force through on_params."""
    await backend.hset("mm", {"half_spread_ticks": "25"}, PARAMS)
    await later.start()
    await wait_until(lambda: mm.params.half_spread_ticks == 25)
    assert mm.changes == [(10, 25)]
    assert mm.params.size_lots == 2


async def test_an_operator_change_is_checked_logged_and_applied(
    backend: Backend, later: Later, mm: Seen, caplog: pytest.LogCaptureFixture
) -> None:
    """HSET half_spread_ticks 40: in force, logged old -> new; an equal hash changes nothing."""
    await later.start()
    caplog.set_level(logging.INFO)
    await backend.hset("mm", {"half_spread_ticks": "40"}, PARAMS)
    await wait_until(lambda: mm.params.half_spread_ticks == 40)
    changed = [r for r in caplog.records if r.getMessage() == "strategy parameters changed"]
    assert "half_spread_ticks=10" in changed[-1].__dict__["old"]
    assert "half_spread_ticks=40" in changed[-1].__dict__["new"]
    assert mm.changes == [(10, 40)]


async def test_invalid_values_are_refused_and_the_old_ones_stay(
    backend: Backend, later: Later, mm: Seen
) -> None:
    """Out of range, not a number, unknown field: each refused with the field; nothing changes."""
    sync = await later.start()
    before = mm.params
    for bad, field in (
        ({"size_lots": "0"}, "size_lots"),
        ({"size_lots": "3", "levels": "many"}, "levels"),
        ({"spread": "5"}, "spread"),
    ):
        await backend.hset("mm", bad, PARAMS)
        await wait_until(lambda f=field: f"parameter {f}=" in sync.rejected("mm"))
        assert "allowed:" in sync.rejected("mm")
        assert mm.params == before
        await backend.delete("mm", PARAMS)
        await wait_until(lambda: bool(sync.status()["writes"]) and not sync.status()["unwritten"])
        await backend.hset("mm", params_fields(before), PARAMS)
        await wait_until(lambda: sync.rejected("mm") == "")
    assert mm.changes == []


async def test_a_change_over_http_is_written_to_the_store(
    backend: Backend, later: Later, desk: StrategyDesk, mm: Seen
) -> None:
    """PUT /strategies/mm/params through the control: in force, then in the store."""
    sync = await later.start()
    control = RunnerControl(desk.runner, sync=sync)
    control.set_strategy_params("mm", {"half_spread_ticks": 33}, "http 127.0.0.1")
    await wait_until(lambda: sync.status()["unwritten"] == [])
    assert (await backend.hgetall("mm", PARAMS))["half_spread_ticks"] == "33"
    doc = control.strategies_doc()[0]
    assert doc["params"]["half_spread_ticks"] == 33
    assert doc["params_refused"] == ""
    assert doc["ranges"]["levels"] == "1 <= int <= 20"
    assert doc["ranges"]["fair"] == "'microprice' | 'mid'"
    assert doc["status"] == {}


async def test_a_vanished_hash_is_written_back(backend: Backend, later: Later, mm: Seen) -> None:
    """DEL of the hash: the parameters in force stay and are written back."""
    sync = await later.start()
    await backend.delete("mm", PARAMS)
    await wait_until(lambda: sync.status()["writes"] == 2, bound_s=8)
    assert await backend.hgetall("mm", PARAMS) == params_fields(mm.params)


@pytest.mark.redis
async def test_redis_unreachable_keeps_the_parameters_and_waits_to_write(
    desk: StrategyDesk, mm: Seen
) -> None:
    """No Redis answers: the configured parameters stay in force and the seed waits."""
    store = RedisStore(
        "redis://127.0.0.1:1/0",
        "down",
        poll_interval_s=0.1,
        backoff=Backoff(base_s=0.05, cap_s=0.1),
    )
    await store.start(connect_timeout_s=0.1)
    sync = ParamsSync(store, desk.runner, retry_interval_s=0.05)
    try:
        await sync.start()
        assert sync.status()["healthy"] is False
        assert sync.status()["unwritten"] == ["mm"]
        desk.runner.set_params("mm", {"half_spread_ticks": 12})
        sync.publish("mm", "test")
        assert mm.params.half_spread_ticks == 12
        assert sync.status()["unwritten"] == ["mm"]
    finally:
        await sync.stop(flush_timeout_s=0.1)
        await stop_store(store)


@pytest.mark.redis
async def test_redis_lost_mid_run_keeps_the_parameters_and_catches_up(
    private_redis: PrivateRedis, desk: StrategyDesk, mm: Seen
) -> None:
    """Redis stops: the parameters stay, a change waits; Redis back empty: it is written again."""
    private_redis.start()
    await private_redis.ready()
    store = private_redis.store("restart")
    await store.start()
    sync = ParamsSync(store, desk.runner, retry_interval_s=0.1)

    async def hash_now() -> dict[str, str]:
        client = aioredis.Redis.from_url(
            private_redis.url, password=private_redis.password, decode_responses=True
        )
        try:
            return await client.hgetall("hft:restart:params:mm")
        finally:
            await client.aclose()

    try:
        await sync.start()
        assert await hash_now() == params_fields(mm.params)
        private_redis.stop()
        await wait_until(lambda: not store.healthy)
        RunnerControl(desk.runner, sync=sync).set_strategy_params(
            "mm", {"half_spread_ticks": 44}, "operator"
        )
        assert mm.params.half_spread_ticks == 44
        await wait_until(lambda: sync.status()["unwritten"] == ["mm"])

        private_redis.start()  # no persistence: it comes back empty
        await private_redis.ready()
        await wait_until(lambda: store.healthy and not sync.status()["unwritten"], bound_s=10)
        await sync.write_pending()
        assert (await hash_now())["half_spread_ticks"] == "44"
        client = aioredis.Redis.from_url(
            private_redis.url, password=private_redis.password, decode_responses=True
        )
        try:
            await client.hset("hft:restart:params:mm", "half_spread_ticks", "45")
        finally:
            await client.aclose()
        await wait_until(lambda: mm.params.half_spread_ticks == 45)
        assert mm.changes == [(10, 44), (44, 45)]
    finally:
        await sync.stop()
        await stop_store(store)
