"""The live parameter store: named hashes of text fields in Redis, or in a local file without it.

Risk limits (section ``limits``, one hash per instrument), strategy parameters (section ``params``,
one hash per strategy) and the circuit-breaker state live here, so several engines and operators
share them. The store knows nothing about what the fields mean; it keeps the last known value of
every hash it has seen, logs every change as ``old -> new`` (logger ``engine.risk.store``) and calls
the callbacks registered with :meth:`ParamStore.watch` with ``(old, new)``.

Validation belongs to the caller, inside its callback: wrap the callback with :func:`validated` and
a value that fails the check is logged and dropped, so the caller keeps trading on its last good
values. A hash that disappears (deleted by hand, or a restarted Redis without persistence) keeps
its last known value too, with a warning; a change is only ever a new, non-empty hash.

Two implementations share one vocabulary, the Redis key layout ``hft:{instance}:{section}:{name}``
and ``hft:{instance}:breaker``:

- :class:`RedisStore` (``redis.url`` set): every :meth:`put` replaces the hash in one transaction
  and publishes ``{"section", "name", "actor"}`` on ``hft:{instance}:changes``, so other stores see
  it at once; every second the known keys are also read back, which catches a plain ``HSET`` by
  another tool. When Redis is unreachable the store warns once, reports ``healthy = False``, keeps
  the last known values, refuses :meth:`put` with :class:`StoreUnavailable`, reconnects with
  :class:`~engine.venues.backoff.Backoff` and, once back, re-reads every known key and reports what
  changed meanwhile.
- :class:`FileStore` (no Redis): one JSON file written atomically (temporary file, fsync, rename,
  mode 0600) and polled by modification time every 0.25 s, so edits by another process show up.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

from engine.core.config import EngineConfig
from engine.errors import EngineError

logger = logging.getLogger("engine.risk.store")

Fields = dict[str, str]
"""One hash: field name -> text value."""
WatchCallback = Callable[[Fields | None, Fields], None]
"""Called with ``(old, new)`` when a watched hash changes; ``old`` is None the first time."""

BREAKER = "breaker"
"""The section that holds the circuit-breaker state (one hash, key ``hft:{instance}:breaker``)."""
LIMITS = "limits"
"""The section of risk limits, one hash per instrument."""
PARAMS = "params"
"""The section of strategy parameters, one hash per strategy."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
T = TypeVar("T")


class StoreUnavailable(EngineError):
    """The store cannot accept a write right now (Redis unreachable); nothing was changed."""


class ParamStore(Protocol):
    """What the engine needs from a parameter store, whichever backend holds the values."""

    @property
    def healthy(self) -> bool:
        """True while the backend answers; False means the values are the last known ones."""
        ...

    async def start(self) -> None:
        """Load the current values and begin watching for changes."""
        ...

    async def stop(self) -> None:
        """Stop watching and release the backend."""
        ...

    async def get(self, section: str, name: str) -> Fields | None:
        """The current hash ``section/name`` (the last known one when the backend is down)."""
        ...

    async def put(self, section: str, name: str, fields: Fields, *, actor: str) -> None:
        """Replace the hash ``section/name`` with ``fields``; ``actor`` says who changed it."""
        ...

    def watch(self, section: str, name: str, callback: WatchCallback) -> None:
        """Call ``callback(old, new)`` whenever ``section/name`` changes."""
        ...

    async def put_breaker(self, state: Fields, *, actor: str = "engine") -> None:
        """Persist the circuit-breaker state."""
        ...

    async def get_breaker(self) -> Fields | None:
        """The persisted circuit-breaker state, or None if none was ever stored."""
        ...

    def is_missing(self, section: str, name: str) -> bool:
        """True when a known hash ``section/name`` has since vanished from the backend."""
        ...


def valid_name(name: str) -> bool:
    """True when ``name`` can name a hash: 1 to 64 characters of ``A-Z a-z 0-9 _ . -``."""
    return _NAME_RE.match(name) is not None


def validated(
    check: Callable[[Fields], T], apply: Callable[[T], None], *, what: str
) -> WatchCallback:
    """A watch callback that takes a new value only when ``check`` accepts it.

    Args:
        check: parses and validates the new hash; raises ValueError (or TypeError, KeyError) to
            reject it.
        apply: receives the parsed value when it is accepted.
        what: names the value in the warning, e.g. ``"limits BTCUSDT"``.

    Returns:
        A callback for :meth:`ParamStore.watch`. A rejected value is logged and dropped, so the
        caller keeps its last good value.
    """

    def on_change(old: Fields | None, new: Fields) -> None:
        try:
            value = check(new)
        except (ValueError, TypeError, KeyError) as exc:
            logger.warning(
                "%s rejected, keeping the last good values: %s", what, exc, extra={"what": what}
            )
            return
        apply(value)

    return on_change


def redact_url(url: str) -> str:
    """``url`` with any user name or password removed, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _describe(old: Fields | None, new: Fields) -> str:
    before = old or {}
    changes = [
        f"{k}: {before.get(k, '-')} -> {new.get(k, '-')}"
        for k in sorted(before.keys() | new.keys())
        if before.get(k) != new.get(k)
    ]
    return ", ".join(changes)


class StoreBase:
    """Last known values, callbacks and change logging shared by both backends."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self._known: dict[tuple[str, str], Fields] = {}
        self._watchers: dict[tuple[str, str], list[WatchCallback]] = {}
        self._missing_warned: set[tuple[str, str]] = set()

    @staticmethod
    def _check_names(section: str, name: str) -> None:
        if not _NAME_RE.match(section):
            raise ValueError(f"invalid store section {section!r}")
        if section == BREAKER:
            if name:
                raise ValueError("the breaker section has a single hash with an empty name")
        elif not _NAME_RE.match(name):
            raise ValueError(f"invalid store name {name!r} in section {section!r}")

    @staticmethod
    def _check_fields(fields: Fields) -> Fields:
        if not fields:
            raise ValueError("a stored hash needs at least one field")
        for key, value in fields.items():
            if not isinstance(key, str) or not isinstance(value, str) or not key:
                raise TypeError(f"store fields are non-empty text names with text values: {key!r}")
        return dict(fields)

    def watch(self, section: str, name: str, callback: WatchCallback) -> None:
        """Call ``callback(old, new)`` whenever ``section/name`` changes.

        If a value is already known the callback is called at once with ``(None, value)``, so a
        caller that registers late still sees the current value through the same validation.
        Watch before :meth:`start` so the first load reports the current value; a key first
        watched later is loaded by the next read-back or :meth:`get`.
        """
        self._check_names(section, name)
        self._watchers.setdefault((section, name), []).append(callback)
        current = self._known.get((section, name))
        if current is not None:
            self._notify(callback, None, dict(current), section, name)

    def _notify(
        self, callback: WatchCallback, old: Fields | None, new: Fields, section: str, name: str
    ) -> None:
        try:
            callback(old, new)
        except Exception:
            logger.exception("watcher of %s/%s failed", section, name)

    def _apply(self, section: str, name: str, new: Fields | None, actor: str) -> None:
        """Record ``new`` as the value of ``section/name``; log and notify when it changed."""
        key = (section, name)
        old = self._known.get(key)
        if not new:
            if old is not None and key not in self._missing_warned:
                self._missing_warned.add(key)
                logger.warning(
                    "%s/%s is missing from the store, keeping the last known values",
                    section,
                    name,
                    extra={"section": section, "hash": name},
                )
            return
        self._missing_warned.discard(key)
        if new == old:
            return
        self._known[key] = dict(new)
        logger.info(
            "%s/%s changed by %s: %s",
            section,
            name,
            actor,
            _describe(old, new),
            extra={"section": section, "hash": name, "actor": actor},
        )
        for callback in list(self._watchers.get(key, ())):
            self._notify(callback, None if old is None else dict(old), dict(new), section, name)

    def is_missing(self, section: str, name: str) -> bool:
        """True when a known hash ``section/name`` has since vanished from the backend.

        The last known value stays in use; whoever owns the value may write it back. A new value
        of the hash clears this.
        """
        return (section, name) in self._missing_warned

    def _keys_of_interest(self) -> set[tuple[str, str]]:
        return set(self._known) | set(self._watchers)


def error_text(exc: BaseException) -> str:
    """One line naming a connection failure (the first of a group), for logs and errors."""
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return error_text(exc.exceptions[0])
    return f"{type(exc).__name__}: {exc}"


def open_store(config: EngineConfig, *, state_dir: str | Path | None = None) -> ParamStore:
    """The store this configuration asks for.

    Args:
        config: with ``redis.url`` set, a :class:`RedisStore` (password from the environment
            variable named by ``redis.password_env``, if set); otherwise a :class:`FileStore`.
        state_dir: where the file lives; by default the instance's state folder
            (:meth:`~engine.core.config.EngineConfig.state_dir`). The file is ``params.json``.
    """
    from engine.risk.file_store import FileStore  # the backends build on this module
    from engine.risk.redis_store import RedisStore

    instance = config.engine.instance
    if config.redis.url:
        password = os.environ.get(config.redis.password_env) or None
        return RedisStore(config.redis.url, instance, password)
    folder = Path(state_dir) if state_dir is not None else config.state_dir()
    return FileStore(folder / "params.json", instance)
