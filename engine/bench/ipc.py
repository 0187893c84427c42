"""The ``ipc`` benchmark: our shared-memory ring against mp.Queue, mp.Pipe and faster-fifo.

faster-fifo races when installed (``uv run --group bench``); otherwise its rows say it is missing.

Every repetition runs in two real processes: this one produces, a freshly started child consumes.
Records are 64 B (the :data:`~engine.ipc.protocol.RECORD` the engine sends its UI) and 256 B (a
RECORD followed by 192 zero bytes; the ring, whose slots are 64 B, carries it in four consecutive
slots written by one :meth:`~engine.ipc.ring.Ring.push_many`, and the consumer reassembles it);
the consumer decodes the RECORD of every one of them, as a UI would.
Metrics carry the size as a suffix (``throughput_64B``, ``latency_p99_256B``).

* ``throughput``: the producer sends a burst of records as fast as the transport accepts them
  (the ring's producer retries on ``RingFull``, the way the lossless command path does); the figure
  is records over the time from the first send to the last record decoded.
* ``latency_p50`` / ``latency_p99``: the producer sends at a paced 100,000 records/s and stamps
  each record with ``time.monotonic_ns()`` (a system-wide clock on Linux) as it sends it; the
  consumer subtracts that from its own clock when the record arrives. The ring's consumer polls
  without sleeping; faster-fifo's consumer takes batches with ``get_many`` (its fast path, blocking
  up to 50 ms); Queue and Pipe consumers block in ``get()`` / ``recv_bytes()`` as they are
  meant to be used. A Queue's feeder thread needs the GIL that the pacing producer holds, so its
  latency here is mostly the interpreter's 5 ms switch interval, as in any busy producer.

Producer and consumer are pinned to one CPU each when two are usable. Contestants are
interleaved, in a rotating order, after one warm-up run each.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import sys
import time
import uuid
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any, NamedTuple

from engine.bench.report import Result, SubjectRun, missing, summarize
from engine.errors import EngineError, RingFull
from engine.ipc.protocol import RECORD, RECORD_SIZE
from engine.ipc.ring import Ring

SUBJECT = "ipc"
OURS = "ring"
FIFO = "faster-fifo"
CONTESTANTS = (OURS, "mp.Queue", "mp.Pipe")
"""The contestants always there; :func:`contestants` adds faster-fifo when installed."""
SIZES = (64, 256)
"""Record sizes raced, in bytes."""
RATE = 100_000
"""Records per second in the latency runs."""
RING_BYTES = 1 << 20
"""The ring's size: the engine's default event ring (16,384 records)."""
POOL = 1024
"""Distinct records cycled through in throughput runs (packing is not what is measured)."""

#: fork where it exists: a child starts in milliseconds and re-imports nothing; the figures are
#: taken long after start-up, so how the consumer was started does not show in them
_CTX: ForkContext | SpawnContext = (
    multiprocessing.get_context("fork")
    if sys.platform == "linux"
    else multiprocessing.get_context("spawn")
)
_START_TIMEOUT_S = 60.0


class BenchFailed(EngineError):
    """A benchmark process died, hung or received the wrong records."""


class Plan(NamedTuple):
    """How much to measure."""

    throughput_records: int
    latency_records: int
    latency_skip: int
    """Records at the start of each latency run left out of the percentiles (cold caches)."""
    reps: int
    warmup_records: int


QUICK = Plan(
    throughput_records=50_000,
    latency_records=20_000,
    latency_skip=1_000,
    reps=3,
    warmup_records=5_000,
)
FULL = Plan(
    throughput_records=500_000,
    latency_records=100_000,
    latency_skip=1_000,
    reps=5,
    warmup_records=20_000,
)


# -- consumer (the child process) --------------------------------------------------------------


def _message(seq: int, stamp: int, size: int) -> bytes:
    """One record of ``size`` bytes: a RECORD carrying ``stamp`` and ``seq``, zero slots after."""
    return RECORD.pack(1, 0, 0, 0, 0, stamp, 0, 0, seq, 0) + bytes(size - RECORD_SIZE)


def _same(data: bytes) -> bytes:
    """faster-fifo's serialiser here: the records are bytes already."""
    return data


class _Batches:
    """Whole records out of a byte stream of 64-byte slots (a record of 256 B spans four)."""

    def __init__(self, recv: Callable[[], bytes], size: int) -> None:
        self.recv = recv
        self.size = size
        self.rest = b""

    def __call__(self) -> list[tuple[int, ...]]:
        data = self.recv()
        if not data:
            return []
        if self.size == RECORD_SIZE:
            return list(RECORD.iter_unpack(data))
        data = self.rest + data
        whole = len(data) - len(data) % self.size
        self.rest = data[whole:]
        unpack_from = RECORD.unpack_from
        return [unpack_from(data, offset) for offset in range(0, whole, self.size)]


def _batched_reader(contestant: str, recv: Callable[..., Any], size: int) -> Callable[[], Any]:
    """A function returning the next batch of decoded records (maybe none) for batched peers."""
    if contestant == OURS:
        return _Batches(recv, size)
    unpack_from = RECORD.unpack_from

    def fifo() -> list[tuple[int, ...]]:  # faster-fifo: its get_many, blocking briefly
        try:
            return [unpack_from(m) for m in recv(block=True, timeout=0.05)]
        except queue.Empty:
            return []

    return fifo


def _receive_burst(
    recv: Callable[..., Any], batches: Callable[[], Any] | None, n: int, deadline_ns: int
) -> int:
    """Decode ``n`` records; return the last one's seq."""
    unpack_from = RECORD.unpack_from
    last = -1
    if batches is None:
        for _ in range(n):
            last = unpack_from(recv())[8]
        return last
    count = idle = 0
    while count < n:
        batch = batches()
        if batch:
            last = batch[-1][8]
            count += len(batch)
        else:
            idle += 1
            if not idle & 0xFFFF and time.monotonic_ns() > deadline_ns:
                raise BenchFailed(f"consumer received {count} of {n} records before its deadline")
    return last


def _receive_paced(
    recv: Callable[..., Any], batches: Callable[[], Any] | None, n: int, deadline_ns: int
) -> array[int]:
    """One-way latency of each of ``n`` records, in ns."""
    unpack_from, now_ns = RECORD.unpack_from, time.monotonic_ns
    latency = array("q", bytes(8 * n))
    if batches is None:
        for i in range(n):
            record = recv()
            latency[i] = now_ns() - unpack_from(record)[5]
        return latency
    i = idle = 0
    while i < n:
        batch = batches()
        if batch:
            now = now_ns()
            for fields in batch:
                latency[i] = now - fields[5]
                i += 1
        else:
            idle += 1
            if not idle & 0xFFFF and now_ns() > deadline_ns:
                raise BenchFailed(f"consumer received {i} of {n} records before its deadline")
    return latency


def _consume(
    contestant: str,
    handle: Any,  # noqa: ANN401 - a ring name, a Queue or a Connection, by contestant
    size: int,
    paced: bool,
    n: int,
    ready: Event,
    results: Connection,
) -> None:
    """Child process: attach, say ready, receive ``n`` records, send back what was measured."""
    deadline_ns = time.monotonic_ns() + int(max(120.0, n / 10_000) * 1e9)
    ring = None
    batches: Callable[[], Any] | None = None
    if contestant == OURS:
        ring = Ring.attach(handle)
        recv: Callable[..., Any] = ring.pop_batch
        batches = _batched_reader(contestant, recv, size)
    elif contestant == FIFO:
        recv = handle.get_many
        batches = _batched_reader(contestant, recv, size)
    elif contestant == "mp.Queue":
        recv = handle.get
    else:
        recv = handle.recv_bytes
    try:
        ready.set()
        if paced:
            latency = _receive_paced(recv, batches, n, deadline_ns)
            results.send(latency.tobytes())
        else:
            last = _receive_burst(recv, batches, n, deadline_ns)
            done_ns = time.monotonic_ns()
            results.send((done_ns, last))
    finally:
        if ring is not None:
            ring.close()


# -- producer (this process) -------------------------------------------------------------------


def _push_when_free(ring: Ring, record: bytes, child: BaseProcess) -> None:
    """The slow path of a lossless push: yield the CPU and retry until the consumer frees room."""
    push = ring.push_nowait if len(record) == RECORD_SIZE else ring.push_many
    tries = 0
    while True:
        try:
            push(record)
        except RingFull:
            tries += 1
            if not tries & 0xFFF and not child.is_alive():
                raise BenchFailed("the ring's consumer died") from None
            os.sched_yield()
        else:
            return


def _push_ring(ring: Ring, message: bytes, child: BaseProcess) -> None:
    """A 64 B record is one slot; a longer one fills consecutive slots in one ``push_many``."""
    try:
        if len(message) == RECORD_SIZE:
            ring.push_nowait(message)
        else:
            ring.push_many(message)
    except RingFull:
        _push_when_free(ring, message, child)


def _burst(send: Callable[[bytes], None], n: int, size: int) -> None:
    pool = [_message(i, 0, size) for i in range(POOL)]
    for i in range(n):
        send(pool[i & (POOL - 1)])


def _burst_ring(ring: Ring, n: int, child: BaseProcess, size: int) -> None:
    pool = [_message(i, 0, size) for i in range(POOL)]
    push = ring.push_nowait
    if size != RECORD_SIZE:
        for i in range(n):
            _push_ring(ring, pool[i & (POOL - 1)], child)
        return
    for i in range(n):
        record = pool[i & (POOL - 1)]
        try:
            push(record)
        except RingFull:
            _push_when_free(ring, record, child)


def _paced(send: Callable[[bytes], None], n: int, size: int) -> None:
    now_ns = time.monotonic_ns
    interval = 1_000_000_000 // RATE
    due = now_ns()
    for i in range(n):
        due += interval
        while now_ns() < due:
            pass
        send(_message(i, now_ns(), size))


def _paced_ring(ring: Ring, n: int, child: BaseProcess, size: int) -> None:
    now_ns = time.monotonic_ns
    interval = 1_000_000_000 // RATE
    due = now_ns()
    for i in range(n):
        due += interval
        while now_ns() < due:
            pass
        _push_ring(ring, _message(i, now_ns(), size), child)


def cpu_pair() -> tuple[int, int] | None:
    """The two CPUs producer and consumer are pinned to, or None when fewer than two are usable."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    usable = sorted(os.sched_getaffinity(0))
    return (usable[0], usable[1]) if len(usable) >= 2 else None


@contextmanager
def _consumer(
    contestant: str, handle: object, size: int, paced: bool, n: int
) -> Iterator[tuple[BaseProcess, Connection]]:
    """Start the consuming child and wait until it is ready; reap it afterwards."""
    results_r, results_w = _CTX.Pipe(duplex=False)
    ready = _CTX.Event()
    child = _CTX.Process(
        target=_consume,
        args=(contestant, handle, size, paced, n, ready, results_w),
        name=f"bench-ipc-{contestant}",
        daemon=True,
    )
    # Everything this process holds goes to the collector's permanent generation while the
    # child forks: the child's collections then never walk (and copy-on-write fault in) the
    # parent's objects, a 20 ms pause here that no consumer would meet in the UI process.
    gc.freeze()
    try:
        child.start()
    finally:
        gc.unfreeze()
    results_w.close()
    cpus = cpu_pair()
    original = os.sched_getaffinity(0) if cpus else set()
    try:
        if cpus and child.pid:  # one core each, so neither waits for the other to be scheduled
            os.sched_setaffinity(child.pid, {cpus[1]})
            os.sched_setaffinity(0, {cpus[0]})
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not ready.wait(0.05):
            if not child.is_alive():
                raise BenchFailed(f"{contestant} consumer exited with code {child.exitcode}")
            if time.monotonic() > deadline:
                raise BenchFailed(f"{contestant} consumer did not start in {_START_TIMEOUT_S} s")
        yield child, results_r
    finally:
        if cpus:
            os.sched_setaffinity(0, original)
        child.join(10)
        if child.is_alive():
            child.terminate()
            child.join()
        results_r.close()


def _collect(contestant: str, child: BaseProcess, results: Connection, n: int) -> Any:  # noqa: ANN401
    """The child's answer (bytes for latency runs, a tuple for throughput runs)."""
    timeout = max(120.0, n / 10_000)
    if not results.poll(timeout):
        raise BenchFailed(f"{contestant} consumer sent no result in {timeout:.0f} s")
    try:
        return results.recv()
    except EOFError:
        raise BenchFailed(f"{contestant} consumer exited with code {child.exitcode}") from None


def _run_once(contestant: str, paced: bool, n: int, size: int) -> Any:  # noqa: ANN401
    """One repetition: start a consumer, produce ``n`` records, return its answer."""
    if contestant == OURS:
        ring = Ring.create(f"hft-{os.getuid()}-bench-{uuid.uuid4().hex[:12]}", RING_BYTES)
        try:
            with _consumer(contestant, ring.name, size, paced, n) as (child, results):
                start = time.monotonic_ns()
                if paced:
                    _paced_ring(ring, n, child, size)
                else:
                    _burst_ring(ring, n, child, size)
                return start, _collect(contestant, child, results, n)
        finally:
            ring.close()
            ring.unlink()
    if contestant == FIFO:
        from faster_fifo import Queue as FasterQueue  # type: ignore[import-not-found, unused-ignore]

        fifo = FasterQueue(max_size_bytes=RING_BYTES, loads=_same, dumps=_same)
        try:
            with _consumer(contestant, fifo, size, paced, n) as (child, results):
                start = time.monotonic_ns()
                (_paced if paced else _burst)(fifo.put, n, size)
                return start, _collect(contestant, child, results, n)
        finally:
            fifo.close()
    if contestant == "mp.Queue":
        queue_: Queue[bytes] = _CTX.Queue()
        try:
            with _consumer(contestant, queue_, size, paced, n) as (child, results):
                start = time.monotonic_ns()
                (_paced if paced else _burst)(queue_.put, n, size)
                return start, _collect(contestant, child, results, n)
        finally:
            queue_.close()
            queue_.join_thread()
    receiver, sender = _CTX.Pipe(duplex=False)
    try:
        with _consumer(contestant, receiver, size, paced, n) as (child, results):
            receiver.close()  # the child's copy is the only reader now
            start = time.monotonic_ns()
            (_paced if paced else _burst)(sender.send_bytes, n, size)
            return start, _collect(contestant, child, results, n)
    finally:
        sender.close()
        receiver.close()


def measure_throughput(contestant: str, n: int, size: int = RECORD_SIZE) -> float:
    """Records per second for one burst of ``n`` records of ``size`` bytes.

    Raises:
        BenchFailed: the consumer died, hung, or did not end on the last record sent.
    """
    start, (done_ns, last) = _run_once(contestant, paced=False, n=n, size=size)
    if last != (n - 1) & (POOL - 1):
        raise BenchFailed(f"{contestant}: last record seq {last}, expected {(n - 1) % POOL}")
    return float(n * 1e9 / (done_ns - start))


def measure_latency(
    contestant: str, n: int, skip: int, size: int = RECORD_SIZE
) -> tuple[float, float]:
    """One-way latency p50 and p99 in microseconds for ``n`` records at :data:`RATE`.

    Raises:
        BenchFailed: the consumer died or hung.
    """
    _, raw = _run_once(contestant, paced=True, n=n, size=size)
    latency = array("q")
    latency.frombytes(raw)
    ordered = sorted(latency[skip:])
    last = len(ordered) - 1
    return ordered[round(0.50 * last)] / 1e3, ordered[round(0.99 * last)] / 1e3


def platform_pauses(cpu: int | None, seconds: float = 0.25) -> tuple[int, float]:
    """How often this machine stops a spinning process: pauses over 20 us, and the longest in us.

    A latency percentile cannot beat the platform it runs on; virtual machines in particular
    take the CPU away every few milliseconds. This spins on ``cpu`` (the consumer's) and counts.
    """
    original = os.sched_getaffinity(0) if cpu is not None else set()
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        now_ns = time.monotonic_ns
        end = now_ns() + int(seconds * 1e9)
        previous = now_ns()
        pauses = 0
        longest = 0
        while previous < end:
            t = now_ns()
            gap = t - previous
            if gap > 20_000:
                pauses += 1
                longest = max(longest, gap)
            previous = t
    finally:
        if cpu is not None:
            os.sched_setaffinity(0, original)
    return pauses, longest / 1e3


def _say(message: str) -> None:
    os.write(2, f"bench ipc: {message}\n".encode())


def contestants() -> tuple[str, ...]:
    """Ours, Queue, Pipe, and faster-fifo when it is installed (``uv run --group bench``)."""
    try:
        import faster_fifo  # type: ignore[import-not-found, unused-ignore]  # noqa: F401
    except ImportError:
        return CONTESTANTS
    return (*CONTESTANTS, FIFO)


def run(quick: bool, plan: Plan | None = None) -> SubjectRun:
    """Measure every contestant at each record size; ``plan`` overrides the sizes ``quick`` picks.

    Raises:
        BenchFailed: a process died, hung or received the wrong records.
    """
    plan = plan or (QUICK if quick else FULL)
    cpus = cpu_pair()
    pinning = f"producer on CPU {cpus[0]}, consumer on CPU {cpus[1]}" if cpus else "no pinning"
    racing = contestants()
    keys = [(c, size) for size in SIZES for c in racing]
    throughput: dict[tuple[str, int], list[float]] = {k: [] for k in keys}
    p50: dict[tuple[str, int], list[float]] = {k: [] for k in keys}
    p99: dict[tuple[str, int], list[float]] = {k: [] for k in keys}
    pauses, longest = platform_pauses(cpus[1] if cpus else None)
    _say("warming up")
    for contestant in racing:
        measure_throughput(contestant, plan.warmup_records)
        measure_latency(contestant, plan.warmup_records, 0)
    for rep in range(plan.reps):
        _say(f"repetition {rep + 1} of {plan.reps}")
        shift = rep % len(racing)
        order: Sequence[str] = racing[shift:] + racing[:shift]
        for size in SIZES:
            for contestant in order:
                throughput[contestant, size].append(
                    measure_throughput(contestant, plan.throughput_records, size)
                )
            for contestant in order:
                low, high = measure_latency(
                    contestant, plan.latency_records, plan.latency_skip, size
                )
                p50[contestant, size].append(low)
                p99[contestant, size].append(high)
    rows: list[Result] = []
    for contestant, size in keys:
        tag = f"_{size}B"
        rows.append(
            summarize(
                SUBJECT, contestant, "throughput" + tag, "records/s", throughput[contestant, size]
            )
        )
        rows.append(
            summarize(SUBJECT, contestant, "latency_p50" + tag, "us", p50[contestant, size])
        )
        rows.append(
            summarize(SUBJECT, contestant, "latency_p99" + tag, "us", p99[contestant, size])
        )
    if FIFO not in racing:
        reason = "not installed; uv run --group bench"
        for size in SIZES:
            for metric, unit in (("throughput", "records/s"), ("latency_p50", "us"),
                                 ("latency_p99", "us")):  # fmt: skip
                rows.append(missing(SUBJECT, FIFO, f"{metric}_{size}B", unit, reason))
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"records of {' and '.join(f'{s} B' for s in SIZES)} between two processes (the "
            f"consumer decodes each; the ring carries a 256 B record as four 64 B slots); "
            f"throughput: bursts of {plan.throughput_records:,} records, ring of "
            f"{RING_BYTES // RECORD.size:,} slots, faster-fifo of {RING_BYTES:,} bytes; latency: "
            f"{plan.latency_records:,} records paced at {RATE:,}/s, first {plan.latency_skip:,} "
            f"excluded, ring consumer polling, faster-fifo consumer in get_many, Queue/Pipe "
            f"consumers blocking; {pinning}; a bare spinning loop on the consumer's CPU was "
            f"paused {pauses} times over 20 us in 0.25 s (longest {longest:.0f} us); "
            f"{plan.reps} repetitions interleaved after a warm-up"
        ),
        results=rows,
    )
