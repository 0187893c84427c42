"""The ``GET /strategies`` document as rows, and one parameter change typed from text.

:func:`strategy_rows` reads the list the engine answers (name, kind, running, error, parameters,
callback counts and p50/p99 in microseconds) into :class:`StrategyRow` values, skipping nothing
silently: an entry that is not an object with a name is refused with :class:`StrategyDocError`.
:func:`param_change` turns the operator's text into the JSON value of the parameter's current type
(whole numbers stay whole, true/false stay booleans); whether the value is in range is the
engine's call (``PUT /strategies/{name}/params`` answers 400 naming the field and what it allows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineError

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class StrategyDocError(EngineError, ValueError):
    """The engine's strategies document is not the list of objects it should be."""


class ParamInputError(EngineError, ValueError):
    """The operator's new value cannot be sent: it is not of the parameter's type."""


@dataclass(frozen=True, slots=True)
class StrategyRow:
    """One strategy as the engine reports it."""

    name: str
    kind: str
    running: bool
    error: str
    """Why it stopped after raising; empty otherwise."""
    params: dict[str, Any]
    callbacks: int
    p50_us: float
    p99_us: float
    over_budget: int
    sent: int
    refused: int
    cpu_p50_us: float = 0.0
    """CPU time of a callback (a sample of them); 0 when the engine has not measured one."""
    cpu_p99_us: float = 0.0

    @property
    def state(self) -> str:
        """``running``, ``failed`` (stopped by an exception) or ``stopped``."""
        if self.running:
            return "running"
        return "failed" if self.error else "stopped"


def _number(entry: dict[str, Any], field: str) -> float:
    value = entry.get(field, 0)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def strategy_rows(doc: object) -> list[StrategyRow]:
    """Every strategy in the ``GET /strategies`` answer, in the engine's order.

    Raises:
        StrategyDocError: the answer is not a list of objects that each have a name.
    """
    if not isinstance(doc, list):
        raise StrategyDocError(f"GET /strategies answered {type(doc).__name__}, not a list")
    rows = []
    for n, entry in enumerate(doc):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise StrategyDocError(f"GET /strategies entry {n} is not an object with a name")
        params = entry.get("params")
        rows.append(
            StrategyRow(
                name=entry["name"],
                kind=str(entry.get("kind", "")),
                running=bool(entry.get("running", False)),
                error=str(entry.get("error") or ""),
                params=dict(params) if isinstance(params, dict) else {},
                callbacks=int(_number(entry, "callbacks")),
                p50_us=_number(entry, "p50_us"),
                p99_us=_number(entry, "p99_us"),
                over_budget=int(_number(entry, "over_budget")),
                sent=int(_number(entry, "sent")),
                refused=int(_number(entry, "refused")),
                cpu_p50_us=_number(entry, "cpu_p50_us"),
                cpu_p99_us=_number(entry, "cpu_p99_us"),
            )
        )
    return rows


def param_text(value: object) -> str:
    """A parameter's value as the operator types it: ``true``, ``12``, ``0.5``, ``mid``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "-"
    return str(value)


def param_change(params: dict[str, Any], field: str, text: str) -> dict[str, Any]:
    """The one-field change document for ``PUT /strategies/{name}/params``.

    Raises:
        ParamInputError: the field is not a parameter, or ``text`` is not of its type.
    """
    if field not in params:
        raise ParamInputError(f"no parameter {field!r}; it has {', '.join(params) or 'none'}")
    current, value = params[field], text.strip()
    if isinstance(current, bool):
        word = value.lower()
        if word not in _TRUE | _FALSE:
            raise ParamInputError(f"{field} is true or false, not {value!r}")
        return {field: word in _TRUE}
    if isinstance(current, int):
        try:
            return {field: int(value)}
        except ValueError:
            raise ParamInputError(f"{field} must be a whole number, not {value!r}") from None
    if isinstance(current, float):
        try:
            number = float(value)
        except ValueError:
            raise ParamInputError(f"{field} must be a number, not {value!r}") from None
        if not math.isfinite(number):
            raise ParamInputError(f"{field} must be a finite number, not {value!r}")
        return {field: number}
    if isinstance(current, str) or current is None:
        if not value:
            raise ParamInputError(f"{field} needs a value")
        return {field: value}
    raise ParamInputError(f"{field} ({type(current).__name__}) is not editable here")
