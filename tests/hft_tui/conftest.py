"""Fixtures for UI tests: a real engine-side publisher on real shared memory, and a simulated clock.

The "engine" here is :class:`~engine.ipc.publisher.EnginePublisher` driven by the test: it owns
real segments under a unique instance name, and the test publishes deterministic book, engine and
trading views and events into them. The app attaches through :class:`LocalSession`, exactly as it
attaches to a real engine.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator

import pytest

from engine.core.clock import SimClock
from engine.ipc.protocol import (
    AlertRow,
    BookState,
    BookView,
    EngineView,
    OrderRow,
    PositionRow,
    RateRow,
    RingView,
    TradingView,
)
from engine.ipc.publisher import EnginePublisher
from hft_tui.app import TradingApp, UiSettings
from hft_tui.bridge import EngineBridge
from hft_tui.state_reader import StateReader
from tests.hft_tui.control_desk import TOKEN_ENV, ControlDesk, ServedControl

#: 65000.00 with a tick of 0.01
BEST_BID = 6_500_000
SYMBOL = "BTCUSDT"


def book_view(
    *,
    best_bid: int = BEST_BID,
    spread: int = 1,
    levels: int = 20,
    seed: int = 7,
    state: BookState = "live",
    update_count: int = 1,
) -> BookView:
    """A deterministic BTCUSDT book: ``levels`` a side, sizes drawn from ``seed``."""
    rng = random.Random(seed)
    bids = [(best_bid - n, rng.randint(1, 250_000)) for n in range(levels)]
    asks = [(best_bid + spread + n, rng.randint(1, 250_000)) for n in range(levels)]
    return BookView(
        instrument=0,
        symbol=SYMBOL,
        tick_size="0.01",
        lot_size="0.00001",
        state=state,
        bids=bids,
        asks=asks,
        update_id=1000 + update_count,
        update_count=update_count,
        exch_ts=0,
        recv_ts=0,
    )


def engine_view(
    clock: SimClock,
    instance: str,
    *,
    trading: str = "running",
    halt_reason: str = "",
    halted_at_ns: int = 0,
    link: str = "live",
    updates_per_s: float = 412.0,
) -> EngineView:
    """An engine view stamped with the clock's current time as its heartbeat."""
    ring = RingView(depth=0, capacity=16384, peak=3, dropped=0)
    return EngineView(
        instance=instance,
        pid=0,
        mode="live",
        trading=trading,  # type: ignore[arg-type]
        halt_reason=halt_reason,
        halted_at_ns=halted_at_ns,
        started_ns=clock.time_ns(),
        heartbeat_ns=clock.time_ns(),
        venue="sim",
        link=link,
        updates_per_s=updates_per_s,
        book_updates=1234,
        gaps=0,
        resyncs=0,
        malformed=0,
        events_ring=ring,
        commands_ring=RingView(depth=0, capacity=1024, peak=0, dropped=0),
        control_url="",
    )


def order_row(
    counter: int,
    *,
    instance: str,
    side: int = 1,
    price: int = BEST_BID,
    size: int = 100,
    filled: int = 0,
    status: str = "accepted",
    reason: str = "",
    ts_ns: int = 0,
    order_type: str = "limit",
    instrument: int = 0,
    venue: str = "sim",
    strategy: str = "",
    queue_ahead: int = -1,
) -> OrderRow:
    """One of our orders as the trading page lists it (a limit GTC by default)."""
    return OrderRow(
        client_order_id=f"{instance}-{counter}",
        instrument=instrument,
        side=side,
        order_type=order_type,
        time_in_force="gtc" if order_type == "limit" else "ioc",
        price_ticks=price if order_type == "limit" else 0,
        size_lots=size,
        filled_lots=filled,
        status=status,
        reason=reason,
        ts_ns=ts_ns,
        venue=venue,
        strategy=strategy,
        queue_ahead=queue_ahead,
    )


def trading_view(
    *,
    orders: list[OrderRow] | None = None,
    positions: list[PositionRow] | None = None,
    alerts: list[AlertRow] | None = None,
    daily: str = "0",
    daily_loss_limit: str = "2000",
    rate: list[RateRow] | None = None,
    rejects: int = 0,
) -> TradingView:
    """A trading page on the paper gateway; totals add up the positions' figures."""
    from decimal import Decimal

    held = positions or []
    realised = sum((Decimal(p.realised) for p in held), Decimal(0))
    unrealised = sum((Decimal(p.unrealised) for p in held), Decimal(0))
    fees = sum((Decimal(p.fees) for p in held), Decimal(0))
    rows = orders or []
    return TradingView(
        orders=rows,
        open_orders=sum(o.status in ("accepted", "partially_filled", "submitted") for o in rows),
        positions=held,
        realised=f"{realised:f}",
        unrealised=f"{unrealised:f}",
        fees=f"{fees:f}",
        net=f"{realised + unrealised - fees:f}",
        daily=daily,
        daily_loss_limit=daily_loss_limit,
        alerts=alerts or [],
        gateway="PaperGateway",
        gateway_healthy=True,
        gateway_reason="",
        rejects=rejects,
        rate=rate or [],
    )


class LocalSession:
    """An :class:`~hft_tui.app.EngineSession` over a publisher in this process.

    Args:
        instance: the publisher's instance name.
        owns_engine: what the app should believe about owning the engine.
        restart: what ``restart`` does before attaching again (e.g. recreate the publisher).
    """

    def __init__(
        self,
        instance: str,
        *,
        owns_engine: bool = True,
        restart: Callable[[], None] | None = None,
    ) -> None:
        self.instance = instance
        self.owns_engine = owns_engine
        self._restart = restart
        self.restarts = 0
        self.shutdowns = 0

    def connect(self) -> EngineBridge:
        """Attach to the publisher's segments."""
        return EngineBridge.attach(self.instance)

    def restart(self) -> EngineBridge:
        """Run the restart hook, then attach."""
        self.restarts += 1
        if self._restart is not None:
            self._restart()
        return EngineBridge.attach(self.instance)

    def shutdown(self) -> None:
        """Count the call; the test owns the publisher."""
        self.shutdowns += 1


@pytest.fixture
def instance() -> str:
    """A unique instance name, so runs never share segments."""
    return f"ui{uuid.uuid4().hex[:10]}"


@pytest.fixture
def publisher(instance: str, sim_clock: SimClock) -> Iterator[EnginePublisher]:
    """The engine side of the IPC on real shared memory, with a live book and a running engine."""
    pub = EnginePublisher.create(instance, [SYMBOL], clock=sim_clock)
    pub.heartbeat(sim_clock.time_ns())
    pub.publish_engine(engine_view(sim_clock, instance))
    pub.publish_book(book_view())
    try:
        yield pub
    finally:
        pub.close()


@pytest.fixture
def bridge(
    publisher: EnginePublisher, instance: str, sim_clock: SimClock
) -> Iterator[EngineBridge]:
    """The UI side attached to ``publisher``."""
    attached = EngineBridge.attach(instance, clock=sim_clock)
    try:
        yield attached
    finally:
        attached.close()


@pytest.fixture
def reader(bridge: EngineBridge, sim_clock: SimClock) -> StateReader:
    """A reader of instrument 0 on ``bridge``."""
    return StateReader(bridge, 0, sim_clock)


@pytest.fixture
def session(instance: str, publisher: EnginePublisher) -> LocalSession:
    """A session that attaches to ``publisher``."""
    return LocalSession(instance)


@pytest.fixture
def app(session: LocalSession, sim_clock: SimClock) -> TradingApp:
    """The app on ``publisher``, refreshing at 50 Hz so tests wait less; its token is the tests'."""
    return TradingApp(session, UiSettings(refresh_hz=50.0, token_env=TOKEN_ENV), sim_clock)


@pytest.fixture
def control_desk() -> ControlDesk:
    """What the control plane reports and changes (limits, status, orders)."""
    return ControlDesk()


@pytest.fixture
def control(control_desk: ControlDesk, publisher: EnginePublisher) -> Iterator[ServedControl]:
    """The engine's control plane on 127.0.0.1, announced in ``publisher``'s instance record."""
    with ServedControl(control_desk) as served:
        publisher.announce(served.url)
        yield served
