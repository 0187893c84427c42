"""Append-only, checksummed order journal of every command and event, replayed on start.

Each record is one frame, little-endian::

    magic u16 | version u8 | kind u8 | length u32 | ts_ns i64 | crc u32 | payload[length]

The checksum is ``zlib.crc32`` over the first 16 header bytes and the payload, so a flipped bit in
the kind, length or timestamp is caught as surely as one in the payload. CRC-32 is in the standard
library, runs in C at several GB/s and detects every burst error up to 32 bits; CRC-32C would be
no stronger against torn writes and would need a dependency.

Files are ``<dir>/<instance>-YYYYMMDD.journal``, named for the UTC day of the record timestamp. A
file's day never moves backwards: a record stamped earlier than the open file (the clock stepped
back) goes into the open file. When the day changes the old file is fsynced and compressed to
``.journal.gz`` atomically (temp file, fsync, rename, then the original is removed), so at every
instant each record is in at least one complete file.

Durability (``FsyncPolicy``): ``ALWAYS`` fsyncs inside every ``append``, so a returned offset
survives a power cut, at the price of one disk flush per record. ``BATCH`` has a thread of its own
(:class:`~engine.oms.syncer.BackgroundSync`) fsync each record within ``batch_ms`` of its append,
and ``flush()``/``close()`` fsync at once: a power cut can lose the last ``batch_ms`` of records,
and ``append`` never waits for the disk. ``NEVER`` leaves flushing to the OS (records survive a
process crash, not a power cut) and fsyncs only on rotation and close.
Every policy writes each frame with one ``os.write``, so a killed process loses nothing it appended.
"""

from __future__ import annotations

import enum
import gzip
import logging
import os
import re
import struct
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import msgspec

from engine.errors import EngineError
from engine.oms.syncer import BackgroundSync

log = logging.getLogger("engine.oms.journal")

T = TypeVar("T")

MAGIC = 0x4A4E
"""Frame marker, ``b"NJ"`` on disk; replay resynchronises on it after a corrupt record."""
VERSION = 1
"""Frame layout version."""
HEADER = struct.Struct("<HBBIqI")
"""magic, version, kind, payload length, ts_ns, crc32: 20 bytes."""
MAX_PAYLOAD = 16 * 1024 * 1024
"""A longer length field is impossible and marks the record as corrupt."""

_MAGIC_BYTES = struct.pack("<H", MAGIC)
_NS_PER_DAY = 86_400 * 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RecordKind(enum.IntEnum):
    """What a record holds; ``append`` accepts any integer 0-255, these are the engine's."""

    COMMAND = 1
    """A command the engine accepted (submit, cancel, kill ...)."""
    EVENT = 2
    """An event that changed an order or position (accepted, filled, canceled ...)."""


class FsyncPolicy(enum.Enum):
    """When appended records are forced to disk; see the module docstring for the trade-off."""

    ALWAYS = "always"
    """fsync inside every append."""
    BATCH = "batch"
    """fsync at most every ``batch_ms`` and on ``flush()``."""
    NEVER = "never"
    """The OS decides; fsync only on rotation and close."""


class JournalCorrupt(EngineError):
    """A journal record could not be trusted; replay reports it and skips it, never raises it."""

    def __init__(self, path: Path, offset: int, reason: str, torn: bool = False) -> None:
        self.path = path
        """The file holding the bad bytes."""
        self.offset = offset
        """Byte offset of the first bad byte in the (uncompressed) file."""
        self.reason = reason
        """What was wrong: bad magic, bad checksum, impossible length, torn record."""
        self.torn = torn
        """True when the file ends inside a record (a power cut mid-write)."""
        super().__init__(f"{path}:{offset}: {reason}")


class JournalRecord(msgspec.Struct, frozen=True):
    """One record read back from the journal."""

    kind: int
    """The record kind given to ``append`` (see ``RecordKind``)."""
    ts_ns: int
    """The timestamp given to ``append``, nanoseconds since the epoch."""
    payload: bytes
    """The bytes given to ``append``."""
    path: str
    """The file the record came from."""
    offset: int
    """Byte offset of the frame in the uncompressed file, as returned by ``append``."""


def _frame(kind: int, payload: bytes, ts_ns: int) -> bytes:
    head = HEADER.pack(MAGIC, VERSION, kind, len(payload), ts_ns, 0)[:16]
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + crc.to_bytes(4, "little") + payload


def _valid_at(buf: bytes, pos: int) -> int:
    """Return the end of a valid frame starting at ``pos``, or -1 (0 when cut off at EOF)."""
    if len(buf) - pos < HEADER.size:
        return 0
    magic, version, _kind, length, _ts, crc = HEADER.unpack_from(buf, pos)
    if magic != MAGIC or version != VERSION or length > MAX_PAYLOAD:
        return -1
    end = pos + HEADER.size + length
    if end > len(buf):
        return 0
    got = zlib.crc32(buf[pos + HEADER.size : end], zlib.crc32(buf[pos : pos + 16]))
    return end if got == crc else -1


def _resync(buf: bytes, pos: int) -> int:
    """Return the offset of the next valid frame after ``pos``, or -1 when there is none."""
    pos = buf.find(_MAGIC_BYTES, pos + 1)
    while pos != -1:
        if _valid_at(buf, pos) > 0:
            return pos
        pos = buf.find(_MAGIC_BYTES, pos + 1)
    return -1


def _reason(buf: bytes, pos: int) -> str:
    magic, version, _kind, length, _ts, _crc = HEADER.unpack_from(buf, pos)
    if magic != MAGIC:
        return "bad magic"
    if version != VERSION:
        return f"unknown version {version}"
    if length > MAX_PAYLOAD:
        return f"impossible length {length}"
    return "bad checksum" if pos + HEADER.size + length <= len(buf) else "impossible length"


def _scan(buf: bytes, path: Path) -> Iterator[tuple[int, int] | JournalCorrupt]:
    """Yield ``(start, end)`` of each valid frame and a ``JournalCorrupt`` for each bad stretch."""
    pos = 0
    while pos < len(buf):
        end = _valid_at(buf, pos)
        if end > 0:
            yield pos, end
            pos = end
            continue
        nxt = _resync(buf, pos)
        if nxt == -1 and end == 0:
            yield JournalCorrupt(path, pos, "torn record at end of file", torn=True)
            return
        reason = _reason(buf, pos) if len(buf) - pos >= HEADER.size else "garbage"
        yield JournalCorrupt(path, pos, reason)
        if nxt == -1:
            return
        pos = nxt


def _files(directory: Path, instance: str) -> dict[str, dict[bool, Path]]:
    """Map each day ``YYYYMMDD`` to its files, keyed by compressed or not."""
    pattern = re.compile(re.escape(instance) + r"-(\d{8})\.journal(\.gz)?")
    days: dict[str, dict[bool, Path]] = {}
    if directory.is_dir():
        for path in directory.iterdir():
            match = pattern.fullmatch(path.name)
            if match:
                days.setdefault(match[1], {})[match[2] is not None] = path
    return dict(sorted(days.items()))


def replay(
    directory: Path | str, instance: str, problems: list[JournalCorrupt] | None = None
) -> Iterator[JournalRecord]:
    """Yield every valid record of ``instance``, oldest file first, skipping bad ones.

    Each skipped stretch is logged as a warning and appended to ``problems`` when given. When a
    day has both a plain and a compressed file (compression was interrupted before the original
    was removed) the plain file, the source of the copy, is read.
    """
    for files in _files(Path(directory), instance).values():
        path = files.get(False) or files[True]
        buf = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for item in _scan(buf, path):
            if isinstance(item, JournalCorrupt):
                log.warning("journal record skipped: %s", item)
                if problems is not None:
                    problems.append(item)
                continue
            start, end = item
            _magic, _version, kind, _length, ts_ns, _crc = HEADER.unpack_from(buf, start)
            yield JournalRecord(kind, ts_ns, buf[start + HEADER.size : end], str(path), start)


def replay_decoded(
    directory: Path | str,
    instance: str,
    decoder: msgspec.msgpack.Decoder[T],
    problems: list[JournalCorrupt] | None = None,
) -> Iterator[tuple[JournalRecord, T]]:
    """Like ``replay``, decoding each payload with ``decoder`` (e.g. over a tagged union).

    A payload that passes its checksum but does not decode is reported like a corrupt record.
    """
    for record in replay(directory, instance, problems):
        try:
            message = decoder.decode(record.payload)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            problem = JournalCorrupt(Path(record.path), record.offset, f"undecodable: {exc}")
            log.warning("journal record skipped: %s", problem)
            if problems is not None:
                problems.append(problem)
            continue
        yield record, message


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _repair(path: Path) -> int:
    """Truncate ``path`` back to the end of its last valid record; return the new size."""
    buf = path.read_bytes()
    good = max((item[1] for item in _scan(buf, path) if isinstance(item, tuple)), default=0)
    if good < len(buf):
        log.warning("journal %s: cut %d bytes after the last good record", path, len(buf) - good)
        with path.open("r+b") as f:
            f.truncate(good)
            os.fsync(f.fileno())
    return good


def _compress(path: Path) -> None:
    """Replace ``path`` by ``path.gz`` without a moment where the records are in neither."""
    target = path.with_name(path.name + ".gz")
    tmp = path.with_name(path.name + ".gz.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    _fsync_dir(path.parent)
    path.unlink()
    _fsync_dir(path.parent)


class Journal:
    """Appends framed records for one engine instance; not safe to share between processes.

    Args:
        directory: where the journal files live; created with mode 0700 when missing.
        instance: the engine instance name, the file name prefix.
        policy: when records are forced to disk.
        batch_ms: the longest time from an append to its fsync under ``FsyncPolicy.BATCH``.
    """

    def __init__(
        self,
        directory: Path | str,
        instance: str,
        policy: FsyncPolicy = FsyncPolicy.BATCH,
        batch_ms: int = 50,
    ) -> None:
        self.directory = Path(directory)
        self.instance = instance
        self.policy = policy
        self._batch_s = batch_ms / 1000
        self._syncer: BackgroundSync | None = None
        self._fd = -1
        self._path: Path | None = None
        self._day = -(2**62)
        self._size = 0
        self._encoder = msgspec.msgpack.Encoder()
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True)
            self.directory.chmod(0o700)

    @property
    def path(self) -> Path | None:
        """The file being appended to, or None before the first append."""
        return self._path

    def append(self, kind: int, payload: bytes, ts_ns: int) -> int:
        """Append one record and return its byte offset in the current file.

        Raises:
            ValueError: when ``kind`` is not 0-255 or the payload is longer than ``MAX_PAYLOAD``.
            OSError: writing failed, or (``BATCH``) the background fsync of earlier records did
                (this record was written; raised once, then appending goes on).
        """
        if not 0 <= kind <= 255 or len(payload) > MAX_PAYLOAD:
            raise ValueError(f"journal record kind {kind} / length {len(payload)} out of range")
        if ts_ns // _NS_PER_DAY > self._day:
            self._open(ts_ns // _NS_PER_DAY)
        data = _frame(kind, payload, ts_ns)
        offset = self._size
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._size += len(data)
        syncer = self._syncer
        if syncer is not None:
            syncer.mark()
            if syncer.error is not None:
                error, syncer.error = syncer.error, None
                raise error
        elif self.policy is FsyncPolicy.ALWAYS:
            os.fsync(self._fd)
        return offset

    def append_struct(self, kind: int, message: msgspec.Struct, ts_ns: int) -> int:
        """Append ``message`` encoded as msgpack; read it back with ``replay_decoded``."""
        return self.append(kind, self._encoder.encode(message), ts_ns)

    def flush(self) -> None:
        """Force every appended record to disk now."""
        if self._syncer is not None:
            self._syncer.sync_now()
        elif self._fd >= 0:
            os.fsync(self._fd)

    def close(self) -> None:
        """Fsync and close the current file; a later append reopens it."""
        if self._syncer is not None:
            self._syncer.stop()
            self._syncer = None
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
            self._day = -(2**62)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self, day: int) -> None:
        """Close the current file and open the file for ``day``, tidying older files first."""
        self.close()
        files = _files(self.directory, self.instance)
        newest = next(reversed(files), None)
        if newest is not None:
            newest_day = (datetime.strptime(newest, "%Y%m%d").replace(tzinfo=UTC) - _EPOCH).days
            # A day already compressed is closed for good; move past it rather than write beside it.
            only_gz = False not in files[newest]
            day = max(day, newest_day + 1 if only_gz else newest_day)
        name = (_EPOCH + timedelta(days=day)).strftime("%Y%m%d")
        for stamp, pair in files.items():
            if stamp != name and False in pair:
                _repair(pair[False])
                _compress(pair[False])
        self._path = self.directory / f"{self.instance}-{name}.journal"
        created = not self._path.exists()
        self._size = 0 if created else _repair(self._path)
        self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(self._fd, 0o600)
        if self.policy is FsyncPolicy.BATCH:
            self._syncer = BackgroundSync(self._fd, self._batch_s, f"journal-sync-{self.instance}")
        if created:
            _fsync_dir(self.directory)
        self._day = day
