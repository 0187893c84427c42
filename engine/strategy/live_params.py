"""Strategy parameters kept in step with the live parameter store (Redis, or a local file).

Each strategy has one hash, ``params/<strategy>`` (Redis key ``hft:{instance}:params:{strategy}``),
one text field per parameter (``half_spread_ticks = "10"``, ``post_only = "false"``,
``fair = "microprice"``). :class:`ParamsSync` sits between the runner's parameters in force and
that hash, both ways, the way :mod:`engine.risk.live_limits` does for the risk limits:

- At start a hash that is absent is seeded from the parameters in force (actor
  ``engine (seed)``); one that is present is applied over the configured parameters, so the
  store wins.
- A change in the store (an operator's ``HSET``, another engine, the TUI through the control
  plane) is laid over the parameters in force and checked against the strategy's ``Params``
  before ``on_params``; the runner logs every change old -> new. A value that is refused (wrong
  type, out of range, unknown field) is logged with the field, value and allowed range and
  dropped: the old parameters stay in force. A hash equal to the parameters in force changes
  nothing and calls nothing.
- A change made in the engine (``PUT /strategies/<name>/params``) is written back by
  :meth:`ParamsSync.publish`; a change that came from the store is not written back.
- While the store is unreachable the parameters in force stay as they are; writes wait and are
  retried once it answers again, each writing the parameters in force at that moment. A hash
  that vanishes (deleted, or a restarted Redis without persistence) is written back.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from engine.risk.store import PARAMS, Fields, ParamStore, WatchCallback
from engine.risk.store_sync import StoreSync
from engine.strategy.base import Params, ParamsError, decode_params
from engine.strategy.runner import StrategyRunner

log = logging.getLogger("engine.strategy.live_params")


def params_fields(params: Params) -> Fields:
    """The parameters as a store hash: one text field each (booleans ``true``/``false``)."""
    out: Fields = {}
    for key, value in msgspec.to_builtins(params).items():
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def params_from_fields(current: Params, fields: Fields, strategy: str) -> Params:
    """``current`` with a store hash laid over it, checked against its ``Params``.

    Raises:
        ParamsError: a field is unknown, or its text is of the wrong type or out of range.
    """
    doc: dict[str, Any] = msgspec.to_builtins(current)
    doc.update(fields)
    return decode_params(type(current), doc, strategy, from_text=True)


class ParamsSync(StoreSync):
    """Keeps every strategy's parameters and its store hash in step, both ways.

    The store must be started first and stopped after :meth:`stop`.

    Args:
        store: the live parameter store.
        runner: the strategies; each one added before :meth:`start` gets a hash.
        retry_interval_s: how often unwritten hashes are retried while the store is down.
    """

    waiting_message = "parameter writes wait until the store answers again: %s"
    caught_up_message = "parameter writes caught up"
    vanished_message = "params/%s vanished from the store; writing them back"
    failed_message = "writing strategy parameters to the store failed; retrying"
    task_name = "params-sync"

    def __init__(
        self, store: ParamStore, runner: StrategyRunner, *, retry_interval_s: float = 1.0
    ) -> None:
        super().__init__(store, PARAMS, log, retry_interval_s=retry_interval_s)
        self._runner = runner
        self._names: list[str] = []

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Apply what the store holds over the parameters in force, seed what it lacks, follow."""
        self._running, self._stopping = True, False
        self._names = self._runner.names()
        for name in self._names:
            self._store.watch(PARAMS, name, self._watcher(name))
        self._unchecked = set(self._names)
        await self.write_pending()
        if not self._store.healthy and self._names:
            log.warning("parameter store unreachable at start; strategies use their config")
        self._follow()

    def status(self) -> dict[str, object]:
        """Store health, unwritten and refused hashes, writes: for ``/status`` and the TUI."""
        return {
            "healthy": self._store.healthy,
            "unwritten": sorted(self._unwritten.keys() | self._unchecked),
            "rejected": dict(sorted(self._rejected.items())),
            "writes": self._writes,
        }

    def rejected(self, name: str) -> str:
        """Why the store's last value for ``name`` was refused; empty when it was not."""
        return self._rejected.get(name, "")

    # ---- engine -> store ---------------------------------------------------------------------

    def publish(self, name: str, actor: str) -> None:
        """Write ``name``'s parameters in force to the store soon (after a change in the engine)."""
        if not self._running or name not in self._names:
            return
        self._unwritten[name] = actor
        self._wake.set()

    def _hash_names(self) -> list[str]:
        return self._names

    def _fields_to_write(self, name: str) -> Fields:
        return params_fields(self._runner.strategy(name).params)

    # ---- store -> engine ---------------------------------------------------------------------

    def _watcher(self, name: str) -> WatchCallback:
        def on_change(old: Fields | None, new: Fields) -> None:
            if not self._running:
                return
            self._unchecked.discard(name)
            try:
                strategy = self._runner.strategy(name)
            except KeyError:
                return
            current = strategy.params
            try:
                wanted = params_from_fields(current, new, name)
            except ParamsError as exc:
                self._rejected[name] = str(exc)
                log.warning(
                    "params/%s from the store refused, keeping the parameters in force: %s",
                    name,
                    exc,
                    extra={"strategy": name, "field": exc.field, "allowed": exc.allowed},
                )
                return
            self._rejected.pop(name, None)
            if wanted == current:
                return
            log.warning("params/%s from the store put in force", name, extra={"strategy": name})
            try:
                self._runner.set_params(name, msgspec.to_builtins(wanted))
            except ParamsError as exc:  # the strategy's own checks, if it has more
                self._rejected[name] = str(exc)

        return on_change
