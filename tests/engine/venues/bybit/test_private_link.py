"""The private stream link against the local venue: heartbeats keep one connection up."""

from __future__ import annotations

import asyncio

import pytest

from engine.core.clock import LiveClock
from engine.core.instruments import Instrument
from engine.errors import AuthError
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff
from engine.venues.bybit.orders import BybitMarket
from engine.venues.bybit.private import PrivateParser
from engine.venues.bybit.private_link import PrivateLink
from engine.venues.bybit.signing import BybitSigner
from engine.venues.clock_offset import ClockOffset

pytestmark = pytest.mark.integration

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")


def link(
    venue: SimVenue, links: list[tuple[bool, str]], secret: str, pong_timeout_s: float = 2.0
) -> PrivateLink:
    """A link pinging every 20 ms (the venue's clock is the machine's: no offset)."""
    clock = LiveClock()
    return PrivateLink(
        f"{venue.ws_url}/v5/private",
        BybitSigner("linkKey1", secret.encode()),
        PrivateParser({"BTCUSDT": BybitMarket(BTC)}),
        ClockOffset(clock, venue="bybit"),
        lambda frame: None,
        lambda up, why: links.append((up, why)),
        clock,
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        ping_interval_s=0.02,
        pong_timeout_s=pong_timeout_s,
    )


async def test_pings_are_answered_and_the_connection_stays():
    """Over many ping intervals the venue's pongs keep the first connection up."""
    venue = SimVenue([BTC], autorun=False, accounts=[AccountSpec("linkKey1", "linkSecret1")])
    await venue.start()
    links: list[tuple[bool, str]] = []
    private = link(venue, links, "linkSecret1")
    task = asyncio.create_task(private.run())
    try:
        await asyncio.wait_for(asyncio.shield(private.first_answer), 5)
        await asyncio.sleep(0.3)  # about fifteen heartbeats
        assert private.up
        assert private.connections == 1
        assert links == [(True, "")]
    finally:
        await private.stop()
        await asyncio.wait_for(task, 5)
        await venue.stop()


async def test_a_refused_auth_fails_the_first_answer():
    """A wrong secret makes the first answer an AuthError naming the venue's reason."""
    venue = SimVenue([BTC], autorun=False, accounts=[AccountSpec("linkKey1", "linkSecret1")])
    await venue.start()
    links: list[tuple[bool, str]] = []
    private = link(venue, links, secret="wrong")
    task = asyncio.create_task(private.run())
    try:
        with pytest.raises(AuthError, match="error sign"):
            await asyncio.wait_for(asyncio.shield(private.first_answer), 5)
        assert links[0][0] is False
    finally:
        await private.stop()
        await asyncio.wait_for(task, 5)
        await venue.stop()


async def test_an_unanswered_ping_reconnects():
    """A ping the venue leaves unanswered ends the connection; a new one subscribes again."""
    venue = SimVenue([BTC], autorun=False, accounts=[AccountSpec("linkKey1", "linkSecret1")])
    await venue.start()
    links: list[tuple[bool, str]] = []
    private = link(venue, links, "linkSecret1", pong_timeout_s=0.1)
    task = asyncio.create_task(private.run())
    try:
        await asyncio.wait_for(asyncio.shield(private.first_answer), 5)
        venue.bybit.streams.skip_pongs_next()
        for _ in range(500):
            if len(links) >= 3:
                break
            await asyncio.sleep(0.01)
        assert links[:3] == [(True, ""), (False, "no pong within 0.1 s"), (True, "")]
        assert private.connections == 2
    finally:
        await private.stop()
        await asyncio.wait_for(task, 5)
        await venue.stop()
