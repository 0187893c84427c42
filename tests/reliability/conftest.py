"""The reliability suite's fixtures: a trading venue and engine in-process, and the fault table.

Every fault test takes ``fault`` (a :class:`FaultLog`): it marks when the fault went in, when the
engine noticed and when the state was right again, and what was lost. Each test leaves one row;
the suite prints them all as a table at the end (``pytest_terminal_summary``) and writes them as
JSON when ``HFT_RELIABILITY_JSON`` names a file (``hft-tui reliability-report`` reads that).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.core.clock import LiveClock
from engine.core.config import load_config
from engine.core.events import Side
from engine.engine import Engine
from engine.oms.order import OrderStatus
from engine.sim.accounts import Account, AccountSpec
from engine.sim.server import SimVenue
from hft_tui.reliability import REPORT_ENV, FaultRow, render_table, write_rows
from tests.integration import conftest as _integration

ROWS: list[FaultRow] = []

instance = _integration.instance
engine_env = _integration.engine_env
engine_config = _integration.engine_config
TIMEOUT_S = 20.0
SYMBOL = "BTCUSDT"


class FaultLog:
    """What one test injected and what came of it; becomes one row of the table."""

    def __init__(self) -> None:
        self.fault = ""
        self.detected_by = "-"
        self.detected_s: float | None = None
        self.recovered_s: float | None = None
        self.orders_lost: int | None = None
        self.data_lost: int | None = None
        self._t0 = 0.0

    def inject(self, fault: str) -> None:
        """The fault goes in now."""
        self.fault = fault
        self._t0 = time.monotonic()

    def detected(self, by: str) -> None:
        """The engine noticed, through ``by``."""
        self.detected_by = by
        self.detected_s = time.monotonic() - self._t0

    def recovered(self) -> None:
        """The state is right again."""
        self.recovered_s = time.monotonic() - self._t0

    def lost(self, orders: int, data: int = 0) -> None:
        """Record what was lost, then require it to be nothing."""
        self.orders_lost, self.data_lost = orders, data
        assert orders == 0, f"{self.fault}: {orders} orders or fills lost or wrong"
        assert data == 0, f"{self.fault}: {data} data items lost"


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> Iterator[FaultLog]:
    """The row of this test in the reliability table."""
    log = FaultLog()
    yield log
    report = getattr(request.node, "rep_call", None)
    outcome = "error" if report is None else report.outcome
    ROWS.append(
        FaultRow(
            fault=log.fault or request.node.name,
            detected_by=log.detected_by,
            detected_s=log.detected_s,
            recovered_s=log.recovered_s,
            orders_lost=log.orders_lost,
            data_lost=log.data_lost,
            outcome=outcome,
        )
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item, so ``fault`` knows how its test ended."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the fault table (and write it as JSON when asked)."""
    if not ROWS:
        return
    target = os.environ.get(REPORT_ENV)
    if target:  # hft-tui reliability-report prints the table itself
        write_rows(Path(target), ROWS)
        return
    terminalreporter.section("reliability: faults injected")
    terminalreporter.write_line(render_table(ROWS))


# ---- waiting ---------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], what: str, limit_s: float = TIMEOUT_S) -> None:
    """Wait for ``condition`` on the running loop; fail naming ``what`` after ``limit_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


# ---- a trading venue and engine in this process ------------------------------------------------


@dataclass
class Desk:
    """A local venue with our account on it and an engine trading it in live mode."""

    venue: SimVenue
    engine: Engine
    account: Account
    tmp: Path
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def venue_name(self) -> str:
        """The engine's name for the venue."""
        return self.engine.config.venue.name

    def ready(self) -> bool:
        """The book is live and the order link healthy and reconciled."""
        engine = self.engine
        return (
            engine.book_states.get(0) == "live"
            and engine.gateway is not None
            and engine.oms.link_healthy(engine.gateway.venue)
        )

    def place(self, **doc: str) -> str:
        """Place an order through the engine's full path; its client order id."""
        placed = self.engine.place_order({"symbol": SYMBOL, **doc}, "reliability test")
        assert placed["status"] != "rejected", placed
        return str(placed["client_order_id"])

    def touch(self) -> tuple[int, int]:
        """The venue's best bid and ask, in ticks."""
        bids, asks, _ = self.venue.true_book(SYMBOL)
        return bids[0][0], asks[0][0]

    def sell_through(self, ticks: int) -> None:
        """A public market sell that trades through every bid down to ``ticks`` (ours too)."""
        bids, _, _ = self.venue.true_book(SYMBOL)
        ahead = sum(size for price, size in bids if price >= ticks)
        self.venue.market_order(SYMBOL, Side.SELL, ahead + 1_000)

    def price(self, ticks: int) -> str:
        """Exact decimal text of a price in ticks."""
        return self.engine.grids[0][0].to_text(ticks)

    def mismatches(self) -> list[str]:
        """Every way the engine's orders, fills and position differ from the venue's."""
        ours = self.engine.oms.orders
        problems = []
        theirs = self.venue.desk.orders(self.account, SYMBOL)
        for record in theirs:
            order = ours.get(record.client_order_id)
            if order is None:
                problems.append(f"{record.client_order_id}: at the venue, unknown to the engine")
                continue
            if order.filled_lots != record.executed:
                problems.append(
                    f"{record.client_order_id}: filled {order.filled_lots} lots, "
                    f"venue {record.executed}"
                )
            if order.is_open != record.is_open:
                problems.append(
                    f"{record.client_order_id}: engine {order.status}, venue {record.status}"
                )
        known = {r.client_order_id for r in theirs}
        for cid, order in ours.items():
            sent = order.status not in (OrderStatus.REJECTED, OrderStatus.NEW)
            if cid not in known and sent and order.venue_order_id:
                problems.append(f"{cid}: in the engine ({order.status}), unknown to the venue")
        net = sum(
            t.quantity if t.side.name == "BUY" else -t.quantity
            for t in self.venue.desk.trades(self.account, SYMBOL)
        )
        position = self.engine.portfolio.position(0).net
        if position != net:
            problems.append(f"position {position} lots, venue fills sum to {net}")
        return problems

    async def settled(self, what: str = "the engine to agree with the venue") -> None:
        """Wait until nothing differs from the venue; fail listing the differences."""
        try:
            await until(lambda: not self.mismatches(), what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {self.mismatches()}") from None


def _config(tmp: Path, name: str, extra: dict[str, str]) -> Any:
    env = {
        "HFT__ENGINE__INSTANCE": name,
        "HFT__CONTROL__PORT": "0",
        "HFT__ENGINE__STATE_DIR": str(tmp / "state"),
        "HFT__SIM__DEPTH_INTERVAL_MS": "20",
        "HFT__OMS__JOURNAL_FSYNC": "never",
        **extra,
    }
    return load_config(None, env)


@pytest.fixture
def desk_env() -> dict[str, str]:
    """``HFT__...`` overrides for the ``desk`` fixture's engine (a test may add to it)."""
    return {}


class OffsetClock(LiveClock):
    """The machine's clock, with wall time ``offset_ns`` away (a host clock off by that much)."""

    def __init__(self, offset_ns: int) -> None:
        self.offset_ns = offset_ns

    def time_ns(self) -> int:
        """Wall time, off by ``offset_ns``."""
        return super().time_ns() + self.offset_ns


@pytest.fixture
def desk_clock_offset_ns() -> int:
    """How far the ``desk`` engine's wall clock is from the venue's (a test may override)."""
    return 0


@pytest.fixture
def desk_venue() -> dict[str, Any]:
    """Keyword arguments for the ``desk`` fixture's :class:`SimVenue` (a test may add to it)."""
    return {}


@pytest.fixture
async def desk(
    tmp_path: Path,
    desk_env: dict[str, str],
    desk_clock_offset_ns: int,
    desk_venue: dict[str, Any],
) -> AsyncIterator[Desk]:
    """A busy local venue with our account and a live-mode engine trading it over sockets."""
    config = _config(tmp_path, f"r{uuid.uuid4().hex[:10]}", desk_env)
    key, secret = secrets.token_hex(32), secrets.token_hex(32)
    venue = SimVenue(
        config.instrument_list(),
        seed=5,
        events_per_second=400.0,
        depth_interval_ms=20,
        accounts=[AccountSpec(key, secret, balances={"USDT": "1000000", "BTC": "10"})],
        **desk_venue,
    )
    await venue.start()
    account = venue.trading.accounts.by_key(key)
    assert account is not None
    clock = OffsetClock(desk_clock_offset_ns) if desk_clock_offset_ns else None
    engine = Engine(config, clock=clock, venue_urls=(venue.ws_url, venue.rest_url))
    engine.sim_key = (key, secret)
    task = asyncio.create_task(engine.run())
    desk = Desk(venue, engine, account, tmp_path)
    try:
        await until(desk.ready, "a live book and a healthy, reconciled order link")
        yield desk
    finally:
        engine.request_stop()
        try:
            await asyncio.wait_for(task, TIMEOUT_S)
        finally:
            await venue.stop()
            await _no_task_left_behind()


async def _no_task_left_behind(timeout_s: float = 5.0) -> None:
    """Fail naming every task still alive once the engine and venue have stopped.

    The event loop's own teardown cancels leftovers once and waits for them without a bound; a
    task that loses that cancellation would hold the whole run. Here they are cancelled again
    and again for ``timeout_s`` and whatever is left is reported with its stack.
    """
    me = asyncio.current_task()
    deadline = time.monotonic() + timeout_s
    while True:
        left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not left:
            return
        if time.monotonic() > deadline:
            stacks = "\n".join(f"{t.get_name()}: {t.get_stack(limit=3)}" for t in left)
            pytest.fail(f"{len(left)} task(s) outlived the engine and ignored cancel:\n{stacks}")
        for t in left:
            t.cancel()
        await asyncio.wait(left, timeout=0.25)
