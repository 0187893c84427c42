"""HTTP control plane on loopback: health, status, kill, and token-guarded reset and risk limits.

``POST /kill`` needs no token on purpose: halting is always safe and must never be slowed by an
operator fumbling for a credential. ``POST /reset`` re-enables trading and needs
``Authorization: Bearer <token>``, the token being the value of the environment variable named by
``control.token_env`` (``HFT_CONTROL_TOKEN``); with that variable unset, reset over HTTP is off.
``GET /risk/limits`` shows the pre-trade limits in force; ``PUT /risk/limits`` (same token) replaces
them after validation, and an invalid document leaves the old limits in force (answer 400).
Orders and positions are served by :mod:`engine.control.orders`, strategies by
:mod:`engine.control.strategies`, ``GET /metrics`` (Prometheus
text format) by :mod:`engine.control.metrics`.
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import Any, Protocol, cast

import msgspec
from aiohttp import web

from engine.control.metrics import CONTENT_TYPE
from engine.control.orders import Trading, add_order_routes
from engine.control.strategies import add_strategy_routes
from engine.errors import ControlError
from engine.risk.limits import LimitsError, RiskLimits

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

    def risk_limits(self) -> RiskLimits:
        """The pre-trade limits in force."""
        ...

    def set_risk_limits(self, limits: RiskLimits, actor: str) -> None:
        """Validate and put new limits in force (raises LimitsError, keeping the old ones)."""
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
        app.router.add_get("/risk/limits", self._get_limits)
        app.router.add_put("/risk/limits", self._put_limits)
        if hasattr(self._engine, "metrics"):
            app.router.add_get("/metrics", self._metrics)
        if hasattr(self._engine, "strategy_control"):
            add_strategy_routes(app, self._engine.strategy_control, self._refused)
        if hasattr(self._engine, "place_order"):  # an engine that trades (every real one)
            add_order_routes(app, cast(Trading, self._engine), self._refused)
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

    async def _metrics(self, request: web.Request) -> web.Response:
        body = self._engine.metrics()  # type: ignore[attr-defined]
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    async def _kill(self, request: web.Request) -> web.Response:
        peer = request.remote or "?"
        log.warning("kill requested over http", extra={"peer": peer})
        self._engine.kill(f"http {peer}")
        return web.json_response({"trading": self._engine.trading})

    def _refused(self, request: web.Request) -> web.Response | None:
        """None when the request carries the control token; otherwise the answer to send."""
        token = os.environ.get(self._token_env, "")
        if not token:
            return web.json_response(
                {"error": f"this endpoint is disabled: set {self._token_env} for the engine"},
                status=403,
            )
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.encode(), token.encode()):
            log.warning(
                "request refused: missing or wrong token",
                extra={"peer": request.remote or "?", "path": request.path},
            )
            return web.json_response(
                {"error": "a valid bearer token is required"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None

    async def _reset(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        changed = self._engine.reset(f"http {request.remote or '?'}")
        return web.json_response({"trading": self._engine.trading, "changed": changed})

    async def _get_limits(self, request: web.Request) -> web.Response:
        body = msgspec.json.encode(self._engine.risk_limits())
        return web.Response(body=body, content_type="application/json")

    async def _put_limits(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            limits = msgspec.json.decode(await request.read(), type=RiskLimits)
            self._engine.set_risk_limits(limits, f"http {request.remote or '?'}")
        except (msgspec.DecodeError, UnicodeDecodeError, LimitsError) as exc:
            return web.json_response(
                {"error": f"limits not changed: {exc}", "limits": self._engine.risk_limits()},
                status=400,
                dumps=lambda doc: msgspec.json.encode(doc).decode(),
            )
        return await self._get_limits(request)
