"""Redis fault: the parameter store's Redis stops mid-run and comes back.

Runs its own ``redis-server`` on a free loopback port (never the shared one), persisted to a
temporary folder. While Redis is down the engine keeps its last known limits and goes on
trading, and a limit changed meanwhile reaches Redis once it is back.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import msgspec
import pytest
import redis

from engine.oms.order import OrderStatus
from tests.reliability.conftest import until

pytestmark = pytest.mark.integration

REDIS = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of this test's own, stopped and started on the same port and folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Its ``redis://`` URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers."""
        assert REDIS is not None
        args = ["--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder)]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        self.proc = subprocess.Popen(
            [REDIS, *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            assert self.proc.poll() is None, "redis-server exited"
            time.sleep(0.02)
        raise AssertionError("redis-server did not answer")

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    """This test's redis-server, running; stopped at the end."""
    if REDIS is None:
        pytest.skip("redis-server is not on PATH")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = OwnRedis(folder)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def desk_env(own_redis):
    """The engine's limits live in our own Redis."""
    return {"HFT__REDIS__URL": own_redis.url}


def _with_open_orders(limits, count):
    return msgspec.structs.replace(
        limits, defaults=msgspec.structs.replace(limits.defaults, max_open_orders=count)
    )


async def test_redis_stopped_and_restarted_mid_run(desk, own_redis, fault):
    """Redis down: last limits kept, trading goes on; back: healthy, changes made meanwhile kept."""
    engine = desk.engine
    store = engine.params
    await until(lambda: store.healthy, "the store to reach redis")
    engine.set_risk_limits(_with_open_orders(engine.risk.limits, 40), "test")
    await until(lambda: _stored_open_orders(own_redis) == 40, "the limits to reach redis", 5)
    fault.inject("redis stopped and restarted mid-run")
    own_redis.stop()
    await until(lambda: not store.healthy, "the store to see redis gone", 10)
    fault.detected("param store: redis unreachable (last known values kept)")
    bid, _ = desk.touch()
    cid = desk.place(side="buy", size="0.001", price=desk.price(bid - 2000))
    await until(lambda: engine.oms.orders[cid].status == OrderStatus.ACCEPTED, "an order")
    assert engine.risk.limits.defaults.max_open_orders == 40
    # An operator changes a limit while Redis is down: in force now, written once it is back.
    engine.set_risk_limits(_with_open_orders(engine.risk.limits, 45), "test")
    own_redis.start()
    await until(lambda: store.healthy, "the store to reconnect", 15)
    await until(lambda: _stored_open_orders(own_redis) == 45, "the change to reach redis", 10)
    fault.recovered()
    assert engine.risk.limits.defaults.max_open_orders == 45
    await desk.settled()
    fault.lost(len(desk.mismatches()), 0 if _stored_open_orders(own_redis) == 45 else 1)


def _stored_open_orders(server: OwnRedis) -> int | None:
    """BTCUSDT's ``max_open_orders`` as Redis holds it (None: absent or unreachable)."""
    client = redis.Redis.from_url(server.url, decode_responses=True, socket_timeout=1)
    try:
        for key in client.scan_iter("hft:*"):
            value = client.hget(key, "max_open_orders") if client.type(key) == "hash" else None
            if value is not None:
                return int(value)
    except redis.RedisError:
        return None
    finally:
        client.close()
    return None
