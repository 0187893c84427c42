"""Telling systemd how the engine is doing: the sd_notify protocol, without a dependency.

Under ``Type=notify`` systemd hands the service a datagram socket in ``$NOTIFY_SOCKET`` (a path,
or an abstract-namespace name written with a leading ``@``) and, with ``WatchdogSec=``, the
watchdog period in ``$WATCHDOG_USEC``. Each call here sends one ``KEY=value`` datagram to it:
``READY=1`` once the engine serves, ``WATCHDOG=1`` from a loop that is known to be turning,
``STOPPING=1`` at shutdown and ``STATUS=...`` for ``systemctl status``. Outside systemd (no
``$NOTIFY_SOCKET``) every call does nothing and returns False, so the engine calls them always.

A send that fails (the socket gone, the manager restarting) is logged once at WARNING and
never raised: telling systemd is never worth stopping trading for.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("engine.systemd")

_NS_PER_US = 1_000


class NotifySocketError(ValueError):
    """``$NOTIFY_SOCKET`` holds something that is neither a path nor an ``@`` abstract name."""


def notify_address(environ: Mapping[str, str] | None = None) -> str | bytes | None:
    """The address ``$NOTIFY_SOCKET`` names, ready for ``socket.sendto``; None when unset.

    Args:
        environ: The environment to read (``os.environ`` by default).

    Returns:
        A filesystem path (str), an abstract-namespace address (bytes starting with NUL), or None.

    Raises:
        NotifySocketError: The variable is set to something that cannot be a unix socket.
    """
    env = os.environ if environ is None else environ
    raw = env.get("NOTIFY_SOCKET", "")
    if not raw:
        return None
    if raw.startswith("@"):
        if len(raw) == 1:
            raise NotifySocketError("NOTIFY_SOCKET: '@' with no abstract socket name after it")
        return b"\0" + raw[1:].encode()
    if raw.startswith("/"):
        return raw
    raise NotifySocketError(
        f"NOTIFY_SOCKET: {raw!r} is neither an absolute path nor an '@' abstract name"
    )


def watchdog_interval_ns(environ: Mapping[str, str] | None = None) -> int | None:
    """How often to send ``WATCHDOG=1``: half of ``$WATCHDOG_USEC``, in ns; None when unset.

    ``$WATCHDOG_PID``, when set, must name this process (systemd sets it for the main PID only).

    Args:
        environ: The environment to read (``os.environ`` by default).

    Returns:
        The interval in integer nanoseconds, or None when no watchdog is asked for.
    """
    env = os.environ if environ is None else environ
    raw = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not raw or (pid and pid != str(os.getpid())):
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("WATCHDOG_USEC is not an integer: watchdog off", extra={"value": raw})
        return None
    if usec <= 0:
        return None
    return usec * _NS_PER_US // 2


class Notifier:
    """Sends sd_notify datagrams to the socket systemd gave this service.

    Args:
        environ: The environment to read ``$NOTIFY_SOCKET`` and ``$WATCHDOG_USEC`` from
            (``os.environ`` by default); read once, here.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        try:
            self._address = notify_address(environ)
        except NotifySocketError as exc:
            log.warning(str(exc))
            self._address = None
        self.watchdog_interval_ns = watchdog_interval_ns(environ)
        """Half of ``$WATCHDOG_USEC`` in ns, or None when systemd watches nothing."""
        self._warned = False

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens."""
        return self._address is not None

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines as one datagram; True when it was handed to the socket."""
        if self._address is None or not assignments:
            return False
        payload = "\n".join(assignments).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(payload, self._address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("sd_notify failed", extra={"error": repr(exc)})
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1`` (with ``MAINPID``): the control plane and gateway are up."""
        lines = ["READY=1", f"MAINPID={os.getpid()}"]
        if status:
            lines.append(_status_line(status))
        return self.send(*lines)

    def watchdog(self) -> bool:
        """``WATCHDOG=1``, only when ``$WATCHDOG_USEC`` asked for a watchdog."""
        if self.watchdog_interval_ns is None:
            return False
        return self.send("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: shutdown has begun (cancel-all and journal flush follow)."""
        lines = ["STOPPING=1"]
        if status:
            lines.append(_status_line(status))
        return self.send(*lines)

    def status(self, text: str) -> bool:
        """``STATUS=text``, the one line ``systemctl status`` shows."""
        return self.send(_status_line(text))


def _status_line(text: str) -> str:
    """``STATUS=`` with the text on one line (a newline would start another assignment)."""
    return "STATUS=" + " ".join(text.split())


_default: Notifier | None = None


def _notifier() -> Notifier:
    global _default  # one notifier per process, built on first use
    if _default is None:
        _default = Notifier()
    return _default


def ready(status: str | None = None) -> bool:
    """Tell systemd the engine is serving (``READY=1``); False outside systemd."""
    return _notifier().ready(status)


def watchdog() -> bool:
    """Pet the watchdog (``WATCHDOG=1``) when one is set; False otherwise."""
    return _notifier().watchdog()


def watchdog_interval() -> int | None:
    """The process's watchdog interval in ns (half of ``$WATCHDOG_USEC``), or None."""
    return _notifier().watchdog_interval_ns


def stopping(status: str | None = None) -> bool:
    """Tell systemd the engine is shutting down (``STOPPING=1``)."""
    return _notifier().stopping(status)


def status(text: str) -> bool:
    """Set the service's status line (``STATUS=text``)."""
    return _notifier().status(text)
