"""A single-producer single-consumer ring of 64-byte records in one shared-memory segment.

The engine -> UI event ring is lossy (:meth:`Ring.publish` drops and counts when the UI lags, so the
engine never waits); the UI -> engine command ring is lossless (:meth:`Ring.push_nowait` raises
:class:`~engine.errors.RingFull` and the sender retries). Both directions use the same layout::

    line 0  magic | layout version | record size | capacity (records) | creator pid
    line 1  write index | dropped | producer heartbeat ns        written by the producer only
    line 2  read index | peak depth | consumer heartbeat ns      written by the consumer only
    line 3  reserved
    data    capacity x 64-byte records; record i lives in slot i & (capacity - 1)

Indices are free-running 64-bit counters (``write - read`` is the depth), each on its own cache line
so producer and consumer do not bounce one line between cores.

Memory ordering. The producer copies a record into its slot and then stores the write index; the
consumer loads the write index, copies the records out, then stores the read index. This is correct
without explicit fences because (a) each index is an aligned 8-byte word read and written through a
``memoryview`` cast to ``Q``, which CPython compiles to a single 8-byte load or store (atomic on
x86-64 and aarch64), and (b) x86-64 is TSO: stores become visible in program order and loads are not
reordered with other loads or with later stores. On a weakly ordered CPU (ARM) the record copy could
become visible after the index; this module assumes x86-64.

Only one producer and one consumer may use a ring at a time (one engine, one attached UI); each side
keeps its own index in the object and trusts nobody else to move it.
"""

from __future__ import annotations

import mmap
import os

import msgspec

from engine.errors import RingFull, SegmentError
from engine.ipc.protocol import RECORD_SIZE
from engine.ipc.segments import MappedSegment, attach_segment, create_segment

MAGIC = int.from_bytes(b"hftring\x00", "little")
"""First word of every ring segment."""
LAYOUT_VERSION = 1
"""Bumped whenever the header or slot layout changes; attach refuses other versions."""
HEADER_BYTES = 256
"""Four 64-byte cache lines before the first slot."""

# header words (8 bytes each) in the ``Q`` view
_MAGIC, _VERSION, _RECORD_SIZE, _CAPACITY, _CREATOR = 0, 1, 2, 3, 4
_WRITE, _DROPPED, _PRODUCER_BEAT = 8, 9, 10
_READ, _PEAK, _CONSUMER_BEAT = 16, 17, 18


class RingStats(msgspec.Struct, frozen=True):
    """A snapshot of one ring's counters, as the status bar and ``/metrics`` show them."""

    depth: int
    """Records written and not yet read."""
    capacity: int
    """Slots in the ring (records)."""
    peak: int
    """Deepest backlog seen so far (records)."""
    dropped: int
    """Records the producer discarded because the ring was full (lossy use)."""
    pushed: int
    """Records ever written to the ring."""


def _capacity_records(capacity_bytes: int) -> int:
    records = capacity_bytes // RECORD_SIZE
    if records < 1:
        raise ValueError(
            f"ring capacity must hold one {RECORD_SIZE}-byte record, got {capacity_bytes}"
        )
    return 1 << (records.bit_length() - 1)


class Ring(MappedSegment):
    """SPSC ring of fixed 64-byte records in one shared-memory segment.

    Build one with :meth:`create` (the owner) or :meth:`attach` (the other side). Records are
    exactly :data:`~engine.ipc.protocol.RECORD_SIZE` bytes, usually made by
    :func:`engine.ipc.protocol.pack`.
    """

    def __init__(self, name: str, mem: mmap.mmap) -> None:
        super().__init__(name, mem, HEADER_BYTES)
        header = self._hdr
        self._cap = header[_CAPACITY]
        self._mask = self._cap - 1
        # each side's own counters, loaded once; the peer never writes them
        self._w = header[_WRITE]
        self._dropped = header[_DROPPED]
        self._r_seen = header[_READ]  # producer's last look at the read index
        self._r = header[_READ]
        self._peak = header[_PEAK]

    @classmethod
    def create(cls, name: str, capacity_bytes: int) -> Ring:
        """Create the segment (owner-only, 0600) and an empty ring in it.

        Args:
            name: segment name, e.g. ``segment_name(instance, "events")``.
            capacity_bytes: room for records; the capacity is ``capacity_bytes // 64`` rounded
                down to a power of two.

        Raises:
            SegmentError: the segment already exists or cannot be created.
            ValueError: ``capacity_bytes`` is smaller than one record, or the name is invalid.
        """
        capacity = _capacity_records(capacity_bytes)
        mem = create_segment(name, HEADER_BYTES + capacity * RECORD_SIZE)
        header = memoryview(mem)[:HEADER_BYTES].cast("Q")
        header[_VERSION] = LAYOUT_VERSION
        header[_RECORD_SIZE] = RECORD_SIZE
        header[_CAPACITY] = capacity
        header[_CREATOR] = os.getpid()
        header[_MAGIC] = MAGIC  # last: an attacher seeing the magic sees a complete header
        header.release()
        return cls(name, mem)

    @classmethod
    def attach(cls, name: str) -> Ring:
        """Map an existing ring created by :meth:`create`.

        Raises:
            SegmentError: the segment is missing, foreign, truncated, or not a ring of this layout.
        """
        mem = attach_segment(name, HEADER_BYTES)
        header = memoryview(mem)[:HEADER_BYTES].cast("Q")
        try:
            magic, version = header[_MAGIC], header[_VERSION]
            record_size, capacity = header[_RECORD_SIZE], header[_CAPACITY]
        finally:
            header.release()
        problem = ""
        if magic != MAGIC:
            problem = "is not a ring (bad magic)"
        elif version != LAYOUT_VERSION:
            problem = f"has layout version {version}, expected {LAYOUT_VERSION}"
        elif record_size != RECORD_SIZE:
            problem = f"holds {record_size}-byte records, expected {RECORD_SIZE}"
        elif capacity < 1 or capacity & (capacity - 1):
            problem = f"has capacity {capacity}, not a power of two"
        elif len(mem) < HEADER_BYTES + capacity * RECORD_SIZE:
            problem = f"is {len(mem)} bytes, too small for {capacity} records"
        if problem:
            mem.close()
            raise SegmentError(f"shared-memory segment {name} {problem}")
        return cls(name, mem)

    # -- producer ------------------------------------------------------------------------------
    # push_nowait and publish repeat the same few lines on purpose: a shared helper would cost a
    # Python call per record on the hottest path in the engine.

    def push_nowait(self, record: bytes) -> None:
        """Append one record, or refuse without waiting (lossless use).

        Raises:
            RingFull: no free slot; nothing was written, retry later.
            ValueError: the record is not exactly 64 bytes.
        """
        w = self._w
        if w - self._r_seen >= self._cap:
            self._r_seen = self._hdr[_READ]
            if w - self._r_seen >= self._cap:
                raise RingFull(f"ring {self._name} is full ({self._cap} records)")
        offset = HEADER_BYTES + (w & self._mask) * RECORD_SIZE
        try:
            self._mm[offset : offset + RECORD_SIZE] = record
        except IndexError:
            raise ValueError(
                f"ring {self._name}: a record is {RECORD_SIZE} bytes, got {len(record)}"
            ) from None
        w += 1
        self._w = w
        self._hdr[_WRITE] = w  # publish after the record is in place

    def push_many(self, records: bytes) -> None:
        """Append several records at once (lossless use): all of them, or none.

        ``records`` is whole 64-byte records back to back (several records, or one message that
        spans several slots); they go in with one copy (two when they wrap) and one store of the
        write index, so the consumer sees all of them or none.

        Raises:
            RingFull: fewer free slots than records; nothing was written, retry later.
            ValueError: the length is not a positive multiple of 64 bytes.
        """
        n, odd = divmod(len(records), RECORD_SIZE)
        if odd or not n:
            raise ValueError(
                f"ring {self._name}: records are {RECORD_SIZE} bytes each, got {len(records)} bytes"
            )
        w = self._w
        if w + n - self._r_seen > self._cap:
            self._r_seen = self._hdr[_READ]
            if w + n - self._r_seen > self._cap:
                raise RingFull(f"ring {self._name} has no room for {n} records ({self._cap})")
        start = w & self._mask
        end = start + n
        mm = self._mm
        if end <= self._cap:
            mm[HEADER_BYTES + start * RECORD_SIZE : HEADER_BYTES + end * RECORD_SIZE] = records
        else:  # wraps: the tail of the slots, then the head
            split = (self._cap - start) * RECORD_SIZE
            mm[HEADER_BYTES + start * RECORD_SIZE : HEADER_BYTES + self._cap * RECORD_SIZE] = (
                records[:split]
            )
            mm[HEADER_BYTES : HEADER_BYTES + (end - self._cap) * RECORD_SIZE] = records[split:]
        w += n
        self._w = w
        self._hdr[_WRITE] = w  # publish after every record is in place

    def publish(self, record: bytes) -> bool:
        """Append one record, or drop it and count the drop when the ring is full (lossy use).

        Returns:
            True if the record was written, False if it was dropped.

        Raises:
            ValueError: the record is not exactly 64 bytes.
        """
        w = self._w
        if w - self._r_seen >= self._cap:
            self._r_seen = self._hdr[_READ]
            if w - self._r_seen >= self._cap:
                if len(record) != RECORD_SIZE:
                    raise ValueError(
                        f"ring {self._name}: a record is {RECORD_SIZE} bytes, got {len(record)}"
                    )
                self._dropped += 1
                self._hdr[_DROPPED] = self._dropped
                return False
        offset = HEADER_BYTES + (w & self._mask) * RECORD_SIZE
        try:
            self._mm[offset : offset + RECORD_SIZE] = record
        except IndexError:
            raise ValueError(
                f"ring {self._name}: a record is {RECORD_SIZE} bytes, got {len(record)}"
            ) from None
        w += 1
        self._w = w
        self._hdr[_WRITE] = w
        return True

    def beat_producer(self, now_ns: int) -> None:
        """Stamp the producer's liveness (any clock both sides agree on, in ns)."""
        self._hdr[_PRODUCER_BEAT] = now_ns

    # -- consumer ------------------------------------------------------------------------------

    def pop_batch(self, max_records: int = 4096) -> bytes:
        """Take up to ``max_records`` records, oldest first, without waiting.

        Returns:
            The records concatenated (a multiple of 64 bytes; decode with
            ``RECORD.iter_unpack``), or ``b""`` when the ring is empty.

        Raises:
            ValueError: ``max_records`` is below 1.
            SegmentError: the write index is beyond what the ring can hold (corrupt segment).
        """
        if max_records < 1:
            raise ValueError(f"max_records must be at least 1, got {max_records}")
        r = self._r
        hdr = self._hdr
        n = hdr[_WRITE] - r
        if n <= 0:
            return b""
        if n > self._peak:
            if n > self._cap:
                raise SegmentError(
                    f"ring {self._name} is corrupt: {n} records pending, capacity {self._cap}"
                )
            self._peak = n
            hdr[_PEAK] = n
        if n > max_records:
            n = max_records
        start = r & self._mask
        end = start + n
        mm = self._mm
        if end <= self._cap:
            data = mm[HEADER_BYTES + start * RECORD_SIZE : HEADER_BYTES + end * RECORD_SIZE]
        else:  # wraps: the tail of the slots, then the head
            data = mm[HEADER_BYTES + start * RECORD_SIZE : HEADER_BYTES + self._cap * RECORD_SIZE]
            data += mm[HEADER_BYTES : HEADER_BYTES + (end - self._cap) * RECORD_SIZE]
        r += n
        self._r = r
        hdr[_READ] = r  # release the slots after copying them out
        return data

    def beat_consumer(self, now_ns: int) -> None:
        """Stamp the consumer's liveness (any clock both sides agree on, in ns)."""
        self._hdr[_CONSUMER_BEAT] = now_ns

    # -- either side ---------------------------------------------------------------------------

    def stats(self) -> RingStats:
        """The ring's counters now, read from shared memory (valid from either side)."""
        hdr = self._hdr
        pushed = hdr[_WRITE]
        depth = min(max(pushed - hdr[_READ], 0), self._cap)
        return RingStats(
            depth=depth,
            capacity=self._cap,
            peak=max(hdr[_PEAK], depth),
            dropped=hdr[_DROPPED],
            pushed=pushed,
        )

    @property
    def producer_heartbeat_ns(self) -> int:
        """Last producer heartbeat, 0 if it never beat."""
        return int(self._hdr[_PRODUCER_BEAT])

    @property
    def consumer_heartbeat_ns(self) -> int:
        """Last consumer heartbeat, 0 if it never beat."""
        return int(self._hdr[_CONSUMER_BEAT])

    @property
    def capacity(self) -> int:
        """Slots in the ring, in records."""
        return int(self._cap)

    def __repr__(self) -> str:
        return f"Ring({self._name!r}, capacity={self._cap})"
