"""Strategy routes over a real socket on 127.0.0.1, with a real runner on the paper desk."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from engine.control.http import ControlPlane
from engine.control.strategies import RunnerControl, add_strategy_routes
from engine.oms.order import OrderStatus
from engine.strategy.market_maker import MarketMaker, MarketMakerParams
from engine.strategy.reload import load_strategy_file
from tests.engine.strategy.conftest import StrategyDesk

TOKEN = "test-token-strategies"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BIDS = [(499_000, 1000)]
ASKS = [(500_000, 1000)]
SOURCE = """
from engine.core.events import Side
from engine.strategy.base import Params, Strategy


class Bidder(Strategy[Params]):
    def on_book(self, instrument, book):
        if not self.ctx.open_orders():
            self.ctx.submit(instrument, Side.BUY, 1, book.best_bid()[0] - VERSION)
"""


@pytest.fixture
async def desk(tmp_path: Path):
    """A started paper desk."""
    d = StrategyDesk(tmp_path)
    await d.gateway.start()
    yield d
    await d.gateway.stop()


@pytest.fixture
async def served(desk: StrategyDesk, monkeypatch: pytest.MonkeyPatch):
    """The strategy routes with the control plane's own token check, and a quoting market maker."""
    monkeypatch.setenv("HFT_TEST_STRATEGY_TOKEN", TOKEN)
    plane = ControlPlane(None, "127.0.0.1", 0, token_env="HFT_TEST_STRATEGY_TOKEN")  # type: ignore[arg-type]
    app = web.Application()
    add_strategy_routes(app, RunnerControl(desk.runner), plane._refused)
    desk.runner.add(MarketMaker("mm", MarketMakerParams(instrument=0)))
    desk.runner.start()
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield client
    await client.close()


async def test_the_list_shows_each_strategy_with_its_params_and_callback_times(served):
    """GET /strategies names the kind, running state, parameters and p50/p99."""
    resp = await served.get("/strategies")
    assert resp.status == 200
    (mm,) = await resp.json()
    assert mm["name"] == "mm"
    assert mm["kind"] == "MarketMaker"
    assert mm["running"] is True
    assert mm["error"] == ""
    assert mm["params"]["instrument"] == 0
    assert mm["callbacks"] >= 1
    assert mm["p99_us"] >= mm["p50_us"] >= 0


async def test_a_parameter_change_is_applied(served, desk):
    """A valid partial change is put in force and answered with the new parameters."""
    resp = await served.put("/strategies/mm/params", json={"levels": 2}, headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["params"]["levels"] == 2
    assert desk.runner.strategy("mm").params.levels == 2


async def test_a_refused_value_names_field_value_range_and_keeps_the_old_params(served, desk):
    """An out-of-range value answers 400 with the field, value, range and the params in force."""
    before = desk.runner.strategy("mm").params
    resp = await served.put("/strategies/mm/params", json={"levels": 10_000}, headers=AUTH)
    assert resp.status == 400
    doc = await resp.json()
    assert doc["field"] == "levels"
    assert doc["value"] == 10_000
    assert "<=" in doc["allowed"]
    assert doc["params"]["levels"] == before.levels
    assert desk.runner.strategy("mm").params is before


async def test_changes_without_the_token_are_refused(served, desk):
    """Every changing route answers 401 without the bearer token, and nothing changes."""
    before = desk.runner.strategy("mm").params
    for method, path in [
        ("PUT", "/strategies/mm/params"),
        ("POST", "/strategies/mm/stop"),
        ("POST", "/strategies/mm/start"),
        ("POST", "/strategies/mm/reload"),
    ]:
        resp = await served.request(method, path, json={"levels": 2})
        assert resp.status == 401, path
    assert desk.runner.strategy("mm").params is before
    assert desk.runner.stats()[0].running


async def test_bad_bodies_and_unknown_names_are_answered_clearly(served):
    """A body that is not a JSON object is 400; an unknown strategy is 404 by name."""
    resp = await served.put("/strategies/mm/params", data=b"[1]", headers=AUTH)
    assert resp.status == 400
    resp = await served.put("/strategies/mm/params", data=b"{nope", headers=AUTH)
    assert resp.status == 400
    resp = await served.post("/strategies/ghost/stop", headers=AUTH)
    assert resp.status == 404
    assert "ghost" in (await resp.json())["error"]


async def test_stop_cancels_its_orders_and_start_resumes_it(served, desk):
    """Stopping cancels its quotes (again: no change); starting it again lets it quote again."""
    mm = desk.runner.strategy("mm")
    quotes = [o.client_order_id for o in mm.ctx.open_orders()]
    assert quotes
    resp = await served.post("/strategies/mm/stop", headers=AUTH)
    assert (await resp.json()) == {"name": "mm", "running": False, "changed": True}
    await desk.settle()
    assert all(desk.oms.orders[c].status is OrderStatus.CANCELED for c in quotes)
    resp = await served.post("/strategies/mm/stop", headers=AUTH)
    assert (await resp.json()) == {"name": "mm", "running": False, "changed": False}
    resp = await served.post("/strategies/mm/start", headers=AUTH)
    assert (await resp.json()) == {"name": "mm", "running": True, "changed": True}
    desk.set_book(BIDS, ASKS)
    await desk.settle()
    assert mm.ctx.open_orders()


async def test_reload_swaps_the_source_and_a_bad_one_answers_file_and_line(
    served, desk, tmp_path: Path
):
    """A good reload answers the source and flat; a syntax error answers 422 with file and line."""
    path = tmp_path / f"bidder_{tmp_path.name}.py"
    path.write_text(SOURCE.replace("VERSION", "1"), encoding="utf-8")
    cls = load_strategy_file(path, "Bidder")
    desk.runner.add(cls("bid", cls.params_type()))
    desk.runner.start()
    path.write_text(SOURCE.replace("VERSION", "2"), encoding="utf-8")
    resp = await served.post("/strategies/bid/reload", headers=AUTH)
    assert resp.status == 200
    assert (await resp.json()) == {
        "name": "bid",
        "kind": "Bidder",
        "source": str(path),
        "flat": True,
    }
    path.write_text(SOURCE.replace("VERSION", "2").replace("def on_book(", "def on_book(("))
    resp = await served.post("/strategies/bid/reload", headers=AUTH)
    assert resp.status == 422
    doc = await resp.json()
    assert doc["file"] == str(path)
    assert doc["line"] == 7
