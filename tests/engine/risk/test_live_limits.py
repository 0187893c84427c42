"""Risk limits and breaker state kept in step with the store: local file and real Redis.

Each Redis test runs in its own key namespace on 127.0.0.1:6379 and skips when nothing answers
there; the restart test runs a private redis-server on a free port. The engine's side is real: a
RiskPipeline holds the limits, a CircuitBreaker the halt, wired the way the engine wires them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest
import redis
import redis.asyncio as aioredis

from engine.core.clock import SimClock
from engine.core.instruments import Instrument
from engine.oms.positions import Portfolio
from engine.risk.circuit_breaker import CircuitBreaker
from engine.risk.file_store import FileStore
from engine.risk.limits import Limits, RiskLimits
from engine.risk.limits_layout import ACCOUNT, account_fields, limits_fields
from engine.risk.live_limits import LimitsSync
from engine.risk.pipeline import RiskPipeline
from engine.risk.redis_store import RedisStore
from engine.risk.store import BREAKER, LIMITS, Fields, ParamStore
from engine.venues.backoff import Backoff
from tests.engine.risk.test_store import PrivateRedis, wait_until

REDIS_URL = "redis://127.0.0.1:6379/0"
BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.1", lot_size="0.01", min_notional="10")
ETH = Instrument(venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1)
INSTRUMENTS = [BTC, ETH]
NAMES = ["sim.BTCUSDT", "sim.ETHUSDT", ACCOUNT]


class Desk:
    """The engine's side of the wiring: limits in a real pipeline, a real persisted breaker."""

    def __init__(self, state_dir: Path, limits: RiskLimits | None = None) -> None:
        self.clock = SimClock()
        self.risk = RiskPipeline(
            INSTRUMENTS, limits or RiskLimits(), self.clock, Portfolio(INSTRUMENTS, self.clock)
        )
        self.breaker = CircuitBreaker(state_dir, self.clock)
        self.breaker.open(os.getpid())
        self.actors: list[str] = []
        self.sync: LimitsSync | None = None

    def attach(self, store: ParamStore, **kwargs: float) -> LimitsSync:
        """Build the sync on ``store`` the way the engine does."""
        self.sync = LimitsSync(
            store,
            INSTRUMENTS,
            limits=lambda: self.risk.limits,
            set_limits=self.set_risk_limits,
            on_trip=self.trip,
            **kwargs,
        )
        return self.sync

    def in_force(self, instrument: Instrument) -> Limits:
        """The limits in force for ``instrument``."""
        return self.risk.limits.for_instrument(instrument.key)

    def set_risk_limits(self, limits: RiskLimits, actor: str) -> None:
        """As Engine.set_risk_limits: validate, put in force, publish."""
        self.risk.set_limits(limits)
        self.actors.append(actor)
        if self.sync is not None:
            self.sync.publish(limits, actor)

    def trip(self, reason: str) -> None:
        """As Engine.trip: halt and publish the first trip."""
        if self.breaker.trip(reason) and self.sync is not None:
            self.sync.publish_breaker(True, reason, self.breaker.since_ns, "engine")

    def reset(self, actor: str) -> None:
        """As Engine.reset: re-enable and publish it."""
        if self.breaker.reset(actor) and self.sync is not None:
            self.sync.publish_breaker(False, "", 0, actor)


class Backend:
    """One store backend: fresh stores on one namespace, and raw edits as an operator makes them."""

    def __init__(self, kind: str, tmp_path: Path, instance: str) -> None:
        self.kind = kind
        self.instance = instance
        self.path = tmp_path / "params.json"
        self.stores: list[ParamStore] = []

    async def store(self) -> ParamStore:
        """A started store of the namespace (another engine gets another one)."""
        store: ParamStore
        if self.kind == "file":
            store = FileStore(self.path, self.instance)
        else:
            store = RedisStore(REDIS_URL, self.instance)
        await store.start()
        self.stores.append(store)
        return store

    def _key(self, section: str, name: str) -> str:
        if self.kind == "file":
            return BREAKER if section == BREAKER else f"{section}:{name}"
        if section == BREAKER:
            return f"hft:{self.instance}:{BREAKER}"
        return f"hft:{self.instance}:{section}:{name}"

    def _read_file(self) -> dict[str, Fields]:
        if not self.path.exists():
            return {}
        hashes: dict[str, Fields] = json.loads(self.path.read_text(encoding="utf-8"))["hashes"]
        return hashes

    async def hset(self, name: str, mapping: Fields, section: str = LIMITS) -> None:
        """Set some fields of one hash, as HSET does (or a hand edit of the file)."""
        key = self._key(section, name)
        if self.kind == "file":
            hashes = self._read_file()
            hashes.setdefault(key, {}).update(mapping)
            tmp = self.path.with_suffix(".edit")
            tmp.write_text(json.dumps({"hashes": hashes}), encoding="utf-8")
            os.replace(tmp, self.path)
            return
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            await client.hset(key, mapping=mapping)  # type: ignore[arg-type]
        finally:
            await client.aclose()

    async def delete(self, name: str, section: str = LIMITS) -> None:
        """Delete one hash, as DEL does (or a hand edit of the file)."""
        key = self._key(section, name)
        if self.kind == "file":
            hashes = self._read_file()
            hashes.pop(key, None)
            tmp = self.path.with_suffix(".edit")
            tmp.write_text(json.dumps({"hashes": hashes}), encoding="utf-8")
            os.replace(tmp, self.path)
            return
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            await client.delete(key)
        finally:
            await client.aclose()

    async def hgetall(self, name: str, section: str = LIMITS) -> Fields:
        """One hash as the backend holds it now."""
        key = self._key(section, name)
        if self.kind == "file":
            return self._read_file().get(key, {})
        client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            got = await client.hgetall(key)
            return {str(k): str(v) for k, v in got.items()}
        finally:
            await client.aclose()


async def stop_store(store: ParamStore) -> None:
    """Stop ``store``, cancelling a Redis store's listener again if the first cancel was lost.

    redis-py on Python 3.11 can lose a cancellation that lands while the listener's client opens
    a new pooled connection; RedisStore.stop then waits on a listener that keeps polling.
    """
    stopping = asyncio.ensure_future(store.stop())
    while not (await asyncio.wait([stopping], timeout=0.5))[0]:
        for task in asyncio.all_tasks():
            coro = task.get_coro()
            frame = getattr(coro, "cr_frame", None)
            if (
                frame is not None
                and frame.f_code.co_qualname == "RedisStore._listen"
                and frame.f_locals.get("self") is store
            ):
                task.cancel()
    await stopping


def _redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture(params=["file", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """The local file, then the shared Redis in a fresh namespace (its keys deleted afterwards)."""
    kind: str = request.param
    if kind == "redis" and not _redis_answers(REDIS_URL):
        pytest.skip("no Redis server answers at 127.0.0.1:6379")
    instance = f"test-{uuid.uuid4().hex[:12]}"
    made = Backend(kind, tmp_path, instance)
    yield made
    for store in made.stores:
        await stop_store(store)
    if kind == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"hft:{instance}:*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
async def desk(backend: Backend, tmp_path: Path) -> AsyncIterator[Desk]:
    """An engine's limits and breaker, not yet following the store."""
    made = Desk(tmp_path / "engine-a")
    yield made
    if made.sync is not None:
        await made.sync.stop()
    made.breaker.close()


async def _started(desk: Desk, backend: Backend) -> LimitsSync:
    sync = desk.attach(await backend.store())
    await sync.start()
    return sync


def _changed(caplog: pytest.LogCaptureFixture, since: int) -> set[str]:
    """The hashes the store logged as changed, from record ``since`` on."""
    return {
        r.__dict__["hash"]
        for r in caplog.records[since:]
        if r.name == "engine.risk.store" and "changed by" in r.getMessage()
    }


# --- building -----------------------------------------------------------------------------------


def test_instrument_that_cannot_name_a_hash_is_refused(tmp_path: Path) -> None:
    """A symbol with characters a store name cannot hold is refused when the sync is built."""
    odd = Instrument(venue="sim", symbol="BTC*USDT", tick_size="0.1", lot_size="0.01")
    desk = Desk(tmp_path)
    with pytest.raises(ValueError, match=r"BTC\*USDT"):
        LimitsSync(
            FileStore(tmp_path / "params.json", "t"),
            [odd],
            limits=lambda: desk.risk.limits,
            set_limits=desk.set_risk_limits,
            on_trip=desk.trip,
        )
    desk.breaker.close()


# --- start ------------------------------------------------------------------------------------


async def test_absent_hashes_are_seeded_from_the_limits_in_force(
    backend: Backend, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A store without the hashes gets every instrument's limits and the account's, as seed."""
    caplog.set_level(logging.INFO)
    sync = await _started(desk, backend)
    assert await backend.hgetall("sim.BTCUSDT") == limits_fields(Limits())
    assert await backend.hgetall("sim.ETHUSDT") == limits_fields(Limits())
    assert await backend.hgetall(ACCOUNT) == account_fields(RiskLimits())
    assert sync.status()["writes"] == len(NAMES)
    assert desk.actors == []
    assert _changed(caplog, 0) == set(NAMES)  # each logged old -> new


async def test_hash_in_the_store_wins_over_the_configured_limits(
    backend: Backend, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A hash the store already holds is put in force over the config and is not reseeded."""
    caplog.set_level(logging.INFO)
    stored = limits_fields(msgspec.structs.replace(Limits(), max_position="2"))
    await backend.hset("sim.BTCUSDT", stored)
    await backend.hset(ACCOUNT, {"daily_loss_limit": "300"})
    sync = await _started(desk, backend)
    assert desk.in_force(BTC).max_position == "2"
    assert desk.in_force(ETH) == Limits()
    assert desk.risk.limits.daily_loss_limit == "300"
    assert await backend.hgetall("sim.BTCUSDT") == stored
    assert sync.status()["writes"] == 1  # the one absent hash, seeded
    assert "limits/sim.BTCUSDT from the store put in force over the configured limits" in (
        caplog.text
    )


async def test_trip_in_the_store_at_start_halts(backend: Backend, desk: Desk) -> None:
    """A breaker the store shows tripped halts an engine that starts on it."""
    await backend.hset("", {"tripped": "true", "reason": "daily loss", "actor": "b"}, BREAKER)
    await _started(desk, backend)
    assert desk.breaker.tripped
    assert desk.breaker.reason == "daily loss (tripped in the store by b)"


# --- store -> engine --------------------------------------------------------------------------


async def test_operator_hset_is_put_in_force_and_not_written_back(
    backend: Backend, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """One field set by another client takes effect; the rest of the instrument's limits stay."""
    caplog.set_level(logging.INFO)
    sync = await _started(desk, backend)
    await backend.hset("sim.ETHUSDT", {"max_position": "3"})
    await wait_until(lambda: desk.in_force(ETH).max_position == "3")
    assert desk.in_force(ETH) == msgspec.structs.replace(Limits(), max_position="3")
    assert desk.in_force(BTC) == Limits()
    assert desk.actors == ["store limits/sim.ETHUSDT"]
    assert await sync.write_pending() == []
    assert sync.status()["unwritten"] == []


async def test_account_hash_changes_the_loss_limits(backend: Backend, desk: Desk) -> None:
    """The account hash carries the daily loss limit and drawdown into force."""
    await _started(desk, backend)
    await backend.hset(ACCOUNT, {"daily_loss_limit": "750.5", "drawdown_window_s": "600"})
    await wait_until(lambda: desk.risk.limits.drawdown_window_s == 600)
    assert desk.risk.limits.daily_loss_limit == "750.5"


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("max_position", "-1", "must be positive"),
        ("max_order_size", "lots", "not a decimal number"),
        ("max_open_orders", "5.5", "not a whole number"),
        ("max_leverage", "3", "unknown field"),
    ],
)
async def test_invalid_value_is_dropped_and_the_old_limits_stay(
    backend: Backend,
    desk: Desk,
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: str,
    problem: str,
) -> None:
    """A bad number, negative size or unknown field is logged by hash, field and value; ignored."""
    sync = await _started(desk, backend)
    await backend.hset("sim.BTCUSDT", {field: value, "price_band_bps": "400"})
    await wait_until(lambda: "sim.BTCUSDT" in sync.status()["rejected"])  # type: ignore[operator]
    assert desk.in_force(BTC) == Limits()
    assert desk.actors == []
    warning = next(r.getMessage() for r in caplog.records if "rejected" in r.getMessage())
    assert "limits/sim.BTCUSDT" in warning
    assert f"{field} = {value!r}" in warning
    assert problem in warning
    if field not in limits_fields(Limits()):
        return  # an unknown field stays in the hash until someone deletes it
    await backend.hset("sim.BTCUSDT", {field: "2" if field == "max_position" else "1"})
    await wait_until(lambda: desk.in_force(BTC).price_band_bps == 400)
    assert sync.status()["rejected"] == {}


async def test_limits_that_fail_together_are_refused(backend: Backend, desk: Desk) -> None:
    """A market-order size above the order size is refused as a whole; nothing changes."""
    sync = await _started(desk, backend)
    await backend.hset("sim.ETHUSDT", {"max_market_order_size": "2"})
    await wait_until(lambda: "sim.ETHUSDT" in sync.status()["rejected"])  # type: ignore[operator]
    assert "max_market_order_size" in str(sync.status()["rejected"])
    assert desk.in_force(ETH) == Limits()


# --- engine -> store --------------------------------------------------------------------------


async def test_publish_writes_only_the_hashes_that_changed(
    backend: Backend, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A change made in the engine is written to its instrument's hash, and to no other."""
    caplog.set_level(logging.INFO)
    sync = await _started(desk, backend)
    writes = sync.status()["writes"]
    assert writes == len(NAMES)  # the seeds
    mark = len(caplog.records)
    eth = msgspec.structs.replace(Limits(), max_position="1.5")
    desk.set_risk_limits(RiskLimits(per_instrument={ETH.key: eth}), "http 127.0.0.1")
    await wait_until(lambda: sync.status()["unwritten"] == [])
    await sync.write_pending()
    assert sync.status()["writes"] == len(NAMES) + 1
    assert await backend.hgetall("sim.ETHUSDT") == limits_fields(eth)
    assert _changed(caplog, mark) == {"sim.ETHUSDT"}
    mark = len(caplog.records)
    desk.set_risk_limits(
        RiskLimits(per_instrument={ETH.key: eth}, daily_loss_limit="900"), "operator"
    )
    await wait_until(lambda: sync.status()["unwritten"] == [])
    await sync.write_pending()
    assert sync.status()["writes"] == len(NAMES) + 2
    assert _changed(caplog, mark) == {ACCOUNT}
    assert (await backend.hgetall(ACCOUNT))["daily_loss_limit"] == "900"


async def test_change_in_one_engine_reaches_another(
    backend: Backend, desk: Desk, tmp_path: Path
) -> None:
    """Limits changed on one engine are put in force on a second engine of the same instance."""
    await _started(desk, backend)
    other = Desk(tmp_path / "engine-b")
    other_sync = other.attach(await backend.store())
    await other_sync.start()
    try:
        btc = msgspec.structs.replace(Limits(), max_open_orders=7)
        desk.set_risk_limits(RiskLimits(per_instrument={BTC.key: btc}), "operator")
        await wait_until(lambda: other.in_force(BTC).max_open_orders == 7)
        assert other.actors == ["store limits/sim.BTCUSDT"]
        assert await other_sync.write_pending() == []
    finally:
        await other_sync.stop()
        other.breaker.close()


async def test_vanished_hashes_are_written_back(backend: Backend, desk: Desk) -> None:
    """A deleted limits or breaker hash keeps its values in force and is written back."""
    await _started(desk, backend)
    desk.trip("daily loss")
    await wait_until(lambda: desk.sync is not None and not desk.sync.status()["breaker_unwritten"])
    await backend.delete("sim.BTCUSDT")
    await backend.delete("", BREAKER)
    await wait_until(lambda: desk.sync is not None and desk.sync.status()["writes"] == 6)
    assert await backend.hgetall("sim.BTCUSDT") == limits_fields(Limits())
    assert (await backend.hgetall("", BREAKER))["reason"] == "daily loss"
    assert desk.in_force(BTC) == Limits()


# --- breaker ----------------------------------------------------------------------------------


async def test_trip_propagates_and_reset_does_not(
    backend: Backend, desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A trip in the store halts this engine; a reset in the store leaves it halted."""
    await _started(desk, backend)
    assert not desk.breaker.tripped
    await backend.hset(
        "", {"tripped": "true", "reason": "drawdown", "since_ns": "1", "actor": "b"}, BREAKER
    )
    await wait_until(lambda: desk.breaker.tripped)
    assert desk.breaker.reason == "drawdown (tripped in the store by b)"
    assert (await backend.hgetall("", BREAKER))["reason"] == "drawdown"  # first trip kept
    await backend.hset("", {"tripped": "false", "reason": "", "actor": "b reset"}, BREAKER)
    await wait_until(lambda: "breaker reset in the store by b reset" in caplog.text)
    assert desk.breaker.tripped
    desk.reset("operator (token)")
    assert not desk.breaker.tripped


async def test_trip_here_is_written_and_halts_another_engine(
    backend: Backend, desk: Desk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A trip on this engine reaches the store and another engine; a reset here is written."""
    sync = await _started(desk, backend)
    other = Desk(tmp_path / "engine-b")
    other_sync = other.attach(await backend.store())
    await other_sync.start()
    try:
        desk.trip("daily loss")
        await wait_until(lambda: other.breaker.tripped)
        assert other.breaker.reason == "daily loss (tripped in the store by engine)"
        await other_sync.write_pending()
        stored = await backend.hgetall("", BREAKER)
        assert (stored["tripped"], stored["reason"]) == ("true", "daily loss")
        desk.reset("operator (token)")
        await wait_until(lambda: sync.status()["breaker_unwritten"] is False)
        await sync.write_pending()
        assert (await backend.hgetall("", BREAKER))["tripped"] == "false"
        await wait_until(lambda: "breaker reset in the store by operator (token)" in caplog.text)
        assert other.breaker.tripped
    finally:
        await other_sync.stop()
        other.breaker.close()


async def test_unreadable_breaker_state_halts(backend: Backend, desk: Desk) -> None:
    """A breaker hash whose state cannot be read halts: never trade on a state unread."""
    await _started(desk, backend)
    await backend.hset("", {"tripped": "maybe"}, BREAKER)
    await wait_until(lambda: desk.breaker.tripped)
    assert "unreadable" in desk.breaker.reason


# --- a Redis stopped and restarted --------------------------------------------------------------


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private redis-server this test may stop and restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not found; cannot run a private server to restart")
    server = PrivateRedis(binary, f"pw-{uuid.uuid4().hex}")
    yield server
    server.stop()


@pytest.mark.redis
async def test_redis_stopped_and_restarted_mid_run(
    private_redis: PrivateRedis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down keeps the limits in force and holds writes; once back, the store catches up."""
    caplog.set_level(logging.INFO)
    private_redis.start()
    await private_redis.ready()
    store = RedisStore(
        private_redis.url,
        "restart",
        private_redis.password,
        poll_interval_s=0.2,
        backoff=Backoff(base_s=0.05, cap_s=0.3),
    )
    await store.start()
    desk = Desk(tmp_path / "engine")
    sync = desk.attach(store, retry_interval_s=0.1)
    await sync.start()
    client = aioredis.Redis.from_url(
        private_redis.url, password=private_redis.password, decode_responses=True
    )
    try:
        assert sync.healthy
        private_redis.stop()
        await wait_until(lambda: not sync.healthy)
        assert sync.status()["healthy"] is False
        eth = msgspec.structs.replace(Limits(), max_position="1")
        desk.set_risk_limits(RiskLimits(per_instrument={ETH.key: eth}), "operator")
        desk.trip("daily loss")
        assert desk.in_force(ETH) == eth  # the engine's own change is in force at once
        assert sync.status()["unwritten"] == ["sim.ETHUSDT"]
        assert sync.status()["breaker_unwritten"] is True

        private_redis.start()  # no persistence: it comes back empty
        await private_redis.ready()
        await wait_until(
            lambda: (
                sync.healthy
                and not sync.status()["unwritten"]
                and not sync.status()["breaker_unwritten"]
            )
        )
        await sync.write_pending()
        assert await client.hgetall("hft:restart:limits:sim.ETHUSDT") == limits_fields(eth)
        assert await client.hgetall("hft:restart:limits:sim.BTCUSDT") == limits_fields(Limits())
        assert await client.hgetall("hft:restart:limits:account") == account_fields(RiskLimits())
        assert (await client.hgetall("hft:restart:breaker"))["tripped"] == "true"

        await client.hset("hft:restart:limits:sim.BTCUSDT", "max_position", "2")
        await wait_until(lambda: desk.in_force(BTC).max_position == "2")
        assert "unreachable" in caplog.text
        assert private_redis.password not in caplog.text
    finally:
        await client.aclose()
        await sync.stop()
        await stop_store(store)
        desk.breaker.close()


@pytest.mark.redis
async def test_redis_down_at_start_trades_on_the_config_then_catches_up(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    """An engine that starts while Redis is down keeps its configured limits; once up, it syncs."""
    store = RedisStore(
        private_redis.url,
        "late",
        private_redis.password,
        poll_interval_s=0.2,
        backoff=Backoff(base_s=0.05, cap_s=0.3),
    )
    await store.start(connect_timeout_s=0.2)
    desk = Desk(tmp_path / "engine")
    sync = desk.attach(store, retry_interval_s=0.1)
    await sync.start()
    client = aioredis.Redis.from_url(
        private_redis.url, password=private_redis.password, decode_responses=True
    )
    try:
        assert not sync.healthy
        assert sync.status()["unwritten"] == sorted(NAMES)
        assert desk.risk.limits == RiskLimits()

        private_redis.start()
        await private_redis.ready()
        await client.hset("hft:late:limits:sim.BTCUSDT", "max_position", "2")
        await wait_until(
            lambda: desk.in_force(BTC).max_position == "2" and not sync.status()["unwritten"]
        )
        await sync.write_pending()
        assert await client.hgetall("hft:late:limits:sim.ETHUSDT") == limits_fields(Limits())
        assert await client.hgetall("hft:late:limits:account") == account_fields(RiskLimits())
        assert desk.in_force(ETH) == Limits()
    finally:
        await client.aclose()
        await sync.stop()
        await stop_store(store)
        desk.breaker.close()
