"""RedisStore: the live parameter store in Redis hashes, shared by engines and operators."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from engine.risk.store import (
    BREAKER,
    Fields,
    StoreBase,
    StoreUnavailable,
    error_text,
    logger,
    redact_url,
)
from engine.venues.backoff import Backoff


class RedisStore(StoreBase):
    """The store in Redis hashes, shared by every engine and operator of one instance.

    Args:
        url: ``redis://host:port/db``.
        instance: the engine instance; every key starts with ``hft:{instance}:``.
        password: the Redis password, or None.
        poll_interval_s: how often known keys are read back (catches edits made without publishing).
        backoff: reconnect delays; by default 0.1 s growing to 5 s.
    """

    def __init__(
        self,
        url: str,
        instance: str,
        password: str | None = None,
        *,
        poll_interval_s: float = 1.0,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(instance)
        self._where = redact_url(url)
        self.poll_interval_s = poll_interval_s
        self.channel = f"hft:{instance}:changes"
        self._backoff = backoff or Backoff(base_s=0.1, cap_s=5.0)
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            password=password,
            decode_responses=True,
            socket_connect_timeout=1.0,
            socket_timeout=2.0,
            retry=Retry(NoBackoff(), 0),
        )
        self._healthy = False
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    @property
    def healthy(self) -> bool:
        """True while Redis answers; False means the values are the last known ones."""
        return self._healthy

    def key(self, section: str, name: str) -> str:
        """The Redis key of ``section/name``."""
        if section == BREAKER:
            return f"hft:{self.instance}:{BREAKER}"
        return f"hft:{self.instance}:{section}:{name}"

    async def start(self, *, connect_timeout_s: float = 2.0) -> None:
        """Connect, load the known keys and begin watching.

        Waits up to ``connect_timeout_s`` for the first connection; if Redis does not answer by
        then the store starts unhealthy (no values yet) and keeps reconnecting in the background.
        """
        self._stopping = False  # a store stopped before may be started again
        self._task = asyncio.create_task(self._run(), name="param-store-redis")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), connect_timeout_s)

    async def stop(self) -> None:
        """Stop watching and close the connections.

        The watcher is cancelled again every half second until it has ended: redis-py can lose
        a cancellation that lands while it opens a pooled connection, and the watcher would then
        poll on forever and hold up the engine's shutdown. The watcher's loops also end on their
        own once ``stop`` has begun, so a lost cancellation costs at most one poll interval.
        """
        self._stopping = True
        task = self._task
        if task is not None:
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=0.5)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
            self._task = None
        self._healthy = False
        await self._client.aclose()

    async def _run(self) -> None:
        """Connect, resync, follow changes; on any failure warn, back off and start again."""
        warned = False
        while not self._stopping:
            up_since = time.monotonic()
            failure: BaseException | None = None
            try:
                await self._client.ping()
                await self._resync("resync")
                self._healthy = True
                self._connected.set()
                if warned:
                    logger.warning("redis at %s is back; values resynced", self._where)
                warned = False
                up_since = time.monotonic()
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._listen())
                    group.create_task(self._poll())
            except* (RedisError, OSError) as group:
                failure = group
            self._healthy = False
            if not warned:
                warned = True
                logger.warning(
                    "redis at %s unreachable, keeping the last known values: %s",
                    self._where,
                    error_text(failure) if failure is not None else "connection ended",
                )
            await asyncio.sleep(self._backoff.next_delay(time.monotonic() - up_since))

    async def _read_many(self, keys: list[tuple[str, str]]) -> list[Fields]:
        async with self._client.pipeline(transaction=False) as pipe:
            for section, name in keys:
                pipe.hgetall(self.key(section, name))
            result: list[Fields] = await pipe.execute()
        return result

    async def _resync(self, actor: str) -> None:
        keys = sorted(self._keys_of_interest())
        if not keys:
            return
        for (section, name), fields in zip(keys, await self._read_many(keys), strict=True):
            self._apply(section, name, fields, actor)

    async def _poll(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.poll_interval_s)
            await self._resync("unknown (seen by polling)")

    async def _listen(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            while not self._stopping:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    await self._on_message(message.get("data"))
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _hgetall(self, key: str) -> Fields:
        raw = await self._client.hgetall(key)
        return {str(k): str(v) for k, v in raw.items()}

    async def _on_message(self, data: object) -> None:
        try:
            if not isinstance(data, str | bytes):
                raise TypeError("not text")
            note = json.loads(data)
            section, name, actor = str(note["section"]), str(note["name"]), str(note["actor"])
            self._check_names(section, name)
        except (ValueError, TypeError, KeyError):
            logger.warning("ignoring a malformed change notice on %s", self.channel)
            return
        self._apply(section, name, await self._hgetall(self.key(section, name)), actor)

    async def get(self, section: str, name: str) -> Fields | None:
        """The current hash from Redis, or the last known one while Redis is down."""
        self._check_names(section, name)
        if self._healthy:
            try:
                fields = await self._hgetall(self.key(section, name))
            except (RedisError, OSError):
                pass  # the supervisor notices, warns and reconnects
            else:
                self._apply(section, name, fields, "read")
        value = self._known.get((section, name))
        return None if value is None else dict(value)

    async def put(self, section: str, name: str, fields: Fields, *, actor: str) -> None:
        """Replace ``section/name`` in one transaction and announce it on the changes channel.

        Raises:
            StoreUnavailable: Redis is unreachable; nothing was changed.
        """
        self._check_names(section, name)
        new = self._check_fields(fields)
        key = self.key(section, name)
        note = json.dumps({"section": section, "name": name, "actor": actor})
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping=new)  # type: ignore[arg-type]
                pipe.publish(self.channel, note)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            why = error_text(exc)
            raise StoreUnavailable(
                f"redis at {self._where} unreachable, {section}/{name} not changed: {why}"
            ) from None
        self._apply(section, name, new, actor)

    async def put_breaker(self, state: Fields, *, actor: str = "engine") -> None:
        """Persist the circuit-breaker state at ``hft:{instance}:breaker``."""
        await self.put(BREAKER, "", state, actor=actor)

    async def get_breaker(self) -> Fields | None:
        """The circuit-breaker state, or None if none was ever stored."""
        return await self.get(BREAKER, "")
