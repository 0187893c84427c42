"""Instrument lists from the venues' instrument endpoints, cached on disk under the state dir.

Each venue has a module ``engine/venues/<venue>/instruments.py`` with a :class:`InstrumentEndpoint`:
the request to make (``GET`` or ``POST`` with a JSON body) and ``parse``, from the response body
to :class:`~engine.core.instruments.Instrument` (tick, lot, min notional) for every symbol listed.
What is shared lives here:

- :func:`need`, which reads one field of one symbol's record and names venue, symbol and field
  when it is missing or not a decimal (:class:`InstrumentFieldError`);
- :class:`InstrumentCache`: ``<state dir>/instruments/<venue>.json``, written atomically (a
  temporary file, then a rename). :meth:`InstrumentCache.load` uses the cache while it is
  younger than ``max_age_s``, else asks the venue and rewrites it; a venue that cannot be
  reached (network error, timeout, HTTP error) falls back to the cache however old, and says
  so (:attr:`InstrumentList.stale`, a warning in the log). With no cache either,
  :class:`InstrumentsUnavailable` names the venue and why. An answer with a broken record is
  an error (venue, symbol, field), never quietly replaced by the cache.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import msgspec

from engine.core.instruments import Instrument
from engine.errors import EngineError, InstrumentError

log = logging.getLogger("engine.venues.instruments")

_NS = 1_000_000_000


class InstrumentFieldError(InstrumentError):
    """A venue's instrument record lacks a field, or the field is not a usable number."""

    def __init__(self, venue: str, symbol: str, field: str, problem: str) -> None:
        self.venue = venue
        self.symbol = symbol
        self.field = field
        super().__init__(f"{venue} instrument {symbol or '?'}: {field} {problem}")


class InstrumentsUnavailable(EngineError):
    """Neither the venue nor the cache could give the instrument list."""

    def __init__(self, venue: str, reason: str) -> None:
        self.venue = venue
        super().__init__(f"{venue} instruments unavailable: {reason}")


class InstrumentEndpoint(Protocol):
    """One venue's instrument endpoint."""

    venue: str
    """The venue name the instruments carry (``binance``, ``bybit-linear``, ...)."""

    def request(self, base_url: str) -> tuple[str, str, object | None]:
        """``(method, url, json body or None)`` for the whole list."""
        ...

    def parse(self, body: bytes) -> list[Instrument]:
        """Every instrument of the response.

        Raises:
            InstrumentFieldError: a record lacks a field or has a bad one.
            InstrumentError: the body is not the endpoint's shape.
        """
        ...


def need(record: Mapping[str, Any], venue: str, symbol: str, *path: str) -> Any:  # noqa: ANN401
    """``record[path[0]][path[1]]...``; raises naming venue, symbol and the field when missing.

    Raises:
        InstrumentFieldError: a key on the path is missing or null.
    """
    value: Any = record
    for k, key in enumerate(path):
        if not isinstance(value, Mapping) or value.get(key) is None:
            raise InstrumentFieldError(venue, symbol, ".".join(path[: k + 1]), "is missing")
        value = value[key]
    return value


def step_text(value: object, venue: str, symbol: str, field: str) -> str:
    """A positive step (tick or lot) as plain decimal text, trailing zeros dropped.

    Raises:
        InstrumentFieldError: not a positive decimal.
    """
    text = _decimal_text(value, venue, symbol, field)
    if Decimal(text) <= 0:
        raise InstrumentFieldError(venue, symbol, field, f"{value!r} is not positive")
    return text


def amount_text(value: object, venue: str, symbol: str, field: str) -> str:
    """A non-negative amount (a minimum notional) as plain decimal text.

    Raises:
        InstrumentFieldError: not a non-negative decimal.
    """
    text = _decimal_text(value, venue, symbol, field)
    if Decimal(text) < 0:
        raise InstrumentFieldError(venue, symbol, field, f"{value!r} is negative")
    return text


def decimals_step(value: object, venue: str, symbol: str, field: str) -> str:
    """The step of a number of decimals (``8`` -> ``0.00000001``).

    Raises:
        InstrumentFieldError: not a whole number from 0 to 18.
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 18:
        raise InstrumentFieldError(venue, symbol, field, f"{value!r} is not a number of decimals")
    return format(Decimal(1).scaleb(-value), "f")


def _decimal_text(value: object, venue: str, symbol: str, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InstrumentFieldError(venue, symbol, field, f"{value!r} is not a decimal")
    try:
        dec = Decimal(str(value))
    except InvalidOperation:
        raise InstrumentFieldError(venue, symbol, field, f"{value!r} is not a decimal") from None
    if not dec.is_finite():
        raise InstrumentFieldError(venue, symbol, field, f"{value!r} is not a decimal")
    text = format(dec, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def decode_json(body: bytes, venue: str) -> Any:  # noqa: ANN401
    """The JSON of a response body.

    Raises:
        InstrumentError: the body is not JSON.
    """
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"{venue} instruments: the response is not JSON ({exc})") from None


def records(value: object, venue: str, where: str) -> list[dict[str, Any]]:
    """A list of JSON objects at ``where`` in the response.

    Raises:
        InstrumentError: it is not a list of objects.
    """
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise InstrumentError(f"{venue} instruments: {where} is not a list of objects")
    return value


class InstrumentList(msgspec.Struct, frozen=True, kw_only=True):
    """A venue's instruments and where they came from."""

    venue: str
    instruments: list[Instrument]
    fetched_at_ns: int
    """When the venue gave this list (wall clock)."""
    from_cache: bool
    """True when read from the disk cache rather than the venue just now."""
    stale: bool = False
    """True when the venue could not be reached and an older cache than allowed was used."""

    def by_symbol(self) -> dict[str, Instrument]:
        """The instruments keyed by symbol."""
        return {i.symbol: i for i in self.instruments}


class _CacheFile(msgspec.Struct, frozen=True, kw_only=True):
    venue: str
    fetched_at_ns: int
    instruments: list[Instrument]


Fetch = Callable[[InstrumentEndpoint, str], Any]


class InstrumentCache:
    """Instrument lists on disk, refreshed from the venue when older than ``max_age_s``.

    Args:
        state_dir: the engine's state directory; the cache is ``instruments/<venue>.json``
            under it.
        max_age_s: a cache younger than this is used without asking the venue.
        timeout_s: how long one request to the venue may take.
        now_ns: the wall clock (tests move it).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        max_age_s: float = 24 * 3600.0,
        timeout_s: float = 10.0,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.dir = Path(state_dir) / "instruments"
        self.max_age_s = max_age_s
        self.timeout_s = timeout_s
        self._now_ns = now_ns

    def path(self, venue: str) -> Path:
        """Where one venue's list is kept."""
        return self.dir / f"{venue}.json"

    def read(self, venue: str) -> _CacheFile | None:
        """The cached list, or None when there is none or it cannot be read (logged)."""
        path = self.path(venue)
        try:
            cached = msgspec.json.decode(path.read_bytes(), type=_CacheFile)
        except FileNotFoundError:
            return None
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("instrument cache unreadable", extra={"path": str(path), "error": str(exc)})
            return None
        return cached if cached.venue == venue else None

    def write(self, venue: str, instruments: list[Instrument], fetched_at_ns: int) -> None:
        """Replace the cached list atomically."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path(venue)
        tmp = path.with_suffix(f".json.{os.getpid()}.tmp")
        body = _CacheFile(venue=venue, fetched_at_ns=fetched_at_ns, instruments=instruments)
        tmp.write_bytes(msgspec.json.encode(body))
        os.replace(tmp, path)

    async def load(self, endpoint: InstrumentEndpoint, base_url: str) -> InstrumentList:
        """The venue's instruments: a fresh cache, else the venue, else any cache (stale).

        Raises:
            InstrumentsUnavailable: the venue failed and there is no cache.
            InstrumentFieldError: the venue's answer has a broken record (the cache is kept).
        """
        venue = endpoint.venue
        now = self._now_ns()
        cached = self.read(venue)
        if cached is not None and now - cached.fetched_at_ns < self.max_age_s * _NS:
            return InstrumentList(
                venue=venue,
                instruments=cached.instruments,
                fetched_at_ns=cached.fetched_at_ns,
                from_cache=True,
            )
        try:
            body = await self.fetch(endpoint, base_url)
        except InstrumentsUnavailable as exc:
            if cached is None:
                raise
            age_s = (now - cached.fetched_at_ns) / _NS
            log.warning(
                "venue unreachable; using cached instruments",
                extra={"venue": venue, "error": str(exc), "age_s": round(age_s)},
            )
            return InstrumentList(
                venue=venue,
                instruments=cached.instruments,
                fetched_at_ns=cached.fetched_at_ns,
                from_cache=True,
                stale=True,
            )
        instruments = endpoint.parse(body)
        self.write(venue, instruments, now)
        return InstrumentList(
            venue=venue, instruments=instruments, fetched_at_ns=now, from_cache=False
        )

    async def fetch(self, endpoint: InstrumentEndpoint, base_url: str) -> bytes:
        """The endpoint's response body.

        Raises:
            InstrumentsUnavailable: the request failed or was refused.
        """
        method, url, body = endpoint.request(base_url.rstrip("/"))
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, url, json=body) as resp,
            ):
                data = await resp.read()
                if resp.status != 200:
                    raise InstrumentsUnavailable(endpoint.venue, f"HTTP {resp.status} from {url}")
                return data
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise InstrumentsUnavailable(endpoint.venue, f"{url}: {exc!r}") from None
