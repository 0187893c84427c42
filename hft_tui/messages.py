"""Messages between the engine side of the UI (the app, the bridge, workers) and the screens.

Down: :class:`StateRefreshed` carries the latest :class:`~hft_tui.frame.Frame` and replaces any
older one still queued, so a slow terminal skips states instead of queueing them. Up: screens ask
for orders and cancels with :class:`OrderRequested`, :class:`CancelRequested` and
:class:`CancelAllRequested`; the app sends them on the command ring (the engine's risk pipeline
decides) and answers the screen with :class:`CommandAnswered`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from hft_tui.bridge import EngineBridge
from hft_tui.frame import Frame


@dataclass
class StateRefreshed(Message, bubble=False):
    """The engine's state was read; ``frame`` is the newest one to draw."""

    frame: Frame

    def can_replace(self, message: Message) -> bool:
        """A newer frame supersedes this one while both wait in the queue."""
        return isinstance(message, StateRefreshed)


@dataclass
class EngineAttached(Message, bubble=False):
    """The session (re)attached to a running engine; ``bridge`` now belongs to the app."""

    bridge: EngineBridge


@dataclass
class EngineAttachFailed(Message, bubble=False):
    """Attaching or restarting failed; ``error`` says why, in words for the operator."""

    error: str


@dataclass
class OrderRequested(Message):
    """The operator asked for an order; the engine's risk checks still decide."""

    instrument: int
    buy: bool
    price: int
    """Limit price in ticks; 0 for a market order."""
    size: int
    """Lots."""
    order_type: str
    """``limit`` or ``market``."""
    time_in_force: str
    """``gtc``, ``ioc``, ``fok`` or ``post_only``."""
    what: str
    """The order in words, for the answer: ``BUY 0.00100 BTCUSDT @ 65000.00``."""


@dataclass
class CancelRequested(Message):
    """The operator asked to cancel one order."""

    client_order_id: str


@dataclass
class CancelAllRequested(Message):
    """The operator asked to cancel every order on one instrument (None: on all of them)."""

    instrument: int | None
    symbol: str
    """The instrument's symbol (or ``every instrument``), for the answer."""


@dataclass
class CommandAnswered(Message, bubble=False):
    """What became of a screen's request: sent, or not sent and why."""

    text: str
    ok: bool
