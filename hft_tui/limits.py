"""The risk limits document of ``GET /risk/limits`` as rows, their use now, and one edit to it.

The document has account limits at the top (``daily_loss_limit``, ``max_drawdown``,
``drawdown_window_s``), instrument ``defaults`` and ``per_instrument`` replacements keyed
``venue:symbol``. :func:`limit_rows` flattens it into one row per limit, :func:`in_use` says how
much of a limit is used where the trading page tells (today's loss, working orders, position), and
:func:`with_value` makes the document with one limit changed. Checking the new value is the
engine's job (``PUT /risk/limits`` answers 400 with its reason); here only the JSON type is kept:
counts stay whole numbers, decimal limits stay exact text.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineError
from hft_tui import format as fmt
from hft_tui.frame import Frame

ACCOUNT_FIELDS = ("daily_loss_limit", "max_drawdown", "drawdown_window_s")
"""Account-wide limits, in the order the risk screen lists them."""


class LimitInputError(EngineError, ValueError):
    """The operator's new value cannot even be sent (a count that is not a whole number)."""


@dataclass(frozen=True, slots=True)
class LimitRow:
    """One limit."""

    path: tuple[str, ...]
    """Where it sits in the document, e.g. ``("defaults", "max_position")``."""
    scope: str
    """``account``, ``defaults`` or the instrument key ``venue:symbol``."""
    name: str
    value: object

    @property
    def key(self) -> str:
        """The dotted path, unique per limit: ``defaults.max_position``."""
        return ".".join(self.path)


def limit_rows(doc: dict[str, Any]) -> list[LimitRow]:
    """Every limit in the document: account first, then defaults, then each instrument."""
    rows = [LimitRow((f,), "account", f, doc[f]) for f in ACCOUNT_FIELDS if f in doc]
    rows += [LimitRow((f,), "account", f, v) for f, v in doc.items() if _is_account_extra(f, v)]
    defaults = doc.get("defaults")
    if isinstance(defaults, dict):
        rows += [LimitRow(("defaults", f), "defaults", f, v) for f, v in defaults.items()]
    per = doc.get("per_instrument")
    if isinstance(per, dict):
        for key, limits in sorted(per.items()):
            if isinstance(limits, dict):
                rows += [LimitRow(("per_instrument", key, f), key, f, v) for f, v in limits.items()]
    return rows


def _is_account_extra(field: str, value: object) -> bool:
    return field not in ACCOUNT_FIELDS and not isinstance(value, dict)


def with_value(doc: dict[str, Any], path: tuple[str, ...], text: str) -> dict[str, Any]:
    """A copy of ``doc`` with the limit at ``path`` set from the operator's ``text``.

    Raises:
        LimitInputError: the limit is a count and ``text`` is not a whole number, or the path
            is not in the document.
    """
    new = copy.deepcopy(doc)
    parent: Any = new
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    field = path[-1]
    if not isinstance(parent, dict) or field not in parent:
        raise LimitInputError(f"no limit {'.'.join(path)} in the engine's limits")
    value = text.strip()
    if isinstance(parent[field], bool):
        raise LimitInputError(f"{'.'.join(path)} is not editable here")
    if isinstance(parent[field], int):
        try:
            parent[field] = int(value)
        except ValueError:
            raise LimitInputError(f"{field} must be a whole number, not {value!r}") from None
    else:
        parent[field] = value
    return new


def _instrument_ids(frame: Frame, scope: str, per_instrument: set[str]) -> list[int]:
    """The instruments a scope's limits apply to (defaults: those without their own)."""
    venue = frame.venue
    ids = []
    for n, market in enumerate(frame.desk.markets):
        key = f"{venue}:{market.symbol}"
        if key == scope or (scope == "defaults" and key not in per_instrument):
            ids.append(n)
    return ids


def in_use(row: LimitRow, frame: Frame | None, per_instrument: set[str]) -> str:
    """How much of the limit is used now, where the trading page tells; empty otherwise."""
    page = frame.desk.page if frame is not None else None
    if frame is None or page is None:
        return ""
    if row.name == "daily_loss_limit":
        return f"today {fmt.money(page.daily)} ({fmt.loss_used(page.daily, page.daily_loss_limit)})"
    ids = _instrument_ids(frame, row.scope, per_instrument)
    if not ids:
        return ""
    if row.name == "max_open_orders":
        counts = [(len(frame.desk.working(n)), n) for n in ids]
        most, n = max(counts)
        return f"{most} working ({frame.desk.market(n).symbol})"
    if row.name == "max_position":
        positions = [(abs(p.net_lots), n) for n in ids if (p := frame.desk.position(n))]
        if not positions:
            return "flat"
        lots, n = max(positions)
        market = frame.desk.market(n)
        return f"{fmt.size_or_lots(market.text, lots)} ({market.symbol})"
    return ""
