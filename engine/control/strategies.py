"""Strategy routes of the control plane: list, change parameters, stop, start, reload.

``GET /strategies`` lists each strategy: name, kind, running, error, parameters and their allowed
ranges (``ranges``), callback p50/p99, its own figures (``status``: an execution's progress and
report, a signal's value) and why the store's last parameters for it were refused
(``params_refused``, empty when not).
``PUT /strategies/{name}/params`` (control token) takes a JSON object of changes, checked against
the strategy's ``Params`` before ``on_params``; a refusal answers 400 with the field, the value,
the allowed range and the parameters still in force; a change taken is also written to the live
parameter store (``hft:{instance}:params:{name}``). ``POST /strategies/{name}/stop``,
``/start`` and ``/reload`` need the token too; a reload refused answers 422 with the file and line.
Every change is logged with the operator's address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgspec
from aiohttp import web

from engine.strategy.base import Params, ParamsError, allowed_range
from engine.strategy.live_params import ParamsSync
from engine.strategy.reload import ReloadError, StrategyReloader
from engine.strategy.runner import StrategyRunner

log = logging.getLogger("engine.control")


class StrategyControl(Protocol):
    """What the strategy routes need from the engine.

    Each method raises ``KeyError`` for an unknown name.
    """

    def strategies_doc(self) -> list[dict[str, Any]]:
        """Every strategy's state, parameters and callback times."""
        ...

    def set_strategy_params(
        self, name: str, changes: Mapping[str, Any], actor: str
    ) -> dict[str, Any]:
        """Check and apply parameter changes (raises ParamsError, keeping the old ones)."""
        ...

    def stop_strategy(self, name: str, actor: str) -> bool:
        """Stop it and cancel its orders; False when it was not running."""
        ...

    def start_strategy(self, name: str, actor: str) -> bool:
        """Start it again (also after it raised); False when already running."""
        ...

    def reload_strategy(self, name: str, actor: str) -> dict[str, Any]:
        """Reload its source and restart it flat (raises ReloadError, keeping the old one)."""
        ...


class RunnerControl:
    """:class:`StrategyControl` over the engine's runner and a reloader.

    Args:
        runner: the engine's strategy runner.
        reloader: reloads the runner's strategies; one over ``runner`` by default.
        sync: the live parameter store's sync; parameter changes made here are written to the
            store through it, and a store value it refused shows as ``params_refused``.
    """

    def __init__(
        self,
        runner: StrategyRunner,
        reloader: StrategyReloader | None = None,
        sync: ParamsSync | None = None,
    ) -> None:
        self.runner = runner
        self.reloader = reloader or StrategyReloader(runner)
        self.sync = sync

    def strategies_doc(self) -> list[dict[str, Any]]:
        """Every strategy's state, parameters and callback times."""
        out = []
        for stats in self.runner.stats():
            strategy = self.runner.strategy(stats.name)
            out.append(
                {
                    "name": stats.name,
                    "kind": type(strategy).__name__,
                    "running": stats.running,
                    "error": stats.error,
                    "params": msgspec.to_builtins(strategy.params),
                    "ranges": param_ranges(type(strategy.params)),
                    "callbacks": stats.callbacks,
                    "p50_us": stats.p50_ns / 1000,
                    "p99_us": stats.p99_ns / 1000,
                    "cpu_p50_us": stats.cpu_p50_ns / 1000,
                    "cpu_p99_us": stats.cpu_p99_ns / 1000,
                    "over_budget": stats.over_budget,
                    "sent": stats.sent,
                    "refused": stats.refused,
                    "status": strategy.status(),
                    "params_refused": self.sync.rejected(stats.name) if self.sync else "",
                }
            )
        return out

    def set_strategy_params(
        self, name: str, changes: Mapping[str, Any], actor: str
    ) -> dict[str, Any]:
        """Check and apply parameter changes (raises ParamsError, keeping the old ones)."""
        new = self.runner.set_params(name, changes)
        log.warning("strategy parameters changed", extra={"strategy": name, "actor": actor})
        if self.sync is not None:
            self.sync.publish(name, actor)
        doc: dict[str, Any] = msgspec.to_builtins(new)
        return doc

    def stop_strategy(self, name: str, actor: str) -> bool:
        """Stop it and cancel its orders; False when it was not running."""
        was = self.runner.stop(name, f"stopped by {actor}")
        log.warning("strategy stopped by operator", extra={"strategy": name, "actor": actor})
        return was

    def start_strategy(self, name: str, actor: str) -> bool:
        """Start it again (also after it raised); False when already running."""
        started = self.runner.resume(name)
        log.warning("strategy started by operator", extra={"strategy": name, "actor": actor})
        return started

    def reload_strategy(self, name: str, actor: str) -> dict[str, Any]:
        """Reload its source and restart it flat (raises ReloadError, keeping the old one)."""
        source = self.reloader.source_of(name)
        new = self.reloader.reload(name)
        log.warning("strategy reloaded by operator", extra={"strategy": name, "actor": actor})
        return {"name": name, "kind": type(new).__name__, "source": str(source), "flat": True}


def param_ranges(cls: type[Params]) -> dict[str, str]:
    """Each parameter's allowed values as text (``1 <= int <= 20``), for an editing form."""
    return {field: allowed_range(cls, field) for field in cls.__struct_fields__}


def _json(doc: object, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(doc), status=status, content_type="application/json"
    )


def add_strategy_routes(  # noqa: C901 - one small handler per route, closed over the engine
    app: web.Application,
    engine: StrategyControl,
    refused: Callable[[web.Request], web.Response | None],
) -> None:
    """Mount the strategy routes; ``refused`` answers requests that lack the token."""

    def actor(request: web.Request) -> str:
        return f"http {request.remote or '?'}"

    def unknown(name: str) -> web.Response:
        return _json({"error": f"no strategy {name!r}"}, status=404)

    async def list_strategies(request: web.Request) -> web.Response:
        return _json(engine.strategies_doc())

    async def put_params(request: web.Request) -> web.Response:
        answer = refused(request)
        if answer is not None:
            return answer
        name = request.match_info["name"]
        try:
            changes = msgspec.json.decode(await request.read())
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            return _json({"error": f"parameters not changed: {exc}"}, status=400)
        if not isinstance(changes, dict):
            return _json({"error": "parameters not changed: the body must be a JSON object"}, 400)
        try:
            params = engine.set_strategy_params(name, changes, actor(request))
        except KeyError:
            return unknown(name)
        except ParamsError as exc:
            current = next(s["params"] for s in engine.strategies_doc() if s["name"] == name)
            doc = {
                "error": f"parameters not changed: {exc}",
                "field": exc.field,
                "value": exc.value,
                "allowed": exc.allowed,
                "params": current,
            }
            return _json(doc, status=400)
        return _json({"name": name, "params": params})

    async def stop(request: web.Request) -> web.Response:
        answer = refused(request)
        if answer is not None:
            return answer
        name = request.match_info["name"]
        try:
            changed = engine.stop_strategy(name, actor(request))
        except KeyError:
            return unknown(name)
        return _json({"name": name, "running": False, "changed": changed})

    async def start(request: web.Request) -> web.Response:
        answer = refused(request)
        if answer is not None:
            return answer
        name = request.match_info["name"]
        try:
            changed = engine.start_strategy(name, actor(request))
        except KeyError:
            return unknown(name)
        running = next(s["running"] for s in engine.strategies_doc() if s["name"] == name)
        return _json({"name": name, "running": running, "changed": changed})

    async def reload(request: web.Request) -> web.Response:
        answer = refused(request)
        if answer is not None:
            return answer
        name = request.match_info["name"]
        try:
            doc = engine.reload_strategy(name, actor(request))
        except KeyError:
            return unknown(name)
        except ReloadError as exc:
            body = {"error": str(exc), "file": exc.path, "line": exc.line, "detail": exc.detail}
            return _json(body, status=422)
        return _json(doc)

    app.router.add_get("/strategies", list_strategies)
    app.router.add_put("/strategies/{name}/params", put_params)
    app.router.add_post("/strategies/{name}/stop", stop)
    app.router.add_post("/strategies/{name}/start", start)
    app.router.add_post("/strategies/{name}/reload", reload)
