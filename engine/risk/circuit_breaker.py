"""The circuit breaker: one persisted switch that halts trading, and the unclean-stop rule.

Tripping is immediate and idempotent (the first reason and time are kept). The state is written
to ``<state_dir>/breaker.json`` atomically before :meth:`CircuitBreaker.trip` returns, so a halt
survives a crash. The same file records whether the engine is running: an engine that finds the
previous run marked running stopped uncleanly, and starts halted. Only an explicit reset re-enables
trading.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import msgspec

from engine.core.clock import Clock
from engine.errors import EngineError

log = logging.getLogger("engine.risk.breaker")

UNCLEAN_STOP = "unclean stop"
"""The trip reason an engine starts with after a crash, SIGKILL or power cut."""


UNREADABLE_STATE = "breaker state was unreadable"
"""The trip reason an engine starts with when its breaker file was corrupt (kept aside)."""


class BreakerStateError(EngineError):
    """The breaker's state file cannot be read at all (permissions, I/O); names the file."""


class BreakerState(msgspec.Struct, frozen=True, kw_only=True):
    """What ``breaker.json`` holds."""

    tripped: bool = False
    reason: str = ""
    """Why trading is halted, e.g. ``kill switch (ui)``; empty while trading."""
    since_ns: int = 0
    """When it tripped, wall-clock ns."""
    running_pid: int = 0
    """The pid of the engine that is running, 0 after a clean stop."""


class CircuitBreaker:
    """The persisted halt switch of one engine instance.

    Args:
        state_dir: the instance's state folder (created 0700).
        clock: wall time for the trip stamp.
    """

    def __init__(self, state_dir: Path, clock: Clock) -> None:
        self._dir = state_dir
        self._path = state_dir / "breaker.json"
        self._clock = clock
        self._state = BreakerState()

    @property
    def tripped(self) -> bool:
        """True while trading is halted."""
        return self._state.tripped

    @property
    def reason(self) -> str:
        """Why trading is halted (empty while trading)."""
        return self._state.reason

    @property
    def since_ns(self) -> int:
        """When the breaker tripped, 0 while trading."""
        return self._state.since_ns

    def open(self, pid: int) -> bool:
        """Load the state at start-up and mark this engine as running.

        Returns:
            True when the previous run stopped uncleanly; the breaker is then tripped with
            :data:`UNCLEAN_STOP` (unless it already was tripped for another reason).

        Raises:
            BreakerStateError: the file exists but cannot be read as breaker state.
        """
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        previous = self._load()
        unclean = previous.running_pid != 0 and previous.running_pid != pid
        self._state = msgspec.structs.replace(previous, running_pid=pid)
        if unclean and not previous.tripped:
            self._state = msgspec.structs.replace(
                self._state, tripped=True, reason=UNCLEAN_STOP, since_ns=self._clock.time_ns()
            )
        if unclean:
            log.warning(
                "previous run stopped uncleanly; starting halted",
                extra={"previous_pid": previous.running_pid, "reason": self._state.reason},
            )
        self._save()
        return unclean

    def close(self) -> None:
        """Mark a clean stop (the halt state itself is kept for the next start)."""
        self._state = msgspec.structs.replace(self._state, running_pid=0)
        self._save()

    def trip(self, reason: str) -> bool:
        """Halt trading now and persist it.

        Returns:
            False when it was already tripped (the first reason and time are kept).
        """
        if self._state.tripped:
            return False
        self._state = msgspec.structs.replace(
            self._state, tripped=True, reason=reason, since_ns=self._clock.time_ns()
        )
        self._save()
        log.warning("circuit breaker tripped", extra={"reason": reason})
        return True

    def reset(self, actor: str) -> bool:
        """Re-enable trading; the caller has already authenticated ``actor``.

        Returns:
            False when it was not tripped.
        """
        if not self._state.tripped:
            return False
        previous = self._state.reason
        self._state = msgspec.structs.replace(self._state, tripped=False, reason="", since_ns=0)
        self._save()
        log.warning("circuit breaker reset", extra={"actor": actor, "was": previous})
        return True

    def _load(self) -> BreakerState:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return BreakerState()
        except OSError as exc:
            raise BreakerStateError(f"{self._path}: cannot read breaker state: {exc}") from None
        try:
            return msgspec.json.decode(data, type=BreakerState)
        except msgspec.DecodeError as exc:
            # Never trade on a state we cannot read: keep the file for inspection, start halted.
            aside = self._path.with_name(f"breaker.json.corrupt-{self._clock.time_ns()}")
            os.replace(self._path, aside)
            log.error(
                "corrupt breaker state; starting halted",
                extra={"file": str(self._path), "kept_as": str(aside), "error": str(exc)},
            )
            return BreakerState(
                tripped=True, reason=UNREADABLE_STATE, since_ns=self._clock.time_ns()
            )

    def _save(self) -> None:
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, msgspec.json.encode(self._state))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self._path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self._dir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
