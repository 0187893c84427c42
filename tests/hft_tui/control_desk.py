"""The engine's own HTTP control plane on 127.0.0.1 for UI tests, over a small engine stand-in.

:class:`ControlDesk` answers what the UI reads over HTTP: the risk limits (validated by the
real :func:`~engine.risk.limits.compile_limits` against a real instrument, so a bad value is
refused with the engine's own words), a ``/status`` document, the ``/orders`` list and the
strategies (:class:`~tests.hft_tui.strategy_desk.StrategyDesk`).
:class:`ServedControl` runs :class:`~engine.control.http.ControlPlane` on its own event loop in
a thread, so the UI's blocking calls from its workers (and snapshot tests, which own the main
loop) reach it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from engine.control.http import ControlPlane
from engine.core.instruments import Instrument
from engine.oms.views import OrderRequestError
from engine.risk.limits import RiskLimits, compile_limits
from tests.hft_tui.strategy_desk import StrategyDesk

BTCUSDT = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)
TOKEN_ENV = "HFT_UI_TEST_TOKEN"
"""The token's environment variable in these tests (never the operator's own)."""
TOKEN = "ui-test-token"


class ControlDesk:
    """An engine as far as the control plane's routes see it."""

    def __init__(self) -> None:
        self.limits = RiskLimits()
        self.changes: list[tuple[str, RiskLimits]] = []
        """(actor, new limits) for every change that took effect."""
        self.kills: list[str] = []
        self.venue = {"name": "sim", "link": "live", "frames": 5120, "reconnects": 2}
        self.rejections = {"price_band": 3, "daily_loss": 0}
        self.orders: list[dict[str, Any]] = []
        """What ``GET /orders`` lists (``venue_order_id`` per ``client_order_id``)."""
        self.strategy_control = StrategyDesk()
        """What the strategy routes list and change."""

    @property
    def trading(self) -> str:
        """Always running here; the UI's breaker line comes from the engine page."""
        return "running"

    def status(self) -> dict[str, Any]:
        """A ``/status`` document with the parts the UI reads."""
        return {
            "instance": "control-desk",
            "trading": self.trading,
            "venue": dict(self.venue),
            "risk": {"halted": False, "rejections": dict(self.rejections)},
        }

    def kill(self, source: str) -> None:
        """Note the kill."""
        self.kills.append(source)

    def reset(self, actor: str) -> bool:
        """Nothing to reset."""
        return False

    def risk_limits(self) -> RiskLimits:
        """The limits in force."""
        return self.limits

    def set_risk_limits(self, limits: RiskLimits, actor: str) -> None:
        """Validate as the engine's pipeline does, then put the limits in force."""
        compile_limits(limits, [BTCUSDT])
        self.limits = limits
        self.changes.append((actor, limits))

    def orders_doc(self, include_closed: bool) -> list[Any]:
        """The orders as ``GET /orders`` lists them."""
        return list(self.orders)

    def positions_doc(self) -> dict[str, Any]:
        """No positions over HTTP here."""
        return {"positions": []}

    def place_order(self, doc: dict[str, Any], actor: str) -> dict[str, Any]:
        """The UI never places orders over HTTP (it uses the command ring)."""
        raise OrderRequestError("orders over HTTP are not part of these tests")

    def cancel_order(self, client_order_id: str, actor: str) -> bool:
        """The UI cancels over the command ring."""
        return False

    def cancel_all_orders(self, source: str) -> None:
        """The UI cancels over the command ring."""


class ServedControl:
    """The control plane over ``desk`` on 127.0.0.1 (a free port), on a loop in a thread."""

    def __init__(self, desk: ControlDesk) -> None:
        self.desk = desk
        self._plane = ControlPlane(desk, "127.0.0.1", 0, token_env=TOKEN_ENV)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.url = ""

    def __enter__(self) -> ServedControl:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._plane.start(), self._loop).result(10)
        self.url = self._plane.url
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._plane.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
