"""Live parameter store backends for tests: the local file, the shared Redis and a private one.

:class:`Backend` makes fresh stores on one namespace and edits the hashes the way an operator
does (``HSET``, ``DEL``, a hand edit of the file); :class:`PrivateRedis` is a redis-server the test
may stop and restart. The fixtures over them are in ``tests/engine/conftest.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import redis
import redis.asyncio as aioredis

from engine.risk.file_store import FileStore
from engine.risk.redis_store import RedisStore
from engine.risk.store import BREAKER, LIMITS, Fields, ParamStore
from engine.venues.backoff import Backoff

REDIS_URL = "redis://127.0.0.1:6379/0"
"""The shared Redis; a test on it uses a namespace of its own."""


async def wait_until(condition: Callable[[], bool], bound_s: float = 5.0) -> None:
    """Wait for ``condition``; fail if it is still false after ``bound_s`` (a hang guard)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + bound_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {bound_s} s")
        await asyncio.sleep(0.02)


def redis_answers(url: str) -> bool:
    """Does a Redis server answer PING at ``url``?"""
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def delete_namespace(instance: str) -> None:
    """Delete every key of ``instance`` on the shared Redis."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"hft:{instance}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """A throw-away redis-server on a free loopback port, with a password and no persistence."""

    def __init__(self, binary: str, password: str) -> None:
        self.binary = binary
        self.password = password
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (again) on the same port."""
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                self.password,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def store(self, instance: str) -> RedisStore:
        """An unstarted store on this server for ``instance``, quick to see it go and come back."""
        return RedisStore(
            self.url,
            instance,
            self.password,
            poll_interval_s=0.2,
            backoff=Backoff(base_s=0.05, cap_s=0.3),
        )

    async def ready(self) -> None:
        """Wait until the server answers PING."""

        def answers() -> bool:
            client = redis.Redis.from_url(self.url, password=self.password, socket_timeout=0.5)
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False
            finally:
                client.close()

        await wait_until(answers, bound_s=10.0)
