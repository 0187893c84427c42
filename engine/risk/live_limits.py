"""Risk limits and the circuit-breaker state, kept in step with the live parameter store.

:class:`LimitsSync` sits between the engine's limits in force and the store
(:mod:`engine.risk.store`: Redis when ``redis.url`` is set, a local file otherwise), with one
hash per instrument, one for the account and the breaker hash (layout in
:mod:`engine.risk.limits_layout`; an instrument's hash is named ``venue.SYMBOL``).

At start a hash that is absent is seeded from the limits in force (actor ``engine (seed)``); a
hash that is present is applied over the configured limits, so the store wins. Every store change
(another engine, an operator's ``HSET``, the TUI) becomes a full :class:`RiskLimits` with that one
hash replaced and goes through the engine's setter. A bad number, a negative size or an unknown
field is logged with the hash, field and value and dropped: the old limits stay. Changes made in
the engine are written by :meth:`LimitsSync.publish` (only the hashes whose fields differ from the
store); a change that came from the store is not written back. A hash that vanishes from the
store (deleted, or a restarted Redis without persistence) is written back from the limits in force.

Trips propagate from the store, resets do not: a store that says "tripped" (another engine or an
operator tripped it, or the hash cannot be read) halts this engine through the trip callback, but
a store that says "not tripped" never re-enables it. A reset is a decision about one engine, made
by an authenticated operator after looking at its orders, positions and why it stopped; the store
is writable by anyone who can reach Redis, and a restarted Redis, a deleted key or a stray
``HSET`` would otherwise put a halted engine back in the market with no one deciding it. A false
trip costs a pause; a false reset can cost the account. Only the engine's own reset re-enables.

While the store is unreachable the limits in force stay as they are (the store keeps its last
known values and reports ``healthy = False``); writes wait and are retried once it answers again,
each writing the values in force at that moment. :meth:`LimitsSync.status` says so for ``/status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from engine.core.instruments import Instrument
from engine.risk.limits import LimitsError, RiskLimits, validate_limits
from engine.risk.limits_layout import (
    ACCOUNT,
    ACCOUNT_FIELDS,
    account_fields,
    breaker_fields,
    breaker_tripped,
    hash_name,
    limits_fields,
    with_hash,
)
from engine.risk.store import BREAKER, LIMITS, Fields, ParamStore, StoreUnavailable, validated
from engine.risk.store_sync import RESTORE_ACTOR, StoreSync

logger = logging.getLogger("engine.risk.live_limits")


class LimitsSync(StoreSync):
    """Keeps the limits in force and the breaker in step with the store, both ways.

    The store must be started first and stopped after :meth:`stop`.

    Args:
        store: the live parameter store.
        instruments: every tradable instrument; each gets one hash.
        limits: returns the limits in force.
        set_limits: validates and puts limits in force, ``(limits, actor)``; raises LimitsError.
        on_trip: halts trading, ``(reason)``; called when the store says "tripped".
        retry_interval_s: how often unwritten values are retried while the store is down.

    Raises:
        ValueError: an instrument cannot name a hash, or two share one name.
    """

    vanished_message = "limits/%s vanished from the store; writing the limits in force"
    failed_message = "writing limits to the store failed; retrying"
    task_name = "limits-sync"

    def __init__(
        self,
        store: ParamStore,
        instruments: Iterable[Instrument],
        *,
        limits: Callable[[], RiskLimits],
        set_limits: Callable[[RiskLimits, str], None],
        on_trip: Callable[[str], None],
        retry_interval_s: float = 1.0,
    ) -> None:
        super().__init__(store, LIMITS, logger, retry_interval_s=retry_interval_s)
        self._instruments = list(instruments)
        self._limits = limits
        self._set_limits = set_limits
        self._on_trip = on_trip
        self._by_name: dict[str, Instrument | None] = {}
        for inst in self._instruments:
            name = hash_name(inst)
            if name in self._by_name:
                raise ValueError(f"instruments share the store hash {name!r}")
            self._by_name[name] = inst
        self._by_name[ACCOUNT] = None
        self._stored: dict[str, Fields] = {}
        """What the store was last seen holding, valid or not."""
        self._stored_breaker: Fields | None = None
        self._written_breaker: Fields | None = None
        self._unwritten_breaker: tuple[Fields, str] | None = None
        self._applied: set[str] = set()
        """Hashes whose store value has been put in force at least once."""
        self._from_store = False

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Apply what the store holds over the limits in force, seed what it lacks, then follow."""
        self._running, self._stopping = True, False
        for name in self._by_name:
            self._store.watch(LIMITS, name, self._watcher(name))
        self._store.watch(BREAKER, "", self._on_breaker)
        self._unchecked = set(self._by_name)
        await self._store.get_breaker()  # a store that had not loaded it reports it now
        await self.write_pending()
        if not self._store.healthy:
            logger.warning("parameter store unreachable at start; trading on the configured limits")
        self._follow()

    @property
    def healthy(self) -> bool:
        """True while the store answers; False means the limits are the last known ones."""
        return self._store.healthy

    def status(self) -> dict[str, object]:
        """A short account for ``/status``: store health, what is unwritten or rejected, writes."""
        return {
            "store": type(self._store).__name__,
            "healthy": self._store.healthy,
            "hashes": len(self._by_name),
            "unwritten": sorted(self._unwritten.keys() | self._unchecked),
            "breaker_unwritten": self._unwritten_breaker is not None,
            "rejected": dict(sorted(self._rejected.items())),
            "writes": self._writes,
        }

    # ---- engine -> store ---------------------------------------------------------------------

    def publish(self, limits: RiskLimits, actor: str) -> None:
        """Write every hash whose fields differ in ``limits`` (now in force) to the store, soon.

        Called after the engine put ``limits`` in force; a change that came from the store itself
        is not written back. The writes happen on the loop in order; see :meth:`write_pending`.
        """
        if self._from_store or not self._running:
            return
        for name, fields in self._targets(limits).items():
            if self._stored.get(name) != fields:
                self._unwritten[name] = actor
        self._wake.set()

    def publish_breaker(self, tripped: bool, reason: str, since_ns: int, actor: str) -> None:
        """Write the breaker state to the store, soon (a trip already in the store is kept)."""
        state = breaker_fields(tripped, reason, since_ns, actor)
        self._unwritten_breaker = (state, actor)
        self._wake.set()

    def _hash_names(self) -> list[str]:
        return list(self._by_name)

    def _has_unwritten(self) -> bool:
        return bool(self._unwritten or self._unwritten_breaker)

    def _fields_to_write(self, name: str) -> Fields | None:
        fields = self._targets(self._limits())[name]
        if self._stored.get(name) == fields and not self._store.is_missing(LIMITS, name):
            return None
        return fields

    def _restore_missing(self) -> None:
        super()._restore_missing()
        stored = self._stored_breaker
        if (
            stored is not None
            and self._unwritten_breaker is None
            and self._store.is_missing(BREAKER, "")
        ):
            logger.warning("the breaker state vanished from the store; writing it back")
            self._unwritten_breaker = (stored, RESTORE_ACTOR)

    async def _write_more(self) -> list[str]:
        return [BREAKER] if await self._write_breaker() else []

    async def _write_breaker(self) -> bool:
        pending = self._unwritten_breaker
        if pending is None:
            return False
        state, actor = pending
        stored = self._stored_breaker
        if (
            stored is not None
            and not self._store.is_missing(BREAKER, "")
            and breaker_tripped(stored) == breaker_tripped(state)
        ):
            self._unwritten_breaker = None  # already so in the store; a first trip is kept
            return False
        written, self._written_breaker = self._written_breaker, state  # its echo is ours
        try:
            await self._store.put_breaker(state, actor=actor)
        except StoreUnavailable:
            self._written_breaker = written
            raise
        if self._unwritten_breaker is pending:
            self._unwritten_breaker = None
        return True

    def _targets(self, limits: RiskLimits) -> dict[str, Fields]:
        targets = {
            hash_name(i): limits_fields(limits.for_instrument(i.key)) for i in self._instruments
        }
        targets[ACCOUNT] = account_fields(limits)
        return targets

    # ---- store -> engine ---------------------------------------------------------------------

    def _watcher(self, name: str) -> Callable[[Fields | None, Fields], None]:
        inst = self._by_name[name]

        def check(fields: Fields) -> RiskLimits:
            try:
                new = with_hash(self._limits(), name, inst, fields)
                validate_limits(new, self._instruments)
            except ValueError as exc:
                self._rejected[name] = str(exc)
                raise
            self._rejected.pop(name, None)
            return new

        def apply(new: RiskLimits) -> None:
            current = self._limits()
            if self._effective(new) == self._effective(current):
                return
            first = name not in self._applied
            self._applied.add(name)
            logger.warning(
                "limits/%s from the store put in force%s",
                name,
                " over the configured limits" if first else "",
                extra={"hash": name},
            )
            self._from_store = True
            try:
                self._set_limits(new, f"store limits/{name}")
            except LimitsError as exc:
                self._rejected[name] = str(exc)
                logger.warning("limits/%s rejected, keeping the last good values: %s", name, exc)
            finally:
                self._from_store = False

        take = validated(check, apply, what=f"limits/{name}")

        def on_change(old: Fields | None, new: Fields) -> None:
            if not self._running:
                return
            self._stored[name] = dict(new)
            self._unchecked.discard(name)
            take(old, new)

        return on_change

    def _effective(self, limits: RiskLimits) -> tuple[object, ...]:
        per = tuple(limits.for_instrument(i.key) for i in self._instruments)
        return (per, *(getattr(limits, f) for f in ACCOUNT_FIELDS))

    def _on_breaker(self, old: Fields | None, new: Fields) -> None:
        if not self._running:
            return
        self._stored_breaker = dict(new)
        if new == self._written_breaker:
            return  # our own write coming back
        actor = new.get("actor") or "unknown"
        tripped = breaker_tripped(new)
        if tripped is None:
            why = f"breaker state in the store unreadable (tripped={new.get('tripped')!r})"
            logger.error("%s; halting", why, extra={"actor": actor})
            self._on_trip(why)
        elif tripped:
            reason = new.get("reason") or "no reason given"
            logger.error(
                "circuit breaker tripped in the store by %s: %s",
                actor,
                reason,
                extra={"actor": actor},
            )
            self._on_trip(f"{reason} (tripped in the store by {actor})")
        elif old is not None and breaker_tripped(old) is not False:
            logger.warning(
                "breaker reset in the store by %s; this engine re-enables only through its own "
                "authenticated reset",
                actor,
                extra={"actor": actor},
            )
