"""StateRefreshed: the latest frame replaces an older one still waiting in the queue."""

from __future__ import annotations

from textual.message import Message

from hft_tui.messages import EngineAttachFailed, StateRefreshed


def test_a_newer_frame_supersedes_a_queued_one(reader):
    """Two queued StateRefreshed messages collapse to the newer; other messages never do."""
    frame = reader.read()
    assert frame is not None
    older, newer = StateRefreshed(frame), StateRefreshed(frame)
    assert older.can_replace(newer)
    assert not older.can_replace(EngineAttachFailed("x"))
    assert not Message().can_replace(older)
