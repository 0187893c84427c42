"""Fixtures for the local venue: instruments and venues on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.core.instruments import Instrument
from engine.sim.server import SimVenue
from tests.engine.sim.traders import accounts


@pytest.fixture
def btc() -> Instrument:
    """BTCUSDT with Binance's tick, lot and minimum notional."""
    return Instrument(
        venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
    )


@pytest.fixture
def eth() -> Instrument:
    """ETHUSDT, a second instrument on the same venue."""
    return Instrument(
        venue="sim", symbol="ETHUSDT", tick_size="0.01", lot_size="0.0001", min_notional="5"
    )


@pytest.fixture
async def venue(btc: Instrument) -> AsyncIterator[SimVenue]:
    """A venue that moves only when the test calls ``step``."""
    sim = SimVenue([btc], seed=3, events_per_second=2000.0, autorun=False)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def live_venue(btc: Instrument) -> AsyncIterator[SimVenue]:
    """A venue running in real time: a busy market and 20 ms diffs."""
    sim = SimVenue([btc], seed=5, events_per_second=3000.0, depth_interval_ms=20)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def trading_venue(btc: Instrument) -> AsyncIterator[SimVenue]:
    """A stepped venue with two trading accounts, alice (the default key) and bob."""
    sim = SimVenue([btc], seed=3, events_per_second=2000.0, autorun=False, accounts=accounts())
    await sim.start()
    yield sim
    await sim.stop()
