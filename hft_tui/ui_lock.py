"""One UI per engine: an ``flock`` in the runtime directory, held while a bridge is attached.

The engine's rings have one consumer and one producer, so a second UI process must not attach.
The kernel releases the lock however the holding UI exits; bridges of one process share it.
"""

from __future__ import annotations

import fcntl
import os

from engine.errors import IpcError
from engine.ipc.segments import runtime_dir


class UiAlreadyAttached(IpcError):
    """Another UI is attached to this engine; the rings have one consumer and one producer."""


#: instance -> (lock fd, bridges of this process holding it); a restart attaches before detaching
_ui_locks: dict[str, tuple[int, int]] = {}


def take_ui_lock(instance: str) -> None:
    """Hold ``<runtime>/<instance>.ui.lock`` while any bridge of this process is attached.

    The lock is an ``flock``: the kernel releases it when the UI exits, however it exits. Bridges
    of the same process share it (the app attaches to a restarted engine before detaching).

    Raises:
        UiAlreadyAttached: another process holds it; the message names its pid.
    """
    if instance in _ui_locks:
        fd, count = _ui_locks[instance]
        _ui_locks[instance] = (fd, count + 1)
        return
    path = runtime_dir() / f"{instance}.ui.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise UiAlreadyAttached(
            f"another UI (pid {holder}) is already attached to engine {instance!r}; "
            "close it first: the engine serves one UI at a time"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _ui_locks[instance] = (fd, 1)


def release_ui_lock(instance: str) -> None:
    """Let go of the lock once the last bridge of this process on ``instance`` detaches."""
    fd, count = _ui_locks[instance]
    if count > 1:
        _ui_locks[instance] = (fd, count - 1)
        return
    del _ui_locks[instance]
    os.close(fd)  # releases the flock
