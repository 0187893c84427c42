"""Client order ids ``<instance>-<counter>``: monotonic, and unique across restarts.

The counter's high-water mark lives in a small JSON file. Ids are reserved in blocks: before the
first id of a block is handed out, the end of the block is written to the file atomically (write
to a temporary file, fsync, rename, fsync the directory). A restart, clean or not, starts after
the last reserved block, so an id is never issued twice; a crash only skips the rest of a block.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import msgspec

from engine.errors import EngineError

_INSTANCE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class OrderIdStateError(EngineError):
    """The client order id file is unreadable, corrupt or belongs to another instance."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class _State(msgspec.Struct, forbid_unknown_fields=True):
    instance: str
    reserved: int
    """Highest counter value that may already have been issued."""


class ClientOrderIds:
    """Issues ``<instance>-<counter>`` ids, counter strictly increasing across restarts.

    Args:
        instance: the engine instance name (``[A-Za-z0-9_-]{1,32}``, as in the config).
        state_path: the file holding the reserved high-water mark; created when missing.
        block: how many ids to reserve per write.

    Raises:
        ValueError: the instance name or block size is invalid.
        OrderIdStateError: the state file is corrupt, for another instance, or cannot be written.
    """

    __slots__ = ("_next", "_reserved", "block", "instance", "state_path")

    def __init__(self, instance: str, state_path: str | Path, block: int = 1000) -> None:
        if not _INSTANCE.fullmatch(instance):
            raise ValueError(f"instance name {instance!r} must match [A-Za-z0-9_-]{{1,32}}")
        if block < 1:
            raise ValueError(f"id block {block} must be >= 1")
        self.instance = instance
        self.state_path = Path(state_path)
        self.block = block
        self._reserved = self._load()
        self._next = self._reserved + 1

    @property
    def last_counter(self) -> int:
        """The counter of the last id issued by this object, or the restart floor before any."""
        return self._next - 1

    def next_id(self) -> str:
        """The next client order id, reserving a new block on disk first when needed."""
        counter = self._next
        if counter > self._reserved:
            self._save(counter + self.block - 1)
        self._next = counter + 1
        return f"{self.instance}-{counter}"

    def counter_of(self, client_order_id: str) -> int | None:
        """The counter in one of this instance's ids, or None for any other id."""
        prefix, sep, counter = client_order_id.rpartition("-")
        if not sep or prefix != self.instance or not counter.isdigit():
            return None
        return int(counter)

    def _load(self) -> int:
        path = self.state_path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise OrderIdStateError(path, f"cannot read client order id state: {exc}") from exc
        try:
            state = msgspec.json.decode(raw, type=_State)
        except msgspec.DecodeError as exc:
            raise OrderIdStateError(path, f"corrupt client order id state: {exc}") from None
        if state.instance != self.instance:
            raise OrderIdStateError(
                path, f"holds ids of instance {state.instance!r}, not {self.instance!r}"
            )
        if state.reserved < 0:
            raise OrderIdStateError(path, f"corrupt client order id state: {state.reserved} < 0")
        return state.reserved

    def _save(self, reserved: int) -> None:
        path = self.state_path
        tmp = path.with_name(f".{path.name}.tmp")
        data = msgspec.json.encode(_State(self.instance, reserved)) + b"\n"
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)  # a leftover temp file keeps its mode through O_CREAT
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise OrderIdStateError(path, f"cannot reserve client order ids: {exc}") from exc
        self._reserved = reserved
