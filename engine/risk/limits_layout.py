"""How risk limits and the breaker state are laid out as store hashes, and read back.

In section ``limits`` of the live parameter store (:mod:`engine.risk.store`):

- one hash per instrument, named by :func:`hash_name`: the instrument key ``venue:SYMBOL`` with
  the colon written as a dot (``sim.BTCUSDT``; in Redis ``hft:{instance}:limits:sim.BTCUSDT``)
  and a pair's slash as an underscore (Kraken's ``BTC/USD``: ``kraken.BTC_USD``), because store
  names allow only ``A-Z a-z 0-9 _ . -``. Its fields are the fields of
  :class:`~engine.risk.limits.Limits` as exact text: that instrument's whole set of limits;
- one hash :data:`ACCOUNT` with ``daily_loss_limit``, ``max_drawdown`` and ``drawdown_window_s``.

The breaker hash (``hft:{instance}:breaker``) holds ``tripped`` (``true``/``false``), ``reason``,
``since_ns`` and ``actor``.

Reading is strict about form and leaves the ranges to :func:`~engine.risk.limits.validate_limits`:
an unknown field, text padded with spaces or a whole-number field that is not plain digits raises
:class:`StoreValueError` naming the hash, field and value. A field a hash does not name keeps the
value in force, so a hash written by hand with one field changes only that field.
"""

from __future__ import annotations

import re

import msgspec

from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.risk.limits import Limits, RiskLimits
from engine.risk.store import Fields, valid_name

ACCOUNT = "account"
"""The hash of account-wide loss limits; no instrument hash can take the name (it has no dot)."""
ACCOUNT_FIELDS = ("daily_loss_limit", "max_drawdown", "drawdown_window_s")
"""The fields of :data:`ACCOUNT`, as in :class:`~engine.risk.limits.RiskLimits`."""

_INSTRUMENT_TYPES = {f.name: f.type for f in msgspec.structs.fields(Limits)}
_ACCOUNT_TYPES = {
    f.name: f.type for f in msgspec.structs.fields(RiskLimits) if f.name in ACCOUNT_FIELDS
}
_WHOLE = re.compile(r"-?[0-9]{1,19}")
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


class StoreValueError(EngineError, ValueError):
    """A stored field cannot be read as a limit; ``hash``, ``field`` and ``value`` name it."""

    def __init__(self, hash_: str, field: str, value: str, problem: str) -> None:
        self.hash = hash_
        self.field = field
        self.value = value
        super().__init__(f"limits/{hash_} field {field} = {value!r}: {problem}")


def hash_name(instrument: Instrument) -> str:
    """The store name of ``instrument``'s limits: ``venue.SYMBOL`` (``/`` written as ``_``).

    Raises:
        ValueError: the venue or symbol has characters a store name cannot hold.
    """
    name = f"{instrument.venue}.{instrument.symbol.replace('/', '_')}"
    if not valid_name(name):
        raise ValueError(
            f"instrument {instrument.key} cannot name a store hash ({name!r}: allowed are "
            "1 to 64 of A-Z a-z 0-9 _ . -)"
        )
    return name


def limits_fields(limits: Limits) -> Fields:
    """One instrument's limits as store fields of exact text."""
    return {name: str(getattr(limits, name)) for name in _INSTRUMENT_TYPES}


def account_fields(limits: RiskLimits) -> Fields:
    """The account-wide loss limits as store fields of exact text."""
    return {name: str(getattr(limits, name)) for name in ACCOUNT_FIELDS}


def _read_fields(hash_: str, fields: Fields, types: dict[str, object]) -> dict[str, object]:
    values: dict[str, object] = {}
    for field, text in fields.items():
        kind = types.get(field)
        if kind is None:
            raise StoreValueError(hash_, field, text, f"unknown field (known: {', '.join(types)})")
        if not text or text != text.strip():
            raise StoreValueError(hash_, field, text, "empty or padded with spaces")
        if kind is int:
            if not _WHOLE.fullmatch(text):
                raise StoreValueError(hash_, field, text, "not a whole number")
            values[field] = int(text)
        else:
            values[field] = text
    return values


def with_hash(
    limits: RiskLimits, name: str, instrument: Instrument | None, fields: Fields
) -> RiskLimits:
    """``limits`` with the hash ``name`` replaced; fields it does not name keep their values.

    Args:
        limits: the limits in force.
        name: the hash, for messages.
        instrument: whose hash it is, or None for :data:`ACCOUNT`.
        fields: the hash as stored.

    Returns:
        Unvalidated limits; an instrument set equal to the defaults is no override.

    Raises:
        StoreValueError: a field is unknown or not in a readable form.
    """
    if instrument is None:
        return msgspec.structs.replace(limits, **_read_fields(name, fields, _ACCOUNT_TYPES))
    key = instrument.key
    mine = msgspec.structs.replace(
        limits.for_instrument(key), **_read_fields(name, fields, _INSTRUMENT_TYPES)
    )
    overrides = dict(limits.per_instrument)
    if mine == limits.defaults:
        overrides.pop(key, None)
    else:
        overrides[key] = mine
    return msgspec.structs.replace(limits, per_instrument=overrides)


def breaker_fields(tripped: bool, reason: str, since_ns: int, actor: str) -> Fields:
    """The breaker state as store fields of text."""
    return {
        "tripped": "true" if tripped else "false",
        "reason": reason,
        "since_ns": str(since_ns),
        "actor": actor,
    }


def breaker_tripped(state: Fields) -> bool | None:
    """True or False as the breaker hash says, None when it cannot be read."""
    text = state.get("tripped", "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None
