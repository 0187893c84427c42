"""Run the local venue as its own process and learn where it listens.

The engine starts ``python -m engine.sim`` with the same config file and environment, reads the
single ``{"event":"listening",...}`` line it prints on stdout, and then talks to it only through
sockets, exactly as it would to a real venue. The child inherits the environment, so the trading
account's key and secret reach it in ``HFT_SIM_API_KEY`` / ``HFT_SIM_API_SECRET`` (the names
``[sim]`` configures) and never on a command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys

import msgspec

from engine.errors import EngineError

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM us when the engine dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class SimVenueError(EngineError):
    """The local venue process could not be started or did not say where it listens."""


class _Listening(msgspec.Struct):
    event: str
    ws_url: str
    rest_url: str


class SimVenueProcess:
    """A local venue child process.

    Args:
        config_path: the engine's config file (the child loads the same layers), or None.
        startup_timeout_s: how long to wait for the listening line.
        env: variables added to the child's environment (the account's key and secret).
    """

    def __init__(
        self,
        config_path: str | None,
        *,
        startup_timeout_s: float = 15.0,
        env: dict[str, str] | None = None,
    ) -> None:
        self._config_path = config_path
        self._env = env or {}
        self._timeout = startup_timeout_s
        self._proc: asyncio.subprocess.Process | None = None
        self.ws_url = ""
        self.rest_url = ""

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self._proc.pid if self._proc else None

    async def start(self) -> None:
        """Start the child and wait for its listening line.

        Raises:
            SimVenueError: the child exited, printed something else, or took too long.
        """
        args = [sys.executable, "-m", "engine.sim"]
        if self._config_path:
            args += ["--config", self._config_path]
        self._proc = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **self._env},
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        assert self._proc.stdout is not None
        try:
            line = await asyncio.wait_for(self._proc.stdout.readline(), self._timeout)
        except TimeoutError:
            await self.stop()
            raise SimVenueError(
                f"local venue did not report its address within {self._timeout:.0f} s"
            ) from None
        if not line:
            code = await self._proc.wait()
            raise SimVenueError(f"local venue exited with code {code} before listening")
        try:
            msg = msgspec.json.decode(line, type=_Listening)
        except msgspec.DecodeError:
            await self.stop()
            raise SimVenueError(f"local venue printed {line[:120]!r}, not its address") from None
        self.ws_url, self.rest_url = msg.ws_url, msg.rest_url

    async def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL after 3 s). Idempotent."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 3.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    @property
    def returncode(self) -> int | None:
        """Exit code once the child has ended, None while it runs."""
        return None if self._proc is None else self._proc.returncode
