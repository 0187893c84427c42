import gzip
import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest

from engine.oms.journal import (
    HEADER,
    FsyncPolicy,
    Journal,
    JournalCorrupt,
    JournalRecord,
    RecordKind,
    replay,
    replay_decoded,
)

REPO = Path(__file__).resolve().parents[3]
DAY_NS = 86_400 * 1_000_000_000
T0 = 1_700_000_000_000_000_000  # 2023-11-14 22:13:20 UTC


class SubmitOrder(msgspec.Struct, tag=True):
    """A command as the OMS would journal it."""

    order_id: int
    price_ticks: int
    size_lots: int


class OrderFilled(msgspec.Struct, tag=True):
    """An event as the OMS would journal it."""

    order_id: int
    size_lots: int


def payloads(records: Iterable[JournalRecord]) -> list[bytes]:
    """The payloads of ``records``, in order."""
    return [r.payload for r in records]


def test_round_trip_keeps_order_kind_timestamp_and_offset(tmp_path):
    """Records of several kinds come back in append order with their kind, timestamp and offset."""
    with Journal(tmp_path, "eng") as journal:
        offsets = [journal.append(i % 3, bytes([i]) * i, T0 + i) for i in range(20)]
    records = list(replay(tmp_path, "eng"))
    assert [(r.kind, r.ts_ns, r.payload, r.offset) for r in records] == [
        (i % 3, T0 + i, bytes([i]) * i, offsets[i]) for i in range(20)
    ]


def test_typed_round_trip_through_a_tagged_union(tmp_path):
    """Structs appended with append_struct decode back to the same structs through the union."""
    sent = [SubmitOrder(1, 100, 2), OrderFilled(1, 2), SubmitOrder(2, 99, 5)]
    with Journal(tmp_path, "eng") as journal:
        for i, message in enumerate(sent):
            kind = RecordKind.COMMAND if isinstance(message, SubmitOrder) else RecordKind.EVENT
            journal.append_struct(kind, message, T0 + i)
    decoder = msgspec.msgpack.Decoder(SubmitOrder | OrderFilled)
    got = list(replay_decoded(tmp_path, "eng", decoder))
    assert [message for _, message in got] == sent
    assert [record.kind for record, _ in got] == [1, 2, 1]


def test_directory_and_files_are_private(tmp_path):
    """The journal directory is created 0700 and its files are 0600."""
    directory = tmp_path / "journal"
    with Journal(directory, "eng") as journal:
        journal.append(1, b"x", T0)
        path = journal.path
    assert path is not None
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture
def fsync_calls(monkeypatch):
    """Record every os.fsync call while still forcing the data to disk."""
    calls: list[tuple[int, int]] = []
    real = os.fsync

    def counting(fd):
        calls.append((fd, threading.get_ident()))
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_always_policy_fsyncs_every_append(tmp_path, fsync_calls):
    """Under ALWAYS each append forces its record to disk."""
    journal = Journal(tmp_path, "eng", FsyncPolicy.ALWAYS)
    journal.append(1, b"first", T0)
    before = len(fsync_calls)
    for i in range(5):
        journal.append(1, b"x", T0 + i)
    assert len(fsync_calls) - before == 5
    journal.close()


def test_never_policy_leaves_fsync_to_close(tmp_path, fsync_calls):
    """Under NEVER appends do not fsync; close does once."""
    journal = Journal(tmp_path, "eng", FsyncPolicy.NEVER)
    journal.append(1, b"first", T0)
    before = len(fsync_calls)
    for i in range(5):
        journal.append(1, b"x", T0 + i)
    assert len(fsync_calls) == before
    journal.close()
    assert len(fsync_calls) == before + 1


def test_batch_policy_fsyncs_from_its_thread_within_the_interval(tmp_path, fsync_calls):
    """Under BATCH no append fsyncs on the caller's thread; the syncer covers them all soon."""
    journal = Journal(tmp_path, "eng", FsyncPolicy.BATCH, batch_ms=20)
    main = threading.get_ident()
    journal.append(1, b"x", T0)  # opens the file (and fsyncs its folder, on this thread)
    fsync_calls.clear()
    for i in range(1, 50):
        journal.append(1, b"x", T0 + i)
    deadline = time.monotonic() + 5
    while not fsync_calls and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fsync_calls, "the background fsync never came"
    assert main not in {ident for _, ident in fsync_calls}
    # 50 appends in a burst share a few fsyncs, not one each
    time.sleep(0.1)
    assert len(fsync_calls) < 10
    journal.flush()
    assert fsync_calls[-1][1] == main  # flush forces one now, on the caller's thread
    journal.close()
    assert len(list(replay(tmp_path, "eng"))) == 50
    assert not [t for t in threading.enumerate() if t.name.startswith("journal-sync-")]


def test_batch_policy_fsyncs_the_last_records_before_a_quiet_spell(tmp_path, fsync_calls):
    """Records appended just before nothing else happens still reach the disk on time."""
    journal = Journal(tmp_path, "eng", FsyncPolicy.BATCH, batch_ms=20)
    journal.append(1, b"first", T0)
    deadline = time.monotonic() + 5
    while not fsync_calls and time.monotonic() < deadline:
        time.sleep(0.005)
    seen = len(fsync_calls)
    journal.append(1, b"last", T0 + 1)  # within the interval of the first fsync
    deadline = time.monotonic() + 5
    while len(fsync_calls) == seen and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(fsync_calls) > seen, "the last record was left unsynced"
    journal.close()


def test_a_failed_background_fsync_is_raised_by_the_next_append(tmp_path, monkeypatch):
    """The disk refused the fsync: the next append says so once (its record is written)."""
    journal = Journal(tmp_path, "eng", FsyncPolicy.BATCH, batch_ms=1)
    journal.append(1, b"first", T0)
    syncer = journal._syncer
    assert syncer is not None
    real = os.fsync

    def failing(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing)
    syncer.mark()
    deadline = time.monotonic() + 5
    while syncer.error is None and time.monotonic() < deadline:
        time.sleep(0.005)
    monkeypatch.setattr(os, "fsync", real)
    with pytest.raises(OSError, match="Input/output error"):
        journal.append(1, b"second", T0 + 1)
    journal.append(1, b"third", T0 + 2)
    journal.close()
    assert payloads(replay(tmp_path, "eng")) == [b"first", b"second", b"third"]


@pytest.mark.parametrize("cut", [3, HEADER.size + 2])
def test_torn_tail_is_skipped_with_a_warning_and_appending_continues(tmp_path, caplog, cut):
    """A file cut inside its last record loses only that record; later appends replay cleanly."""
    with Journal(tmp_path, "eng") as journal:
        offsets = [journal.append(1, b"record-%d" % i, T0 + i) for i in range(5)]
        path = journal.path
    assert path is not None
    os.truncate(path, offsets[4] + cut)
    problems: list[JournalCorrupt] = []
    with caplog.at_level(logging.WARNING, logger="engine.oms.journal"):
        assert payloads(replay(tmp_path, "eng", problems)) == [b"record-%d" % i for i in range(4)]
    assert [(p.offset, p.torn) for p in problems] == [(offsets[4], True)]
    assert "torn record" in caplog.text
    with Journal(tmp_path, "eng") as journal:
        assert journal.append(1, b"after", T0 + 9) == offsets[4]
    problems.clear()
    expected = [b"record-%d" % i for i in range(4)] + [b"after"]
    assert payloads(replay(tmp_path, "eng", problems)) == expected
    assert problems == []


@pytest.mark.parametrize(("where", "reason"), [(0, "bad magic"), (5, "length"), (25, "checksum")])
def test_flipped_byte_reports_its_offset_and_later_records_replay(tmp_path, where, reason):
    """A corrupt record mid-file is reported with file and offset, and replay resumes after it."""
    with Journal(tmp_path, "eng") as journal:
        offsets = [journal.append(2, b"payload-%02d" % i, T0 + i) for i in range(10)]
        path = journal.path
    assert path is not None
    data = bytearray(path.read_bytes())
    data[offsets[4] + where] ^= 0x40
    path.write_bytes(bytes(data))
    problems: list[JournalCorrupt] = []
    got = payloads(replay(tmp_path, "eng", problems))
    assert got == [b"payload-%02d" % i for i in range(10) if i != 4]
    assert len(problems) == 1
    assert (problems[0].path, problems[0].offset, problems[0].torn) == (path, offsets[4], False)
    assert reason in problems[0].reason
    assert f"{path}:{offsets[4]}" in str(problems[0])


def test_rotation_at_utc_midnight_compresses_the_old_day(tmp_path):
    """The first record of a new UTC day closes and gzips the old file; replay reads both days."""
    midnight = (T0 // DAY_NS + 1) * DAY_NS
    with Journal(tmp_path, "eng") as journal:
        journal.append(1, b"late", midnight - 1)
        journal.append(1, b"later", midnight - 1)
        journal.append(1, b"next day", midnight)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["eng-20231114.journal.gz", "eng-20231115.journal"]
    gz = tmp_path / "eng-20231114.journal.gz"
    assert stat.S_IMODE(gz.stat().st_mode) == 0o600
    assert len(gzip.decompress(gz.read_bytes())) > 0
    problems: list[JournalCorrupt] = []
    assert payloads(replay(tmp_path, "eng", problems)) == [b"late", b"later", b"next day"]
    assert problems == []


def test_leftover_file_from_an_earlier_day_is_compressed_on_reopen(tmp_path):
    """A plain file left by a crash before rotation is compressed when a new day opens."""
    with Journal(tmp_path, "eng") as journal:
        journal.append(1, b"old", T0)
    with Journal(tmp_path, "eng") as journal:
        journal.append(1, b"new", T0 + DAY_NS)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "eng-20231114.journal.gz",
        "eng-20231115.journal",
    ]
    assert payloads(replay(tmp_path, "eng")) == [b"old", b"new"]


def test_a_clock_step_back_never_reopens_a_compressed_day(tmp_path):
    """Records stamped before the newest file go into the newest file, in append order."""
    with Journal(tmp_path, "eng") as journal:
        journal.append(1, b"a", T0)
        journal.append(1, b"b", T0 + DAY_NS)
        journal.append(1, b"c", T0)
    with Journal(tmp_path, "eng") as journal:
        journal.append(1, b"d", T0)
    assert payloads(replay(tmp_path, "eng")) == [b"a", b"b", b"c", b"d"]


def test_other_instances_are_not_replayed(tmp_path):
    """Replay reads only the named instance's files."""
    with Journal(tmp_path, "eng") as a, Journal(tmp_path, "eng-2") as b:
        a.append(1, b"mine", T0)
        b.append(1, b"theirs", T0)
    assert payloads(replay(tmp_path, "eng")) == [b"mine"]


def test_out_of_range_kind_is_refused(tmp_path):
    """A kind that does not fit the frame's byte is a ValueError, and nothing is written."""
    with Journal(tmp_path, "eng") as journal, pytest.raises(ValueError, match="kind 256"):
        journal.append(256, b"", T0)
    assert list(replay(tmp_path, "eng")) == []


CHILD = textwrap.dedent(
    """
    import sys
    from engine.oms.journal import FsyncPolicy, Journal
    journal = Journal(sys.argv[1], "eng", FsyncPolicy.NEVER)
    i = int(sys.argv[2])
    while True:
        journal.append(1, i.to_bytes(8, "little") * 40, 1_700_000_000_000_000_000 + i)
        i += 1
    """
)


@pytest.mark.integration
def test_killed_writer_leaves_a_gapless_prefix(tmp_path):
    """SIGKILL mid-append leaves a journal whose replay is 0..n-1 with no gap, across restarts."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = 0
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path), str(start)], env=env)
        path = tmp_path / "eng-20231114.journal"
        floor = path.stat().st_size if path.exists() else 0
        while not path.exists() or path.stat().st_size < floor + 200_000:
            assert child.poll() is None
            os.sched_yield()
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
        problems: list[JournalCorrupt] = []
        seen = [
            int.from_bytes(p[:8], "little") for p in payloads(replay(tmp_path, "eng", problems))
        ]
        assert seen == list(range(len(seen)))
        assert len(seen) > start
        assert all(p.torn for p in problems)
        start = len(seen)
