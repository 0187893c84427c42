"""Order routes of the control plane: list, place, cancel, cancel-all, positions.

``POST /orders`` and ``DELETE /orders/{id}`` need the control token (they trade);
``POST /orders/cancel-all`` does not, like ``/kill``: taking risk off is always allowed.
Placed orders pass the same risk pipeline as a strategy's; a refusal answers 422 with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import msgspec
from aiohttp import web

from engine.oms.views import OrderRequestError


class Trading(Protocol):
    """What the order routes need from the engine."""

    def orders_doc(self, include_closed: bool) -> list[Any]:
        """Open orders (and, asked, the closed ones)."""
        ...

    def positions_doc(self) -> dict[str, Any]:
        """Positions and PnL."""
        ...

    def place_order(self, doc: dict[str, Any], actor: str) -> dict[str, Any]:
        """Place an operator's order; raises OrderRequestError for a bad document."""
        ...

    def cancel_order(self, client_order_id: str, actor: str) -> bool:
        """Cancel one order; False when unknown or final."""
        ...

    def cancel_all_orders(self, source: str) -> None:
        """Cancel every open order on every venue (verified in the background)."""
        ...


def add_order_routes(
    app: web.Application,
    engine: Trading,
    refused: Callable[[web.Request], web.Response | None],
) -> None:
    """Mount the order routes; ``refused`` answers requests that lack the token."""

    async def list_orders(request: web.Request) -> web.Response:
        closed = request.query.get("all", "") in ("1", "true")
        return web.json_response(engine.orders_doc(closed))

    async def positions(request: web.Request) -> web.Response:
        return web.json_response(engine.positions_doc())

    async def place(request: web.Request) -> web.Response:
        answer = refused(request)
        if answer is not None:
            return answer
        try:
            doc = msgspec.json.decode(await request.read())
            if not isinstance(doc, dict):
                raise OrderRequestError("order request: the body must be a JSON object")
            placed = engine.place_order(doc, f"http {request.remote or '?'}")
        except (msgspec.DecodeError, UnicodeDecodeError, OrderRequestError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        status = 422 if placed["status"] == "rejected" else 201
        return web.json_response(placed, status=status)

    async def cancel(request: web.Request) -> web.Response:
        answer = refused(request)
        if answer is not None:
            return answer
        cid = request.match_info["client_order_id"]
        if not engine.cancel_order(cid, f"http {request.remote or '?'}"):
            return web.json_response({"error": f"order {cid} is not open"}, status=404)
        return web.json_response({"client_order_id": cid, "cancel": "requested"}, status=202)

    async def cancel_all(request: web.Request) -> web.Response:
        engine.cancel_all_orders(f"http {request.remote or '?'}")
        return web.json_response({"cancel_all": "requested"}, status=202)

    app.router.add_get("/orders", list_orders)
    app.router.add_post("/orders", place)
    app.router.add_post("/orders/cancel-all", cancel_all)
    app.router.add_delete("/orders/{client_order_id}", cancel)
    app.router.add_get("/positions", positions)
