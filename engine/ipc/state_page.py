"""Seqlocked state pages: the latest value of a view, written by one process and read by any.

The engine writes the latest book or engine view into a page whenever it likes and never waits for
a reader; a UI that falls behind simply reads the newest value next time. Layout::

    line 0  magic | layout version | payload capacity
    line 1  sequence | payload length
    data    payload capacity bytes

A write makes the sequence odd, stores the length and the payload, then makes it even again. A
reader takes the sequence, copies the payload, and takes the sequence again: the copy is consistent
only if both were the same even number; otherwise a write overlapped and the reader tries again.
The sequence is an aligned 8-byte word accessed through a ``memoryview`` cast to ``Q`` (one load or
store in CPython). On x86-64 (TSO) stores become visible in program order and loads are not
reordered with other loads, which is all a seqlock needs; weakly ordered CPUs are not supported.
"""

from __future__ import annotations

import mmap
import os

from engine.errors import IpcError, SegmentError
from engine.ipc.segments import MappedSegment, attach_segment, create_segment

MAGIC = int.from_bytes(b"hftpage\x00", "little")
"""First word of every state-page segment."""
LAYOUT_VERSION = 1
"""Bumped whenever the page layout changes; attach refuses other versions."""
HEADER_BYTES = 128
"""Two 64-byte cache lines before the payload."""

_MAGIC, _VERSION, _CAPACITY = 0, 1, 2
_SEQ, _LENGTH = 8, 9

#: tight re-reads before yielding the CPU to a writer that may be mid-write
_SPINS = 64
#: attempts (spins plus yields) before a read gives up
_ATTEMPTS = 2_000


class TornRead(IpcError):
    """Every read attempt overlapped a write: the page is being rewritten faster than it is read."""

    def __init__(self, name: str, attempts: int) -> None:
        self.name = name
        self.attempts = attempts
        super().__init__(f"state page {name}: no consistent read in {attempts} attempts")


class StatePage(MappedSegment):
    """Seqlocked latest-value page: one writer, any number of readers, the writer never waits.

    Build one with :meth:`create` (the owner, usually the writer) or :meth:`attach`.
    """

    def __init__(self, name: str, mem: mmap.mmap) -> None:
        super().__init__(name, mem, HEADER_BYTES)
        header = self._hdr
        self._cap = header[_CAPACITY]
        seq = header[_SEQ]
        self._seq = seq + (seq & 1)  # a writer that died mid-write left it odd

    @classmethod
    def create(cls, name: str, size_bytes: int) -> StatePage:
        """Create the segment (owner-only, 0600) with room for ``size_bytes`` of payload.

        Raises:
            SegmentError: the segment already exists or cannot be created.
            ValueError: ``size_bytes`` is not positive, or the name is invalid.
        """
        if size_bytes <= 0:
            raise ValueError(f"state page {name}: size must be positive, got {size_bytes}")
        mem = create_segment(name, HEADER_BYTES + size_bytes)
        header = memoryview(mem)[:HEADER_BYTES].cast("Q")
        header[_VERSION] = LAYOUT_VERSION
        header[_CAPACITY] = size_bytes
        header[_MAGIC] = MAGIC  # last: an attacher seeing the magic sees a complete header
        header.release()
        return cls(name, mem)

    @classmethod
    def attach(cls, name: str) -> StatePage:
        """Map an existing page created by :meth:`create`.

        Raises:
            SegmentError: the segment is missing, foreign, truncated, or not a state page.
        """
        mem = attach_segment(name, HEADER_BYTES)
        header = memoryview(mem)[:HEADER_BYTES].cast("Q")
        try:
            magic, version, capacity = header[_MAGIC], header[_VERSION], header[_CAPACITY]
        finally:
            header.release()
        problem = ""
        if magic != MAGIC:
            problem = "is not a state page (bad magic)"
        elif version != LAYOUT_VERSION:
            problem = f"has layout version {version}, expected {LAYOUT_VERSION}"
        elif len(mem) < HEADER_BYTES + capacity:
            problem = f"is {len(mem)} bytes, too small for a {capacity}-byte payload"
        if problem:
            mem.close()
            raise SegmentError(f"shared-memory segment {name} {problem}")
        return cls(name, mem)

    def write(self, payload: bytes) -> None:
        """Replace the page's value; never waits for readers.

        Raises:
            ValueError: the payload is larger than the page.
        """
        n = len(payload)
        if n > self._cap:
            raise ValueError(
                f"state page {self._name}: payload of {n} bytes exceeds its {self._cap} bytes"
            )
        hdr = self._hdr
        seq = self._seq
        hdr[_SEQ] = seq + 1  # odd: a write is under way
        hdr[_LENGTH] = n
        self._mm[HEADER_BYTES : HEADER_BYTES + n] = payload
        seq += 2
        hdr[_SEQ] = seq  # even again: the payload is complete
        self._seq = seq

    def read(self) -> bytes | None:
        """The latest complete payload, or None if nothing was ever written.

        Raises:
            TornRead: a write overlapped every attempt (the bound keeps a reader from spinning
                forever behind a writer that never pauses).
        """
        hdr = self._hdr
        mm = self._mm
        cap = self._cap
        for attempt in range(_ATTEMPTS):
            seq = hdr[_SEQ]
            if not seq & 1:
                if seq == 0:
                    return None
                n = hdr[_LENGTH]
                if n <= cap:
                    data = mm[HEADER_BYTES : HEADER_BYTES + n]
                    if hdr[_SEQ] == seq:
                        return data
            if attempt >= _SPINS:
                os.sched_yield()
        raise TornRead(self._name, _ATTEMPTS)

    @property
    def version(self) -> int:
        """Completed writes so far: a cheap check for "has it changed since I last read?"."""
        return int(self._hdr[_SEQ] >> 1)

    @property
    def capacity(self) -> int:
        """Largest payload the page holds, in bytes."""
        return int(self._cap)

    def __repr__(self) -> str:
        return f"StatePage({self._name!r}, capacity={self._cap})"
