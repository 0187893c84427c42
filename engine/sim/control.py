"""HTTP controls of the local venue under ``/sim/...``, for tests driving it from another process.

| route | does |
|---|---|
| ``POST /sim/pause``, ``POST /sim/resume`` | freeze / unfreeze the market |
| ``POST /sim/step?ms=100`` (or ``ns=``) | advance and publish one batch |
| ``GET /sim/book?symbol=BTCUSDT[&limit=N]`` | the true book as text, with ``lastUpdateId`` |
| ``GET /sim/status`` | paused, connections, per-symbol ids and touch, armed faults |
| ``POST /sim/faults/gap?symbol=BTCUSDT&missing=1`` | the next diffs skip update ids |
| ``POST /sim/faults/disconnect`` | cut every WebSocket at once |
| ``POST /sim/faults/malformed?count=1`` | garbage frames ahead of the next frames |
| ``POST /sim/faults/rate-limit?count=1&retry_after_s=1`` | REST answers 429 / -1003 |
| ``POST /sim/faults/slow-rest?delay_s=0.5&count=1`` | REST answers arrive late |
| ``POST /sim/faults/stale-snapshot`` | the next depth snapshot is from the past |
| ``POST /sim/faults/duplicate?count=1`` | the next diffs are sent twice |
| ``POST /sim/faults/reorder?count=1`` | the next diffs swap places with the diff after them |
| ``POST /sim/faults/oversized?count=1&size_bytes=0`` | a frame too large for clients goes first |
| ``POST /sim/faults/clear`` | disarm the counted faults |
| ``POST /sim/faults/order-rate-limit?count=1&retry_after_s=1&banned=false`` | orders get 429/418 |
| ``POST /sim/faults/status-unknown?count=1&placed=true&answer=timeout&delay_s=0`` | 408/503 |
| ``POST /sim/faults/garbage-rest?count=1`` | the next REST bodies are not JSON |
| ``POST /sim/faults/slow-orders?delay_s=0.5&count=1`` | order answers arrive late |
| ``POST /sim/faults/malformed-user-stream?count=1`` | broken frames ahead of user-stream events |
| ``POST /sim/faults/disconnect-user-streams`` | cut every WebSocket-API connection |
| ``POST /sim/faults/terminate-user-streams`` | end every subscription (``eventStreamTerminated``) |
| ``GET /sim/orders[?symbol=BTCUSDT&account=alice&open=true]`` | the venue's true orders |
| ``GET /sim/accounts`` | every account's balances (never its key) |
| ``POST /sim/market-order?symbol=BTCUSDT&side=SELL&quantity=0.5`` | a public market order sweeps |

Answers are JSON; a bad argument gets HTTP 400 and ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from engine.core.events import Side
from engine.errors import InstrumentError
from engine.sim import SimError, wire
from engine.sim.accounts import amount_text
from engine.sim.ledger import OrderRecord

if TYPE_CHECKING:
    from engine.sim.server import SimVenue

_Action = Callable[[web.Request], Awaitable[dict[str, Any]]]
_OK: dict[str, Any] = {"ok": True}


def add_control_routes(app: web.Application, venue: SimVenue) -> None:
    """Mount the ``/sim/...`` routes for ``venue`` on ``app``."""
    controls = _Controls(venue)
    routes: list[tuple[str, str, _Action]] = [
        ("POST", "/sim/pause", controls.pause),
        ("POST", "/sim/resume", controls.resume),
        ("POST", "/sim/step", controls.step),
        ("GET", "/sim/book", controls.book),
        ("GET", "/sim/status", controls.status),
        ("POST", "/sim/faults/gap", controls.gap),
        ("POST", "/sim/faults/disconnect", controls.disconnect),
        ("POST", "/sim/faults/malformed", controls.malformed),
        ("POST", "/sim/faults/rate-limit", controls.rate_limit),
        ("POST", "/sim/faults/slow-rest", controls.slow_rest),
        ("POST", "/sim/faults/stale-snapshot", controls.stale_snapshot),
        ("POST", "/sim/faults/duplicate", controls.duplicate),
        ("POST", "/sim/faults/reorder", controls.reorder),
        ("POST", "/sim/faults/oversized", controls.oversized),
        ("POST", "/sim/faults/clear", controls.clear),
        ("POST", "/sim/faults/order-rate-limit", controls.order_rate_limit),
        ("POST", "/sim/faults/status-unknown", controls.status_unknown),
        ("POST", "/sim/faults/garbage-rest", controls.garbage_rest),
        ("POST", "/sim/faults/slow-orders", controls.slow_orders),
        ("POST", "/sim/faults/malformed-user-stream", controls.malformed_user_stream),
        ("POST", "/sim/faults/disconnect-user-streams", controls.disconnect_user_streams),
        ("POST", "/sim/faults/terminate-user-streams", controls.terminate_user_streams),
        ("GET", "/sim/orders", controls.orders),
        ("GET", "/sim/accounts", controls.accounts),
        ("POST", "/sim/market-order", controls.market_order),
    ]
    for method, path, action in routes:
        app.router.add_route(method, path, _answer(action))


class _Controls:
    """One action per route; each returns the JSON answer as a dict."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.faults = venue.faults

    async def pause(self, _request: web.Request) -> dict[str, Any]:
        self.venue.pause()
        return {"paused": self.venue.paused}

    async def resume(self, _request: web.Request) -> dict[str, Any]:
        self.venue.resume()
        return {"paused": self.venue.paused}

    async def step(self, request: web.Request) -> dict[str, Any]:
        if "ns" in request.query:
            dt_ns = _int(request, "ns", 0)
        else:
            dt_ns = int(_float(request, "ms", 100.0) * 1_000_000)
        await self.venue.step(dt_ns)
        return {"updateIds": {s: self.venue.model(s).update_id for s in self.venue.symbols}}

    async def book(self, request: web.Request) -> dict[str, Any]:
        symbol = _symbol(request)
        limit = _int(request, "limit", 0) or None
        model = self.venue.model(symbol)
        text = wire.WireText(model.instrument)
        return {
            "symbol": symbol,
            "lastUpdateId": model.update_id,
            "bids": text.levels(model.bids(limit)),
            "asks": text.levels(model.asks(limit)),
        }

    async def status(self, _request: web.Request) -> dict[str, Any]:
        venue = self.venue
        symbols = {}
        for symbol in venue.symbols:
            model = venue.model(symbol)
            text = wire.WireText(model.instrument)
            symbols[symbol] = {
                "lastUpdateId": model.update_id,
                "lastTradeId": model.trade_id,
                "bestBid": text.price(model.best_bid()),
                "bestAsk": text.price(model.best_ask()),
                "regime": model.regime.value,
            }
        return {
            "paused": venue.paused,
            "autorun": venue.autorun,
            "connections": venue.connections,
            "userStreams": len(venue.trading.user_streams.connections),
            "symbols": symbols,
            "faults": msgspec.to_builtins(self.faults.armed()),
            "tradingFaults": msgspec.to_builtins(self.faults.trading.armed()),
        }

    async def gap(self, request: web.Request) -> dict[str, Any]:
        self.faults.gap_next(_symbol(request), _int(request, "missing", 1))
        return _OK

    async def disconnect(self, _request: web.Request) -> dict[str, Any]:
        return {"disconnected": self.faults.disconnect_all()}

    async def malformed(self, request: web.Request) -> dict[str, Any]:
        self.faults.malformed_next(_int(request, "count", 1))
        return _OK

    async def rate_limit(self, request: web.Request) -> dict[str, Any]:
        self.faults.rate_limit_next(_int(request, "count", 1), _int(request, "retry_after_s", 1))
        return _OK

    async def slow_rest(self, request: web.Request) -> dict[str, Any]:
        self.faults.slow_rest(_float(request, "delay_s", None), _int(request, "count", 1))
        return _OK

    async def stale_snapshot(self, _request: web.Request) -> dict[str, Any]:
        self.faults.stale_snapshot_next()
        return _OK

    async def duplicate(self, request: web.Request) -> dict[str, Any]:
        self.faults.duplicate_next(_int(request, "count", 1))
        return _OK

    async def reorder(self, request: web.Request) -> dict[str, Any]:
        self.faults.reorder_next(_int(request, "count", 1))
        return _OK

    async def oversized(self, request: web.Request) -> dict[str, Any]:
        self.faults.oversized_next(_int(request, "count", 1), _int(request, "size_bytes", 0))
        return _OK

    async def clear(self, _request: web.Request) -> dict[str, Any]:
        self.faults.clear()
        return _OK

    # ---- the order side --------------------------------------------------------------------------

    async def order_rate_limit(self, request: web.Request) -> dict[str, Any]:
        self.faults.trading.order_rate_limit_next(
            _int(request, "count", 1),
            _int(request, "retry_after_s", 1),
            banned=_bool(request, "banned", default=False),
        )
        return _OK

    async def status_unknown(self, request: web.Request) -> dict[str, Any]:
        answer = request.query.get("answer", "timeout")
        if answer not in ("timeout", "unavailable"):
            raise SimError(f"answer must be 'timeout' or 'unavailable', not {answer!r}")
        self.faults.trading.status_unknown_next(
            _int(request, "count", 1),
            placed=_bool(request, "placed", default=True),
            answer="timeout" if answer == "timeout" else "unavailable",
            delay_s=_float(request, "delay_s", 0.0),
        )
        return _OK

    async def garbage_rest(self, request: web.Request) -> dict[str, Any]:
        self.faults.trading.garbage_rest_next(_int(request, "count", 1))
        return _OK

    async def slow_orders(self, request: web.Request) -> dict[str, Any]:
        self.faults.trading.slow_orders(_float(request, "delay_s", None), _int(request, "count", 1))
        return _OK

    async def malformed_user_stream(self, request: web.Request) -> dict[str, Any]:
        self.faults.trading.malformed_user_stream_next(_int(request, "count", 1))
        return _OK

    async def disconnect_user_streams(self, _request: web.Request) -> dict[str, Any]:
        return {"disconnected": self.faults.trading.disconnect_user_streams()}

    async def terminate_user_streams(self, _request: web.Request) -> dict[str, Any]:
        return {"terminated": self.faults.trading.terminate_user_streams()}

    async def orders(self, request: web.Request) -> dict[str, Any]:
        symbol = request.query.get("symbol") or None
        if symbol is not None and not self.venue.has_symbol(symbol):
            raise SimError(f"unknown symbol {symbol!r}")
        name = request.query.get("account") or None
        account = self.venue.desk.accounts.by_name(name) if name else None
        if name and account is None:
            raise SimError(f"no account is named {name!r}")
        only_open = _bool(request, "open", default=False)
        records = self.venue.desk.orders(account, symbol)
        return {"orders": [self._order(r) for r in records if r.is_open or not only_open]}

    def _order(self, record: OrderRecord) -> dict[str, Any]:
        text = self.venue.desk.text(record.symbol)
        return {
            "account": record.account.name,
            "symbol": record.symbol,
            "orderId": record.order_id,
            "clientOrderId": record.client_order_id,
            "side": record.side.name,
            "type": record.order_type,
            "timeInForce": record.time_in_force,
            "price": text.price(record.price),
            "origQty": text.size(record.quantity),
            "executedQty": text.size(record.executed),
            "cummulativeQuoteQty": text.quote(record.cum_quote),
            "status": record.status,
            "isWorking": record.is_working,
            "time": record.created_ms,
            "updateTime": record.update_ms,
        }

    async def accounts(self, _request: web.Request) -> dict[str, Any]:
        return {
            "accounts": [
                {
                    "name": a.name,
                    "uid": a.uid,
                    "balances": {
                        asset: {"free": amount_text(b.free), "locked": amount_text(b.locked)}
                        for asset, b in a.balances.items()
                    },
                }
                for a in self.venue.desk.accounts.all()
            ]
        }

    async def market_order(self, request: web.Request) -> dict[str, Any]:
        symbol = _symbol(request)
        side_text = request.query.get("side", "")
        if side_text not in ("BUY", "SELL"):
            raise SimError(f"side must be BUY or SELL, not {side_text!r}")
        quantity = request.query.get("quantity", "")
        model = self.venue.model(symbol)
        try:
            lots = model.instrument.size_grid().to_int(quantity)
        except InstrumentError as exc:
            raise SimError(f"quantity: {exc}") from None
        activity = self.venue.market_order(symbol, Side[side_text], lots)
        text = wire.WireText(model.instrument)
        return {
            "trades": [
                {"id": t.trade_id, "price": text.price(t.price), "qty": text.size(t.size)}
                for t in activity.trades
            ]
        }


def _answer(action: _Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Turn an action into a handler: its dict as JSON, or 400 with the error's message."""

    async def handler(request: web.Request) -> web.StreamResponse:
        try:
            result = await action(request)
        except SimError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.Response(body=msgspec.json.encode(result), content_type="application/json")

    return handler


def _symbol(request: web.Request) -> str:
    symbol = request.query.get("symbol", "")
    if not symbol:
        raise SimError("the symbol parameter is required")
    return symbol


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SimError(f"{name} must be a whole number, not {raw!r}") from None


def _bool(request: web.Request, name: str, *, default: bool) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise SimError(f"{name} must be true or false, not {raw!r}")
    return raw == "true"


def _float(request: web.Request, name: str, default: float | None) -> float:
    raw = request.query.get(name)
    if raw is None:
        if default is None:
            raise SimError(f"the {name} parameter is required")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SimError(f"{name} must be a number, not {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise SimError(f"{name} must be a finite number, not {raw!r}")
    return value
