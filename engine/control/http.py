"""HTTP control plane on loopback: health, status, the kill switch and the authenticated reset.

``POST /kill`` needs no token on purpose: halting is always safe and must never be slowed by an
operator fumbling for a credential. ``POST /reset`` re-enables trading and needs
``Authorization: Bearer <token>``, the token being the value of the environment variable named by
``control.token_env`` (``HFT_CONTROL_TOKEN``); with that variable unset, reset over HTTP is off.
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any, Protocol

from aiohttp import web

from engine.errors import ControlError

log = logging.getLogger("engine.control")


class Controllable(Protocol):
    """What the control plane needs from the engine."""

    @property
    def trading(self) -> str:
        """``running`` or ``halted``."""
        ...

    def status(self) -> dict[str, Any]:
        """The ``/status`` document."""
        ...

    def kill(self, source: str) -> None:
        """Halt trading."""
        ...

    def reset(self, actor: str) -> bool:
        """Re-enable trading; False when it was not halted."""
        ...


class ControlPlane:
    """The aiohttp server behind the control endpoints.

    Args:
        engine: the engine to report on and command.
        host: listen address.
        port: listen port; 0 picks a free one.
    """

    def __init__(
        self,
        engine: Controllable,
        host: str,
        port: int,
        token_env: str = "HFT_CONTROL_TOKEN",  # noqa: S107 - a variable name
    ) -> None:
        self._engine = engine
        self._token_env = token_env
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.url = ""

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/status", self._status)
        app.router.add_post("/kill", self._kill)
        app.router.add_post("/reset", self._reset)
        return app

    async def start(self) -> None:
        """Bind and serve.

        Raises:
            ControlError: the address is taken or cannot be bound; the message says how to move it.
        """
        self._runner = web.AppRunner(self._app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            raise ControlError(
                f"control plane cannot listen on {self._host}:{self._port} ({exc.strerror}); "
                "set control.port in the config or HFT__CONTROL__PORT (0 picks a free port)"
            ) from None
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        port = sockets[0].getsockname()[1] if sockets else self._port
        self.url = f"http://{self._host}:{port}"

    async def stop(self) -> None:
        """Stop serving. Idempotent."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "trading": self._engine.trading})

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self._engine.status())

    async def _kill(self, request: web.Request) -> web.Response:
        peer = request.remote or "?"
        log.warning("kill requested over http", extra={"peer": peer})
        self._engine.kill(f"http {peer}")
        return web.json_response({"trading": self._engine.trading})

    async def _reset(self, request: web.Request) -> web.Response:
        peer = request.remote or "?"
        token = os.environ.get(self._token_env, "")
        if not token:
            return web.json_response(
                {"error": f"reset over HTTP is disabled: set {self._token_env} for the engine"},
                status=403,
            )
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
            log.warning("reset refused: missing or wrong token", extra={"peer": peer})
            return web.json_response(
                {"error": "a valid bearer token is required"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        changed = self._engine.reset(f"http {peer}")
        return web.json_response({"trading": self._engine.trading, "changed": changed})
