"""The SPSC ring: ordering, wrap-around, full rings, stats, heartbeats and two real processes."""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import RingFull, SegmentError
from engine.ipc.protocol import RECORD, RECORD_SIZE, pack, unpack
from engine.ipc.ring import HEADER_BYTES, Ring, RingStats
from engine.ipc.segments import SHM_DIR, create_segment, unlink_segment


def rec(seq: int) -> bytes:
    """A record whose seq and aux both identify it."""
    return pack(1, seq=seq, aux=-seq, price=seq * 7)


def seqs(batch: bytes) -> list[int]:
    """The seq of every record in a batch."""
    return [fields[8] for fields in RECORD.iter_unpack(batch)]


@pytest.fixture
def ring(segment):
    """An 8-record ring, owned by the test."""
    r = Ring.create(segment, 8 * RECORD_SIZE)
    yield r
    r.close()


def test_capacity_rounds_down_to_a_power_of_two(segment):
    """A capacity of 100 records' worth of bytes gives a 64-record ring."""
    with Ring.create(segment, 100 * RECORD_SIZE + 10) as r:
        assert r.capacity == 64
        assert r.stats().capacity == 64


def test_capacity_below_one_record_is_refused(segment):
    """A ring that cannot hold one record is a ValueError, and nothing is created."""
    with pytest.raises(ValueError, match="64-byte"):
        Ring.create(segment, RECORD_SIZE - 1)
    assert not (SHM_DIR / segment).exists()


def test_records_come_out_in_order(ring):
    """Records pushed are popped oldest first, byte for byte."""
    for i in range(5):
        ring.push_nowait(rec(i))
    batch = ring.pop_batch()
    assert batch == b"".join(rec(i) for i in range(5))
    assert ring.pop_batch() == b""


def test_pop_batch_respects_max_records(ring):
    """pop_batch returns at most max_records and leaves the rest for the next call."""
    for i in range(6):
        ring.push_nowait(rec(i))
    assert seqs(ring.pop_batch(4)) == [0, 1, 2, 3]
    assert seqs(ring.pop_batch(4)) == [4, 5]


def test_pop_batch_rejects_a_non_positive_maximum(ring):
    """Asking for zero records is a ValueError."""
    with pytest.raises(ValueError, match="max_records"):
        ring.pop_batch(0)


def test_wrap_around_keeps_order_across_the_end_of_the_slots(ring):
    """Batches that straddle the last slot come out whole and in order, many laps over."""
    seq = 0
    expected = 0
    for lap in range(50):
        for _ in range(3 + lap % 6):
            ring.push_nowait(rec(seq))
            seq += 1
        got = seqs(ring.pop_batch())
        assert got == list(range(expected, seq))
        expected = seq
    assert ring.stats().pushed == seq


def test_push_nowait_raises_ring_full_and_writes_nothing(ring):
    """A full ring refuses a lossless push; the refused record never appears."""
    for i in range(8):
        ring.push_nowait(rec(i))
    with pytest.raises(RingFull, match="full"):
        ring.push_nowait(rec(99))
    assert seqs(ring.pop_batch()) == list(range(8))
    ring.push_nowait(rec(8))  # room again once the consumer read
    assert seqs(ring.pop_batch()) == [8]
    assert ring.stats().dropped == 0


def test_publish_drops_and_counts_when_full(ring):
    """A full ring drops lossy publishes, counts them, and keeps the records already queued."""
    assert all(ring.publish(rec(i)) for i in range(8))
    assert ring.publish(rec(8)) is False
    assert ring.publish(rec(9)) is False
    assert ring.stats().dropped == 2
    assert seqs(ring.pop_batch()) == list(range(8))
    assert ring.publish(rec(10)) is True
    assert seqs(ring.pop_batch()) == [10]


def test_push_many_writes_every_record_in_order_across_the_end(ring):
    """Blocks of records go in whole, wrapping past the last slot, and come out in order."""
    seq = 0
    for lap in range(30):
        n = 1 + lap % 8
        ring.push_many(b"".join(rec(seq + k) for k in range(n)))
        assert seqs(ring.pop_batch()) == list(range(seq, seq + n))
        seq += n
    assert ring.stats().pushed == seq


def test_push_many_is_all_or_nothing_when_the_ring_is_short_of_room(ring):
    """Five free slots and six records: RingFull, and none of the six appears."""
    for i in range(3):
        ring.push_nowait(rec(i))
    with pytest.raises(RingFull, match="no room for 6"):
        ring.push_many(b"".join(rec(100 + k) for k in range(6)))
    ring.push_many(b"".join(rec(3 + k) for k in range(5)))
    assert seqs(ring.pop_batch()) == list(range(8))


@pytest.mark.parametrize("size", [0, 63, 65, 130])
def test_push_many_wants_whole_records(ring, size):
    """A block that is not whole 64-byte records is a ValueError; nothing is written."""
    with pytest.raises(ValueError, match="64 bytes each"):
        ring.push_many(b"x" * size)
    assert ring.stats().pushed == 0


@pytest.mark.parametrize("size", [0, 63, 65, 128])
def test_wrong_record_length_is_a_value_error(ring, size):
    """Records must be exactly 64 bytes on every push path, full or not."""
    for push in (ring.push_nowait, ring.publish):
        with pytest.raises(ValueError, match="64 bytes"):
            push(b"x" * size)
    for i in range(8):
        ring.push_nowait(rec(i))
    with pytest.raises(ValueError, match="64 bytes"):
        ring.publish(b"x" * size)
    assert ring.stats() == RingStats(depth=8, capacity=8, peak=8, dropped=0, pushed=8)


def test_stats_report_depth_peak_drops_and_pushes(ring):
    """stats() follows depth, the deepest backlog, drops and the records ever pushed."""
    assert ring.stats() == RingStats(depth=0, capacity=8, peak=0, dropped=0, pushed=0)
    for i in range(5):
        ring.push_nowait(rec(i))
    assert ring.stats() == RingStats(depth=5, capacity=8, peak=5, dropped=0, pushed=5)
    ring.pop_batch()
    for i in range(9):
        ring.publish(rec(i))
    assert ring.stats() == RingStats(depth=8, capacity=8, peak=8, dropped=1, pushed=13)
    ring.pop_batch(2)
    assert ring.stats() == RingStats(depth=6, capacity=8, peak=8, dropped=1, pushed=13)


def test_stats_are_the_same_from_the_attached_side(ring):
    """A process that attached sees the owner's counters."""
    for i in range(3):
        ring.publish(rec(i))
    with Ring.attach(ring.name) as other:
        assert other.stats() == ring.stats()
        assert seqs(other.pop_batch()) == [0, 1, 2]
    assert ring.stats().depth == 0


def test_heartbeats_are_shared_and_start_at_zero(ring):
    """Each side's heartbeat is visible to the other and is 0 until it first beats."""
    with Ring.attach(ring.name) as ui:
        assert ring.producer_heartbeat_ns == 0
        assert ui.consumer_heartbeat_ns == 0
        ring.beat_producer(1_234)
        ui.beat_consumer(5_678)
        assert ui.producer_heartbeat_ns == 1_234
        assert ring.consumer_heartbeat_ns == 5_678


def test_attach_sees_records_pushed_before_it(ring):
    """A consumer attaching later reads what the producer already pushed."""
    ring.push_nowait(rec(42))
    with Ring.attach(ring.name) as consumer:
        assert unpack(consumer.pop_batch()).seq == 42


def test_attach_to_a_missing_segment_is_a_segment_error():
    """Attaching to a name that does not exist raises SegmentError naming it."""
    name = f"hft-test-{uuid.uuid4().hex}"
    with pytest.raises(SegmentError, match=name):
        Ring.attach(name)


def test_attach_to_a_segment_that_is_not_a_ring_is_refused(segment):
    """A segment without the ring's magic is refused on attach."""
    create_segment(segment, HEADER_BYTES + 8 * RECORD_SIZE).close()
    with pytest.raises(SegmentError, match="bad magic"):
        Ring.attach(segment)


def test_create_refuses_an_existing_segment(ring):
    """Creating a ring under a taken name raises SegmentError and leaves the first intact."""
    ring.push_nowait(rec(1))
    with pytest.raises(SegmentError, match="already exists"):
        Ring.create(ring.name, 8 * RECORD_SIZE)
    assert seqs(ring.pop_batch()) == [1]


def test_segment_is_owner_only_even_with_a_permissive_umask(segment):
    """The segment file is mode 0600 whatever the umask."""
    old = os.umask(0)
    try:
        with Ring.create(segment, 8 * RECORD_SIZE):
            mode = stat.S_IMODE((SHM_DIR / segment).stat().st_mode)
    finally:
        os.umask(old)
    assert mode == 0o600


def test_unlink_removes_the_segment_and_close_is_idempotent(segment):
    """Unlinking removes the name; close can be called twice; a second unlink is harmless."""
    r = Ring.create(segment, 8 * RECORD_SIZE)
    r.close()
    r.close()
    r.unlink()
    assert not (SHM_DIR / segment).exists()
    r.unlink()
    assert unlink_segment(segment) is False


CONSUMER_EXITS = """
import sys
from multiprocessing import resource_tracker
from engine.ipc.ring import Ring
r = Ring.attach(sys.argv[1])
sys.stdout.write(str(len(r.pop_batch()) // 64))
# Python 3.11's SharedMemory would have started a resource tracker that unlinks the segment
# shortly after this process exits; none may be running
sys.stdout.write(" tracker" if resource_tracker._resource_tracker._fd is not None else "")
# exits without close() or unlink(): the owner's segment must survive
"""


def test_a_consumer_exiting_does_not_remove_the_owners_segment(ring, python_child):
    """A consumer process that attaches and exits leaves the segment to its owner."""
    ring.push_nowait(rec(1))
    child = python_child(CONSUMER_EXITS, ring.name)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out == "1"
    assert (SHM_DIR / ring.name).exists()
    ring.push_nowait(rec(2))
    with Ring.attach(ring.name) as again:
        assert seqs(again.pop_batch()) == [2]


MILLION = 1_000_000

CONSUMER_CHECKS_ORDER = """
import json, sys, time
from engine.ipc.protocol import RECORD
from engine.ipc.ring import Ring
ring = Ring.attach(sys.argv[1])
n = int(sys.argv[2])
deadline = time.monotonic() + 120
expected = 0
bad = 0
idle = 0
while expected < n:
    batch = ring.pop_batch()
    if not batch:
        idle += 1
        if idle % 100_000 == 0 and time.monotonic() > deadline:
            break
        continue
    for f in RECORD.iter_unpack(batch):
        if f[8] != expected or f[9] != -expected or f[6] != expected * 7:
            bad += 1
        expected += 1
    ring.beat_consumer(expected)
json.dump({"received": expected, "bad": bad}, sys.stdout)
"""


@pytest.mark.integration
def test_a_million_records_cross_processes_with_none_lost(segment, python_child):
    """A million records through a small lossless ring arrive complete, intact and in order."""
    ring = Ring.create(segment, 1 << 16)  # 1024 slots: about a thousand laps, often full
    try:
        child = python_child(CONSUMER_CHECKS_ORDER, segment, str(MILLION))
        push = ring.push_nowait
        pack_record = RECORD.pack
        full = 0
        for i in range(MILLION):
            record = pack_record(1, 0, 0, 0, 0, 0, i * 7, 0, i, -i)
            while True:
                try:
                    push(record)
                    break
                except RingFull:
                    full += 1
                    if full % 10_000 == 0:
                        assert child.poll() is None, child.communicate()
                    os.sched_yield()  # let the consumer run if it shares this CPU
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        assert json.loads(out) == {"received": MILLION, "bad": 0}
        stats = ring.stats()
        assert stats.pushed == MILLION
        assert stats.depth == 0
        assert stats.dropped == 0
        assert ring.consumer_heartbeat_ns == MILLION
    finally:
        ring.close()


class RingModel:
    """What a ring of ``capacity`` records should do, as a bounded deque."""

    def __init__(self, capacity: int) -> None:
        self.items: deque[int] = deque()
        self.capacity = capacity
        self.dropped = 0
        self.pushed = 0
        self.peak = 0

    def full(self) -> bool:
        """No free slot."""
        return len(self.items) >= self.capacity

    def add(self, seq: int) -> None:
        """A record went in."""
        self.items.append(seq)
        self.pushed += 1


operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(1, 12)),
        st.tuples(st.just("publish"), st.integers(1, 12)),
        st.tuples(st.just("pop"), st.integers(1, 12)),
        st.tuples(st.just("many"), st.integers(1, 12)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(capacity_log2=st.integers(0, 4), ops=operations)
def test_push_and_pop_sequences_match_a_bounded_deque(capacity_log2, ops):
    """Any mix of pushes, publishes and pops behaves like a bounded FIFO with drop counting."""
    capacity = 1 << capacity_log2
    name = f"hft-test-{uuid.uuid4().hex}"
    ring = Ring.create(name, capacity * RECORD_SIZE)
    model = RingModel(capacity)
    seq = 0
    try:
        for op, count in ops:
            if op == "pop":
                got = seqs(ring.pop_batch(count))
                model.peak = max(model.peak, len(model.items))
                want = [model.items.popleft() for _ in range(min(count, len(model.items)))]
                assert got == want
                continue
            if op == "many":  # all or nothing
                block = b"".join(rec(seq + k) for k in range(count))
                if len(model.items) + count > model.capacity:
                    with pytest.raises(RingFull):
                        ring.push_many(block)
                else:
                    ring.push_many(block)
                    for k in range(count):
                        model.add(seq + k)
                seq += count
                op, count = "pop", 0  # nothing more to do for this step
            for _ in range(count):
                if op == "push":
                    if model.full():
                        with pytest.raises(RingFull):
                            ring.push_nowait(rec(seq))
                    else:
                        ring.push_nowait(rec(seq))
                        model.add(seq)
                else:
                    assert ring.publish(rec(seq)) is not model.full()
                    if model.full():
                        model.dropped += 1
                    else:
                        model.add(seq)
                seq += 1
            stats = ring.stats()
            assert stats.depth == len(model.items)
            assert stats.dropped == model.dropped
            assert stats.pushed == model.pushed
            assert stats.peak == max(model.peak, len(model.items))
    finally:
        ring.close()
        ring.unlink()
