"""Checks the venue frame readers' tests share: a bad frame refused, control frames ignored."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Protocol

import pytest

from engine.errors import MalformedMessage


class _Reader(Protocol):
    ignored: Counter[str]

    def parse(self, raw: bytes, recv_ts: int) -> object: ...


def assert_refused(parse: Callable[[bytes, int], object], raw: bytes, venue: str, words: str):
    """``parse(raw)`` raises MalformedMessage naming ``venue`` and ``words``, with the raw start."""
    with pytest.raises(MalformedMessage) as caught:
        parse(raw, 1)
    assert caught.value.venue == venue
    assert words in str(caught.value)
    assert caught.value.raw == raw[:200]


def assert_ignored(reader: _Reader, frames: Iterable[bytes], counts: dict[str, int]):
    """Every frame gives no events, and the reader counted them as ``counts`` says."""
    for raw in frames:
        assert reader.parse(raw, 1) == []
    assert reader.ignored == counts
