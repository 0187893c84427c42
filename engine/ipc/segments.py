"""Where an instance's shared memory lives: names, owner-only segments, instance records, sweeping.

Every engine instance owns a handful of POSIX shared-memory segments (``/dev/shm`` on Linux),
named ``hft-<uid>-<instance>-<role>`` so two users or two instances never collide. Segments are
created with ``O_EXCL`` and mode 0600 and are refused on attach when another user owns them.

We open segments with the same ``shm_open`` call :class:`multiprocessing.shared_memory.SharedMemory`
uses, but not through that class: on Python 3.11 it registers every segment it *attaches* with the
``resource_tracker``, which unlinks the segment when the attaching process exits (CPython
gh-82300), so a UI quitting would delete the engine's rings. Opening them here keeps the owner in
charge: the engine unlinks its segments on exit, and :func:`sweep_stale` removes what a crashed
engine left behind before the next start.

Each running engine also publishes an :class:`InstanceInfo` record,
``<runtime_dir>/<instance>.json`` (mode 0600, written atomically), which is how ``hft-tui attach``
and the CLI find it.
"""

from __future__ import annotations

import _posixshmem  # type: ignore[import-not-found]  # CPython's shm_open/shm_unlink, no stubs
import contextlib
import mmap
import os
import re
import stat
from pathlib import Path
from types import TracebackType
from typing import Self

import msgspec

from engine.errors import InstanceRunning, SegmentError

#: an engine instance name, as the config accepts it
_INSTANCE = re.compile(r"[A-Za-z0-9_-]{1,32}")
#: a segment role: a lower-case word, optionally followed by ``-<number>`` (``book-3``)
_ROLE = re.compile(r"[a-z][a-z0-9]*(?:-[0-9]+)?")
#: any segment name we are prepared to open: no slashes, fits NAME_MAX
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,200}")
#: where Linux keeps POSIX shared memory; listed only to sweep leftovers
SHM_DIR = Path("/dev/shm")  # noqa: S108 - the POSIX shared-memory mount, not a temp file


class InstanceInfo(msgspec.Struct, frozen=True, kw_only=True):
    """The record a running engine publishes so UIs and the CLI can find it."""

    instance: str
    """The instance name the engine runs as."""
    pid: int
    """The engine's process id; a dead pid marks the record (and its segments) stale."""
    started_ns: int
    """Wall time the engine started, ns since the epoch."""
    control_url: str
    """Base URL of the HTTP control plane, empty until it listens."""
    symbols: list[str]
    """Instruments in dense-id order: book page ``book-<n>`` holds ``symbols[n]``."""
    segments: list[str]
    """Every shared-memory segment the engine created."""


def _check_instance(instance: str) -> None:
    if not _INSTANCE.fullmatch(instance):
        raise ValueError(f"instance name {instance!r} must be 1-32 letters, digits, '_' or '-'")


def segment_name(instance: str, role: str) -> str:
    """The segment name for one role of one instance, unique per user.

    Args:
        instance: the engine instance name (1-32 of ``[A-Za-z0-9_-]``).
        role: ``events``, ``commands``, ``engine`` or ``book-<id>``.

    Returns:
        ``hft-<uid>-<instance>-<role>``, without a leading slash.

    Raises:
        ValueError: the instance or role is not a valid name.
    """
    _check_instance(instance)
    if not _ROLE.fullmatch(role):
        raise ValueError(f"segment role {role!r} must look like 'events' or 'book-3'")
    return f"hft-{os.getuid()}-{instance}-{role}"


def _instance_segment_pattern(instance: str) -> re.Pattern[str]:
    """Names :func:`segment_name` can produce for ``instance`` and no other instance."""
    return re.compile(rf"hft-{os.getuid()}-{re.escape(instance)}-{_ROLE.pattern}")


def _check_segment(name: str) -> None:
    if not _SEGMENT.fullmatch(name):
        raise ValueError(
            f"segment name {name!r} must be 1-200 of letters, digits, '_', '.', '-' (no slash)"
        )


def create_segment(name: str, size: int) -> mmap.mmap:
    """Create a new owner-only (0600) segment of ``size`` bytes, zero-filled, and map it.

    Raises:
        SegmentError: the name already exists or the segment could not be created.
        ValueError: the name is invalid or ``size`` is not positive.
    """
    _check_segment(name)
    if size <= 0:
        raise ValueError(f"segment {name}: size must be positive, got {size}")
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
    try:
        fd = _posixshmem.shm_open("/" + name, flags, mode=0o600)
    except FileExistsError:
        raise SegmentError(
            f"shared-memory segment {name} already exists; another engine owns it or a "
            "crashed one left it (sweep_stale removes stale ones)"
        ) from None
    except OSError as exc:
        raise SegmentError(f"cannot create shared-memory segment {name}: {exc}") from exc
    try:
        os.fchmod(fd, 0o600)  # the umask may only have narrowed it, but be exact
        os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    except OSError as exc:
        with contextlib.suppress(OSError):
            _posixshmem.shm_unlink("/" + name)
        raise SegmentError(f"cannot size shared-memory segment {name}: {exc}") from exc
    finally:
        os.close(fd)


def attach_segment(name: str, min_size: int) -> mmap.mmap:
    """Map an existing segment this user owns, read-write.

    Raises:
        SegmentError: the segment is missing, owned by another user, or smaller than
            ``min_size`` bytes.
        ValueError: the name is invalid.
    """
    _check_segment(name)
    try:
        fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0)
    except FileNotFoundError:
        raise SegmentError(f"shared-memory segment {name} does not exist") from None
    except OSError as exc:
        raise SegmentError(f"cannot open shared-memory segment {name}: {exc}") from exc
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid():
            raise SegmentError(
                f"shared-memory segment {name} belongs to uid {st.st_uid}, not {os.getuid()}"
            )
        if st.st_size < min_size:
            raise SegmentError(
                f"shared-memory segment {name} is {st.st_size} bytes, expected at least {min_size}"
            )
        return mmap.mmap(fd, st.st_size)
    finally:
        os.close(fd)


def unlink_segment(name: str) -> bool:
    """Remove a segment by name; processes that mapped it keep their mapping.

    Returns:
        True if it existed and was removed, False if there was nothing to remove.

    Raises:
        ValueError: the name is invalid.
        SegmentError: it exists but could not be removed.
    """
    _check_segment(name)
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise SegmentError(f"cannot remove shared-memory segment {name}: {exc}") from exc
    return True


class MappedSegment:
    """A mapped segment with a header of 8-byte words; the base of rings and state pages.

    Args:
        name: the segment name.
        mem: its mapping, from :func:`create_segment` or :func:`attach_segment`.
        header_bytes: length of the header, viewed as native unsigned 64-bit words.
    """

    def __init__(self, name: str, mem: mmap.mmap, header_bytes: int) -> None:
        self._name = name
        self._mm = mem
        self._hdr = memoryview(mem)[:header_bytes].cast("Q")

    @property
    def name(self) -> str:
        """The segment name."""
        return self._name

    def close(self) -> None:
        """Detach from the segment; the segment itself stays. Idempotent."""
        if self._mm.closed:
            return
        self._hdr.release()
        self._mm.close()

    def unlink(self) -> None:
        """Remove the segment (the owner, on exit); mappings stay valid until closed."""
        unlink_segment(self._name)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def runtime_dir() -> Path:
    """This user's directory for instance records and logs, created with mode 0700.

    ``$XDG_RUNTIME_DIR/hft-tui`` when that variable names a directory, else ``/tmp/hft-tui-<uid>``.

    Raises:
        SegmentError: the path exists but is not a directory owned by this user.
    """
    uid = os.getuid()
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    fallback = Path(f"/tmp/hft-tui-{uid}")  # noqa: S108 - checked below: ours, a dir, 0700
    path = Path(xdg) / "hft-tui" if xdg and Path(xdg).is_dir() else fallback
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid:
        raise SegmentError(f"{path} is not a directory owned by uid {uid}; refusing to use it")
    if stat.S_IMODE(st.st_mode) != 0o700:
        path.chmod(0o700)
    return path


def _record_path(instance: str) -> Path:
    _check_instance(instance)
    return runtime_dir() / f"{instance}.json"


def publish_instance(info: InstanceInfo) -> Path:
    """Write (or replace) the instance record atomically, mode 0600.

    Returns:
        The record's path.

    Raises:
        ValueError: the instance name is invalid.
    """
    path = _record_path(info.instance)
    tmp = path.with_name(f".{info.instance}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, msgspec.json.encode(info))
    finally:
        os.close(fd)
    tmp.replace(path)
    return path


def read_instance(instance: str) -> InstanceInfo | None:
    """The instance's record, whether or not its engine still runs; None if there is none.

    Raises:
        SegmentError: the record exists but cannot be decoded (the message names the file).
        ValueError: the instance name is invalid.
    """
    path = _record_path(instance)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return msgspec.json.decode(data, type=InstanceInfo)
    except msgspec.DecodeError as exc:
        raise SegmentError(f"instance record {path} is unreadable: {exc}") from exc


def list_instances() -> list[InstanceInfo]:
    """Records of the engines running now for this user, by instance name; stale ones skipped."""
    found = []
    for path in sorted(runtime_dir().glob("*.json")):
        try:
            info = msgspec.json.decode(path.read_bytes(), type=InstanceInfo)
        except (OSError, msgspec.DecodeError):
            continue  # removed meanwhile, or not ours to interpret
        if pid_alive(info.pid):
            found.append(info)
    return found


def remove_instance(instance: str) -> None:
    """Delete the instance's record; nothing happens if there is none."""
    _record_path(instance).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    try:
        proc_stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: existence is all we can know
    # "pid (comm) state ...": comm may hold spaces or parentheses, the state follows the last ')'
    return proc_stat.rpartition(")")[2].split()[0] != "Z"


def _leftover_segments(instance: str) -> list[str]:
    """Segments of ``instance`` still in ``/dev/shm`` (empty where it cannot be listed)."""
    pattern = _instance_segment_pattern(instance)
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return []
    return [name for name in names if pattern.fullmatch(name)]


def sweep_stale(instance: str) -> list[str]:
    """Remove what a crashed engine of ``instance`` left: its segments and its record.

    With a record whose pid is dead, its segments and the record go. With no record at all, any
    segment named for ``instance`` is removed. Only names :func:`segment_name` makes for this
    instance are ever touched.

    Returns:
        The names of the segments removed, sorted.

    Raises:
        InstanceRunning: the record's engine is alive; nothing is touched.
        SegmentError: the record is unreadable (remove it by hand after checking).
        ValueError: the instance name is invalid.
    """
    info = read_instance(instance)
    pattern = _instance_segment_pattern(instance)
    names = set(_leftover_segments(instance))
    if info is not None:
        if pid_alive(info.pid):
            raise InstanceRunning(instance, info.pid)
        names.update(name for name in info.segments if pattern.fullmatch(name))
    swept = [name for name in sorted(names) if unlink_segment(name)]
    remove_instance(instance)
    return swept
