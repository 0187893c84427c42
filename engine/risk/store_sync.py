"""The write side shared by the syncs between values in force and the live parameter store.

:class:`StoreSync` keeps one kind of hash (``limits``, ``params``) in step from the engine's
side: it looks up the hashes not yet seen (the store was down at start) and seeds the absent
ones, writes back a hash that vanished, writes what the engine changed, and while the store is
unreachable keeps the writes for later, retried every ``retry_interval_s`` (each writing the
values in force at that moment), with one warning when writes start waiting and one when they
catch up. A subclass says which hashes it has, what each should hold and what it logs; the
store -> engine side (what a change in the store does) is its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from engine.risk.store import Fields, ParamStore, StoreUnavailable

SEED_ACTOR = "engine (seed)"
"""Who wrote a hash the store did not have at start."""
RESTORE_ACTOR = "engine (restore)"
"""Who wrote back a hash that vanished from the store."""


class StoreSync:
    """Writes one kind of hash from the values in force to the store, now or once it answers.

    Args:
        store: the live parameter store.
        kind: the kind of hash (:data:`engine.risk.store.LIMITS`, ``PARAMS``).
        log: the subclass's logger.
        retry_interval_s: how often unwritten hashes are retried while the store is down.
    """

    waiting_message = "store writes wait until it answers again: %s"
    caught_up_message = "store writes caught up"
    vanished_message = "%s vanished from the store; writing it back"
    """Logged with the hash's name."""
    failed_message = "writing to the store failed; retrying"
    task_name = "store-sync"

    def __init__(
        self, store: ParamStore, kind: str, log: logging.Logger, *, retry_interval_s: float
    ) -> None:
        self._store = store
        self._kind = kind
        self._log = log
        self.retry_interval_s = retry_interval_s
        self._unchecked: set[str] = set()
        """Hashes not yet looked up (the store was down at start)."""
        self._unwritten: dict[str, str] = {}
        """Hash -> actor: the values in force must be written there."""
        self._rejected: dict[str, str] = {}
        self._running = False
        self._stopping = False
        self._write_warned = False
        self._writes = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # ---- what a subclass says ----------------------------------------------------------------

    def _hash_names(self) -> list[str]:
        """Every hash of this kind, in the order they are checked for vanishing."""
        raise NotImplementedError

    def _fields_to_write(self, name: str) -> Fields | None:
        """What ``name`` should hold now; None when the store already holds it."""
        raise NotImplementedError

    def _has_unwritten(self) -> bool:
        return bool(self._unwritten)

    def _restore_missing(self) -> None:
        for name in self._hash_names():
            if self._store.is_missing(self._kind, name) and name not in self._unwritten:
                self._log.warning(self.vanished_message, name)
                self._unwritten[name] = RESTORE_ACTOR

    async def _write_more(self) -> list[str]:
        """Writes beyond the hashes of this kind (the breaker); their names."""
        return []

    # ---- lifecycle ---------------------------------------------------------------------------

    def _follow(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def stop(self, *, flush_timeout_s: float = 2.0) -> None:
        """Make a last attempt to write what is unwritten, then stop following the store."""
        self._stopping = True
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()  # again if a client library lost the first cancellation
            await asyncio.wait([task], timeout=0.5)
        if task is not None and not task.cancelled() and task.exception() is not None:
            self._log.error("the %s task had failed: %s", self.task_name, task.exception())
        if self._has_unwritten():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.write_pending(), flush_timeout_s)
        self._running = False

    # ---- engine -> store ---------------------------------------------------------------------

    async def write_pending(self) -> list[str]:
        """Write what the store lacks or should change now, in order; keep the rest for later.

        Returns:
            The names of the hashes written.
        """
        async with self._lock:
            if not self._store.healthy:
                return []
            written: list[str] = []
            try:
                await self._look_up_unchecked()
                self._restore_missing()
                for name in list(self._unwritten):
                    actor = self._unwritten.pop(name)
                    fields = self._fields_to_write(name)
                    if fields is None:
                        continue
                    try:
                        await self._store.put(self._kind, name, fields, actor=actor)
                    except StoreUnavailable:
                        self._unwritten.setdefault(name, actor)
                        raise
                    written.append(name)
                    self._writes += 1
                for name in await self._write_more():
                    written.append(name)
                    self._writes += 1
            except StoreUnavailable as exc:
                if not self._write_warned:
                    self._log.warning(self.waiting_message, exc)
                self._write_warned = True
                return written
            if self._write_warned:
                self._log.warning(self.caught_up_message)
            self._write_warned = False
            return written

    async def _look_up_unchecked(self) -> None:
        for name in sorted(self._unchecked):
            present = await self._store.get(self._kind, name)  # a value reaches the watcher
            if not self._store.healthy:
                return
            self._unchecked.discard(name)
            if present is None:
                self._unwritten.setdefault(name, SEED_ACTOR)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.retry_interval_s)
            self._wake.clear()
            try:
                await self.write_pending()
            except Exception:
                self._log.exception(self.failed_message)
