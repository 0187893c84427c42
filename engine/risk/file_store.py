"""FileStore: the live parameter store in one local JSON file, for engines without Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from pathlib import Path

from engine.risk.store import (
    BREAKER,
    Fields,
    StoreBase,
    StoreUnavailable,
    logger,
)


class FileStore(StoreBase):
    """The store as one JSON file, for engines without Redis.

    Args:
        path: the JSON file; created (mode 0600) on the first write.
        instance: the engine instance the values belong to.
        poll_interval_s: how often the file's modification time is checked.
    """

    def __init__(self, path: str | Path, instance: str, *, poll_interval_s: float = 0.25) -> None:
        super().__init__(instance)
        self.path = Path(path)
        self.poll_interval_s = poll_interval_s
        self._stamp: tuple[int, int] | None = None
        self._healthy = True
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def healthy(self) -> bool:
        """False while the file cannot be read or parsed; the last known values stay in use."""
        return self._healthy

    @staticmethod
    def _file_key(section: str, name: str) -> str:
        return BREAKER if section == BREAKER else f"{section}:{name}"

    @staticmethod
    def _split_key(key: str) -> tuple[str, str]:
        section, _, name = key.partition(":")
        return section, name

    def _read(self) -> tuple[tuple[int, int] | None, dict[str, Fields]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None, {}
        stamp = (st.st_mtime_ns, st.st_size)
        doc = json.loads(self.path.read_text(encoding="utf-8"))
        hashes = doc.get("hashes", {}) if isinstance(doc, dict) else None
        if not isinstance(hashes, dict) or not all(
            isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
            for v in hashes.values()
        ):
            raise ValueError("expected {'hashes': {key: {field: text}}}")
        return stamp, hashes

    def _write(self, hashes: dict[str, Fields]) -> tuple[int, int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"instance": self.instance, "hashes": hashes}, indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        st = self.path.stat()
        return (st.st_mtime_ns, st.st_size)

    async def _reload(self, actor: str) -> None:
        try:
            stamp, hashes = await asyncio.to_thread(self._read)
        except (OSError, ValueError) as exc:
            if self._healthy:
                logger.warning("cannot read %s, keeping the last known values: %s", self.path, exc)
            self._healthy = False
            return
        self._healthy = True
        self._stamp = stamp
        for key in set(hashes) | {self._file_key(s, n) for s, n in self._keys_of_interest()}:
            section, name = self._split_key(key)
            self._apply(section, name, hashes.get(key), actor)

    async def start(self) -> None:
        """Load the file and begin polling it."""
        await self._reload("file")
        self._task = asyncio.create_task(self._poll(), name="param-store-file-poll")

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                st = await asyncio.to_thread(self.path.stat)
                stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
            except FileNotFoundError:
                stamp = None
            except OSError:
                stamp = (-1, -1)
            if stamp != self._stamp or not self._healthy:
                async with self._lock:
                    await self._reload("file")

    async def get(self, section: str, name: str) -> Fields | None:
        """The last known hash ``section/name`` (the file is polled, so it is current)."""
        self._check_names(section, name)
        value = self._known.get((section, name))
        return None if value is None else dict(value)

    async def put(self, section: str, name: str, fields: Fields, *, actor: str) -> None:
        """Replace ``section/name`` in the file atomically, then notify watchers.

        Raises:
            StoreUnavailable: the file exists but cannot be read or parsed; it is left untouched.
        """
        self._check_names(section, name)
        new = self._check_fields(fields)
        async with self._lock:
            try:
                _, hashes = await asyncio.to_thread(self._read)
            except (OSError, ValueError) as exc:
                raise StoreUnavailable(f"cannot read {self.path}: {exc}") from None
            hashes[self._file_key(section, name)] = new
            self._stamp = await asyncio.to_thread(self._write, hashes)
            self._apply(section, name, new, actor)

    async def put_breaker(self, state: Fields, *, actor: str = "engine") -> None:
        """Persist the circuit-breaker state."""
        await self.put(BREAKER, "", state, actor=actor)

    async def get_breaker(self) -> Fields | None:
        """The persisted circuit-breaker state, or None."""
        return await self.get(BREAKER, "")
