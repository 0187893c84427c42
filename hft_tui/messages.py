"""Messages from the engine side of the UI (the bridge and its workers) to the screens.

Named for what happened. :class:`StateRefreshed` carries the latest :class:`~hft_tui.bridge.Frame`
and replaces any older one still queued, so a slow terminal skips states instead of queueing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from hft_tui.bridge import EngineBridge
from hft_tui.state_reader import Frame


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
