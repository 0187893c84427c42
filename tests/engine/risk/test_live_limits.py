"""Risk limits and breaker state kept in step with the store: local file and real Redis.

Each Redis test runs in its own key namespace on 127.0.0.1:6379 and skips when nothing answers
there; the restart test runs a private redis-server on a free port. The engine's side is real: a
RiskPipeline holds the limits, a CircuitBreaker the halt, wired the way the engine wires them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
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
from engine.risk.store import BREAKER, ParamStore
from tests.engine.risk.redis_harness import Backend, PrivateRedis, stop_store, wait_until

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


@pytest.mark.redis
async def test_redis_stopped_and_restarted_mid_run(
    private_redis: PrivateRedis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis down keeps the limits in force and holds writes; once back, the store catches up."""
    caplog.set_level(logging.INFO)
    private_redis.start()
    await private_redis.ready()
    store = private_redis.store("restart")
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
    store = private_redis.store("late")
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
