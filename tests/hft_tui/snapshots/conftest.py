"""Fixed data for the screen snapshots: one engine state, published on real shared memory.

Every snapshot draws the same instance (``snapshot``) on a simulated clock: a seeded book, a
running engine, a trading page with working, filled and rejected orders, a position, alerts and
rate limiters, a tape of trades and two fills; the control plane (for the risk and health
screens) runs on 127.0.0.1 over :class:`~tests.hft_tui.control_desk.ControlDesk`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from engine.core.clock import SimClock
from engine.ipc.protocol import AlertRow, EventKind, Flag, PositionRow, RateRow, pack
from engine.ipc.publisher import EnginePublisher
from hft_tui.app import TradingApp, UiSettings
from tests.hft_tui.conftest import (
    SYMBOL,
    LocalSession,
    book_view,
    engine_view,
    order_row,
    trading_view,
)
from tests.hft_tui.control_desk import TOKEN_ENV, ControlDesk, ServedControl
from tests.hft_tui.pilot import ladder_lines, tape_lines, wait_until

#: a fixed name: the instance shows in the banner
INSTANCE = "snapshot"
TRADES = 24
SECOND = 1_000_000_000
#: the sizes every screen is snapshotted at: the smallest supported, and a roomy one
SIZES = [(80, 24), (120, 40)]


def publish_state(pub: EnginePublisher, clock: SimClock) -> None:
    """The engine state every snapshot shows."""
    now = clock.time_ns()
    pub.heartbeat(now)
    pub.publish_engine(engine_view(clock, INSTANCE))
    pub.publish_book(book_view(seed=42))
    orders = [
        order_row(
            11,
            instance=INSTANCE,
            price=6_500_000,
            ts_ns=now - 3 * SECOND,
            strategy="mm",
            queue_ahead=52_000,
        ),
        order_row(
            12,
            instance=INSTANCE,
            side=2,
            price=6_500_003,
            size=250,
            filled=50,
            status="partially_filled",
            ts_ns=now - SECOND,
            strategy="mm",
            queue_ahead=0,
        ),
        order_row(13, instance=INSTANCE, price=6_499_998, ts_ns=now),
        order_row(
            9,
            instance=INSTANCE,
            price=6_600_000,
            status="rejected",
            reason="price_band: 66000.00 is 153 bps from mid 65000.005, limit 100 bps",
            ts_ns=now - 5 * SECOND,
        ),
        order_row(
            8,
            instance=INSTANCE,
            side=2,
            size=300,
            order_type="market",
            status="filled",
            filled=300,
            ts_ns=now - 9 * SECOND,
        ),
    ]
    positions = [
        PositionRow(
            instrument=0,
            net_lots=-300,
            avg_entry="65000",
            realised="0",
            unrealised="-0.015",
            fees="0.039",
        ),
    ]
    alerts = [
        AlertRow(
            ts_ns=now - 6 * SECOND,
            level="info",
            source="engine",
            message="paper trading on sim: orders match in-process",
        ),
        AlertRow(
            ts_ns=now - 5 * SECOND,
            level="warning",
            source="risk",
            message="order snapshot-9 rejected: price_band",
        ),
        AlertRow(
            ts_ns=now - 2 * SECOND,
            level="critical",
            source="oms",
            message="reconciliation: venue reports 0.003 BTCUSDT, the engine 0.002",
        ),
    ]
    rate = [
        RateRow(name="orders_10s", used=12, limit=100),
        RateRow(name="weight_1m", used=5_000, limit=6_000),
    ]
    pub.publish_trading(
        trading_view(
            orders=orders, positions=positions, alerts=alerts, daily="-12.5", rate=rate, rejects=1
        )
    )
    for n in range(TRADES):
        buy = n % 3 != 0
        pub.emit(
            pack(
                EventKind.TRADE,
                Flag.BUY if buy else Flag.SELL,
                0,
                exch_ts=now + n * 137_000_000,
                price=6_500_001 if buy else 6_500_000,
                size=1_000 + 357 * n,
                aux=n + 1,
            )
        )
    pub.emit(
        pack(
            EventKind.FILL,
            Flag.SELL,
            0,
            engine_ts=now - 9 * SECOND,
            price=6_500_000,
            size=300,
            seq=8,
            aux=2,
        )
    )
    pub.emit(
        pack(
            EventKind.FILL,
            Flag.SELL,
            0,
            engine_ts=now - SECOND,
            price=6_500_003,
            size=50,
            seq=12,
            aux=1,
        )
    )


@contextlib.contextmanager
def instance_turn() -> Iterator[None]:
    """Hold the fixed instance name while a snapshot draws it.

    Every snapshot publishes as ``snapshot`` (the name is in the picture), so two test runs at once
    on one machine would find the instance taken (``InstanceRunning``); this lock makes them
    take turns instead.
    """
    path = Path(tempfile.gettempdir()) / f"hft-tui-{os.getuid()}-{INSTANCE}-test.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture
def seeded(sim_clock: SimClock) -> Iterator[EnginePublisher]:
    """The engine side with :func:`publish_state` on it (one test run at a time)."""
    with instance_turn():
        pub = EnginePublisher.create(INSTANCE, [SYMBOL], clock=sim_clock)
        try:
            publish_state(pub, sim_clock)
            yield pub
        finally:
            pub.close()


@pytest.fixture
def served(seeded: EnginePublisher) -> Iterator[ServedControl]:
    """The control plane on 127.0.0.1, announced for the snapshot instance."""
    with ServedControl(ControlDesk()) as control:
        seeded.announce(control.url)
        yield control


def snapshot_app(clock: SimClock, *, ansi: bool = False) -> TradingApp:
    """The app on the snapshot instance."""
    return TradingApp(LocalSession(INSTANCE), UiSettings(ansi=ansi, token_env=TOKEN_ENV), clock)


async def drawn(pilot: Pilot[None]) -> None:
    """Wait until the trade screen shows the book and the tape."""
    await wait_until(pilot, lambda: "65000.01" in "\n".join(ladder_lines(pilot)), "the book")
    await wait_until(pilot, lambda: len([t for t in tape_lines(pilot) if t.strip()]) > 5, "trades")


def on_mode(key: str, ready: Callable[[Pilot[None]], bool], what: str):
    """A ``run_before`` that waits for the trade screen, shows a mode and waits until ``ready``."""

    async def run_before(pilot: Pilot[None]) -> None:
        await drawn(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: ready(pilot), what)
        await pilot.pause()

    return run_before
