from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from engine.errors import SegmentError
from engine.ipc.layout import attach_segments, create_segments
from engine.ipc.segments import segment_name
from engine.ipc.state_page import StatePage

SHM = Path("/dev/shm")  # noqa: S108 - where POSIX shared memory lives on Linux


@pytest.fixture
def instance() -> str:
    """A unique instance name."""
    return f"t{uuid.uuid4().hex[:10]}"


def test_created_set_is_attachable_and_removed_on_close(instance):
    """A UI attaches to the segments the engine created; closing with unlink removes them."""
    owned = create_segments(instance, 2, event_ring_bytes=8192, command_ring_bytes=4096)
    names = [seg.name for seg in owned.all()]
    assert len(names) == 6  # two rings, the engine page, two book pages, the trading page
    seen = attach_segments(instance, 2)
    owned.books[1].write(b"book one")
    assert seen.books[1].read() == b"book one"
    owned.trading.write(b"orders")
    assert seen.trading.read() == b"orders"
    seen.close()
    owned.close(unlink=True)
    assert not any((SHM / name).exists() for name in names)


def test_a_failed_create_leaves_nothing_behind(instance):
    """When one segment cannot be made, those made before it are removed again."""
    blocker = StatePage.create(segment_name(instance, "book-1"), 4096)
    try:
        with pytest.raises(SegmentError):
            create_segments(instance, 2, event_ring_bytes=8192, command_ring_bytes=4096)
        for role in ("events", "commands", "engine", "book-0"):
            assert not (SHM / segment_name(instance, role)).exists()
    finally:
        blocker.close()
        blocker.unlink()


def test_attaching_to_a_missing_set_raises(instance):
    """Attaching where no engine created segments raises SegmentError."""
    with pytest.raises(SegmentError):
        attach_segments(instance, 1)
