"""The key scheme: the modes and their keys, and key hints drawn from a screen's bindings.

Every screen's keys are its Textual ``BINDINGS``; :func:`hints` turns the shown ones into the
short ``b/B buy bid/ask`` pieces of the key bar (bindings in a row that share a binding group
become one piece), and the help screen lists them with their tooltips.
The mode keys are the same on every screen, so they live here, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class ModeKey:
    """One mode (screen) of the workstation and the key that shows it."""

    key: str
    mode: str
    """The app's mode name."""
    label: str
    """How the key bar names it."""
    about: str
    """What the screen shows, for the help screen."""


MODE_KEYS = (
    ModeKey("t", "trade", "Trade", "ladder, tape, position and the order ticket"),
    ModeKey("o", "orders", "Orders", "every order by client id, and the fills log"),
    ModeKey("p", "positions", "Positions", "positions and PnL, daily PnL against its limit"),
    ModeKey("r", "risk", "Risk", "the risk limits (edit them), the circuit breaker"),
    ModeKey("y", "strategies", "Strategies", "state, callback times and parameters (edit them)"),
    ModeKey("a", "alerts", "Alerts", "alerts from the engine, newest first"),
    ModeKey("h", "health", "Health", "venue link, rates, rings, heartbeat, rate limits"),
    ModeKey("w", "backtest", "Backtest", "backtests in worker processes: runs, figures, equity"),
)
"""The modes in key-bar order; ``trade`` is the default."""

_KEY_NAMES = {
    "question_mark": "?",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "escape": "esc",
    "enter": "enter",
    "space": "space",
}


def key_display(key: str) -> str:
    """How a key is written for the operator: ``ctrl+k`` -> ``^K``, ``question_mark`` -> ``?``."""
    first = key.split(",")[0]
    if first.startswith("ctrl+"):
        return "^" + first.removeprefix("ctrl+").upper()
    return _KEY_NAMES.get(first, first)


def _bindings(bindings: Iterable[BindingType]) -> list[Binding]:
    found: list[Binding] = []
    for item in bindings:
        if isinstance(item, Binding):
            found.append(item)
        elif isinstance(item, tuple):
            found.append(Binding(*item))
    return found


def hints(bindings: Iterable[BindingType]) -> tuple[tuple[str, str], ...]:
    """The shown bindings as (keys, what) pieces: a run of one group becomes ``"b/B"``."""
    pieces: list[tuple[str, str]] = []
    last_group: Binding.Group | None = None
    for binding in _bindings(bindings):
        if not binding.show:
            continue
        key = binding.key_display or key_display(binding.key)
        group = binding.group
        if group is not None and group is last_group and pieces:
            keys, what = pieces[-1]
            pieces[-1] = (f"{keys}/{key}", what)
            continue
        pieces.append((key, group.description if group is not None else binding.description))
        last_group = group
    return tuple(pieces)


def help_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """Every binding that has a description, as (key, what it does) for the help screen."""
    rows = []
    for binding in _bindings(bindings):
        what = binding.tooltip or binding.description
        if what:
            rows.append((binding.key_display or key_display(binding.key), what))
    return rows
