"""What a spot account held before this engine traded it: the base reconciliation measures from.

A spot venue reports balances, not positions: 10 BTC in the account may be 10 BTC the engine
bought or 10 BTC deposited long ago. The first reconciliation of an instance (no baseline yet)
records, per instrument, ``venue balance - our position`` as the account's own inventory; every
later reconciliation compares ``venue balance - baseline`` with our position. The file lives in
the instance's state folder (JSON, 0600, written atomically) so the baseline survives restarts;
after a deposit or withdrawal the difference shows as a mismatch and trips the breaker, which is
what an operator should look at. Deleting the file takes a new baseline at the next start.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import msgspec

from engine.errors import EngineError

log = logging.getLogger("engine.oms")


class BaselineError(EngineError):
    """The baseline file exists but cannot be read; reconciliation must not guess."""


class InventoryBaseline:
    """Per-instrument inventory in lots, keyed ``venue:SYMBOL``.

    Args:
        path: the JSON file.

    Raises:
        BaselineError: the file exists and is not a JSON object of integers.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lots: dict[str, int] = {}
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return
        try:
            self._lots = msgspec.json.decode(data, type=dict[str, int])
        except msgspec.DecodeError as exc:
            raise BaselineError(f"{path}: not a baseline file: {exc}") from None

    def get(self, key: str) -> int | None:
        """The recorded inventory of one instrument, or None before its first reconciliation."""
        return self._lots.get(key)

    def take(self, key: str, lots: int) -> None:
        """Record an instrument's inventory and persist it at once."""
        self._lots[key] = lots
        tmp = self.path.with_suffix(".tmp")
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, msgspec.json.encode(self._lots))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        log.warning("inventory baseline taken", extra={"instrument": key, "lots": lots})
