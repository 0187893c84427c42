"""The peers' own environment: a worker process in ``bench-peers/`` that runs the large peers.

hftbacktest pins ``numpy<2.3`` and NautilusTrader needs Python 3.12 or newer; neither may
constrain the product's environment, so they live in a separate uv project at the repository's
``bench-peers/`` (its own ``pyproject.toml`` and ``uv.lock``) and run in a subprocess started
with ``uv run --locked --project bench-peers``. The first start syncs that environment.

The worker (``bench-peers/worker.py``) reads one JSON request per line on stdin and answers one
JSON line on stdout: ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``. It stays up for
the whole subject, so its runs interleave with ours without paying the peers' imports each time.

Anything that keeps a peer from running (no ``uv``, no Python 3.12+, a failed sync, a crash, a
timeout, an error answer) raises :class:`PeerUnavailable` with the reason, which the subjects
turn into rows that say the peer is missing.
"""

from __future__ import annotations

import glob
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import msgspec

from engine.errors import EngineError

PROJECT = Path(__file__).resolve().parents[2] / "bench-peers"
"""The peers' uv project (absent in an installed wheel: then every peer there is missing)."""
WORKER = PROJECT / "worker.py"
PYTHON_ENV = "HFT_BENCH_PEERS_PYTHON"
"""Set to an interpreter (3.12 or 3.13) to choose the peers' Python."""
_START_TIMEOUT_S = 900.0
"""The first start syncs NautilusTrader and hftbacktest: allow for the download."""


class PeerUnavailable(EngineError):
    """A peer in the peers' environment could not be run; the message says why."""


def _uv() -> str | None:
    found = shutil.which("uv")
    if found:
        return found
    home = Path.home() / ".local" / "bin" / "uv"
    return str(home) if home.is_file() else None


def _works(python: str) -> bool:
    try:
        done = subprocess.run(  # noqa: S603 - an interpreter we found, asked its version
            [python, "-c", "import sys; assert (3, 12) <= sys.version_info[:2] < (3, 14)"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_python() -> str | None:
    """A Python 3.12 or 3.13 for the peers: ``$HFT_BENCH_PEERS_PYTHON``, the PATH, then pyenv's."""
    chosen = os.environ.get(PYTHON_ENV)
    if chosen:
        return chosen if _works(chosen) else None
    candidates = [shutil.which(name) for name in ("python3.12", "python3.13")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in ("3.12", "3.13"):
        candidates += sorted(glob.glob(str(pyenv / f"{minor}*" / "bin" / f"python{minor}")))
    for candidate in candidates:
        if candidate and _works(candidate):
            return candidate
    return None


class PeerWorker:
    """A running worker: :meth:`call` sends one request and waits for its answer."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process
        self._buffer = b""

    def call(self, request: dict[str, Any], timeout_s: float = 600.0) -> dict[str, Any]:
        """Send ``request`` and return the worker's answer.

        Raises:
            PeerUnavailable: the worker died, timed out or answered with an error.
        """
        process = self._process
        assert process.stdin is not None
        try:
            process.stdin.write(msgspec.json.encode(request) + b"\n")
            process.stdin.flush()
        except OSError as exc:
            raise PeerUnavailable(f"the peers' worker is gone ({exc})") from None
        line = self._read_line(timeout_s)
        try:
            answer: dict[str, Any] = msgspec.json.decode(line)
        except msgspec.DecodeError:
            raise PeerUnavailable(f"the peers' worker answered {line[:200]!r}") from None
        if not answer.get("ok"):
            raise PeerUnavailable(str(answer.get("error", "the peers' worker refused")))
        return answer

    def _read_line(self, timeout_s: float) -> bytes:
        process = self._process
        assert process.stdout is not None
        fd = process.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerUnavailable(f"the peers' worker gave no answer in {timeout_s:.0f} s")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                code = process.poll()
                raise PeerUnavailable(f"the peers' worker exited (code {code})")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def close(self) -> None:
        """Ask the worker to finish, and make sure it has."""
        process = self._process
        if process.stdin is not None:
            with suppress(OSError):
                process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _command() -> list[str]:
    if not WORKER.is_file():
        raise PeerUnavailable(f"the peers' project is not here ({PROJECT})")
    uv = _uv()
    if uv is None:
        raise PeerUnavailable("uv is not installed: the peers' environment cannot be made")
    python = find_python()
    if python is None:
        raise PeerUnavailable(f"no Python 3.12 or 3.13 for the peers (set {PYTHON_ENV} to one)")
    return [uv, "run", "--quiet", "--locked", "--project", str(PROJECT), "--python", python,
            "python", str(WORKER)]  # fmt: skip


@contextmanager
def peer_worker(timeout_s: float = _START_TIMEOUT_S) -> Iterator[PeerWorker]:
    """Start the worker, wait for its hello, yield it, and stop it afterwards.

    Raises:
        PeerUnavailable: it could not be started (see the module docstring).
    """
    command = _command()
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never", PYTHONUNBUFFERED="1")
    env.pop("VIRTUAL_ENV", None)  # ours; the worker has its own
    sys.stderr.write("[bench peers] starting the peers' environment (bench-peers/)\n")
    try:
        process = subprocess.Popen(  # noqa: S603 - uv and our own worker script
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            env=env,
            cwd=PROJECT,
        )
    except OSError as exc:
        raise PeerUnavailable(f"the peers' worker could not start: {exc}") from None
    worker = PeerWorker(process)
    try:
        worker.call({"op": "hello"}, timeout_s=max(timeout_s, _START_TIMEOUT_S))
        yield worker
    finally:
        worker.close()


def versions(worker: PeerWorker) -> dict[str, str]:
    """The peers' versions as the worker reports them (installed distributions only)."""
    answer = worker.call({"op": "versions"})
    found: dict[str, str] = answer["versions"]
    return found
