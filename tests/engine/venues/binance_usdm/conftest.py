"""Fixtures for the USD-M gateway tests: a still local venue and a started gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.binance_usdm.gateway import BinanceUsdmGateway
from tests.engine.venues.binance_usdm.helpers import BTC, KEY, SECRET, make_gateway
from tests.engine.venues.recording import Recorder


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A still market with one funded account."""
    sim = SimVenue(
        [BTC],
        seed=11,
        autorun=False,
        accounts=[AccountSpec(KEY, SECRET, balances={"USDT": "1000000"})],
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def gateway(venue: SimVenue) -> AsyncIterator[tuple[BinanceUsdmGateway, Recorder]]:
    """A started gateway and its listener."""
    listener = Recorder()
    gw = make_gateway(venue, listener)
    await gw.start()
    yield gw, listener
    await gw.stop()
