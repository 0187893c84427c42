"""The listen-key stream against the local venue: open, events, expiry, refusal, stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from engine.core.clock import LiveClock
from engine.core.instruments import Instrument
from engine.errors import AuthError
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff
from engine.venues.binance.orders import BinanceMarket, Events
from engine.venues.binance.rest import BinanceRest, RestSigner
from engine.venues.binance_usdm.listen_key import ListenKeyLink
from engine.venues.binance_usdm.rest import LIMITS, UsdmCosts, usdm_rest
from engine.venues.binance_usdm.user_stream import UsdmStreamParser
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import RateLimiter
from tests.engine.sim.traders import price_text
from tests.engine.sim.usdm_traders import FuturesTrader

pytestmark = pytest.mark.integration

KEY = "linkKey01"
SECRET = "linkSecret01"
BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)


async def until(condition: Callable[[], object], what: str, within_s: float = 10.0) -> None:
    """Wait for ``condition`` (the limit only ends a hung test)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


class Heard:
    """What the link reports."""

    def __init__(self) -> None:
        self.events: list[Events] = []
        self.links: list[tuple[bool, str]] = []

    def on_events(self, events: Events) -> None:
        """Keep the events."""
        self.events.append(events)

    def on_link(self, up: bool, reason: str) -> None:
        """Keep the change."""
        self.links.append((up, reason))


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A still market with one account."""
    sim = SimVenue([BTC], seed=5, autorun=False, accounts=[AccountSpec(KEY, SECRET)])
    await sim.start()
    yield sim
    await sim.stop()


def rest_for(venue: SimVenue, key: str = KEY) -> BinanceRest:
    """The USD-M REST client for the venue."""
    clock = LiveClock()
    limiter = RateLimiter("sim", LIMITS, clock)
    return usdm_rest(
        venue.rest_url,
        key,
        RestSigner(SECRET.encode()),
        limiter,
        ClockOffset(clock),
        recv_window_ms=5000,
        venue="sim",
        timeout_s=3.0,
    )


@pytest.fixture
async def link(venue: SimVenue) -> AsyncIterator[tuple[ListenKeyLink, Heard, BinanceRest]]:
    """A running link and what it heard."""
    heard = Heard()
    rest = rest_for(venue)
    await rest.open()
    link = make_link(venue, rest, heard)
    task = asyncio.create_task(link.run())
    await asyncio.wait_for(asyncio.shield(link.first_answer), 10)
    yield link, heard, rest
    await link.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await rest.close()


def make_link(venue: SimVenue, rest: BinanceRest, heard: Heard, **options: float) -> ListenKeyLink:
    """A link on the venue's private stream with quick reconnects."""
    return ListenKeyLink(
        f"{venue.ws_url}/private",
        rest,
        UsdmCosts(rest.limiter),
        UsdmStreamParser({"BTCUSDT": BinanceMarket(BTC)}),
        heard.on_events,
        heard.on_link,
        LiveClock(),
        venue="sim",
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        **options,
    )


async def test_the_link_opens_on_a_new_key_and_passes_events_on(link, venue):
    """Up after connecting; an order's reports arrive as events."""
    link_, heard, _ = link
    assert heard.links == [(True, "")]
    assert (link_.keys, link_.connections, link_.up) == (1, 1, True)
    bids, _, _ = venue.true_book("BTCUSDT")
    async with FuturesTrader(venue, KEY, SECRET) as alice:
        await alice.limit("BUY", "0.00100", price_text(BTC, bids[0][0] - 5), newClientOrderId="k-1")
    await until(lambda: heard.events, "the NEW")
    assert heard.events[0][0].client_order_id == "k-1"


async def test_the_url_asks_for_every_event_it_reads(link, venue):
    """The stream URL carries the key and the allow-list of order, account and expiry events."""
    link_, _, _ = link
    assert link_.url("K") == (
        f"{venue.ws_url}/private/ws?listenKey=K"
        "&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE/listenKeyExpired"
    )


async def test_an_expired_key_is_replaced(link, venue):
    """listenKeyExpired: down, a new key, up again."""
    link_, heard, _ = link
    venue.usdm.expire_listen_keys()
    await until(lambda: link_.keys == 2 and link_.up, "the new key's stream")
    assert [up for up, _ in heard.links] == [True, False, True]


async def test_account_updates_keep_the_positions(link, venue):
    """A fill's ACCOUNT_UPDATE sets the link's view of the position."""
    link_, _, _ = link
    _, asks, _ = venue.true_book("BTCUSDT")
    async with FuturesTrader(venue, KEY, SECRET) as alice:
        await alice.limit("BUY", "0.00100", price_text(BTC, asks[0][0]))
    await until(lambda: link_.positions.get(0) == 100, "the position")


async def test_a_refused_api_key_fails_the_first_answer(venue):
    """A key the venue does not know: first_answer raises AuthError -2015."""
    heard = Heard()
    rest = rest_for(venue, key="nobody")
    await rest.open()
    link = make_link(venue, rest, heard)
    task = asyncio.create_task(link.run())
    try:
        with pytest.raises(AuthError) as refused:
            await asyncio.wait_for(asyncio.shield(link.first_answer), 10)
        assert refused.value.code == -2015
        assert heard.links[-1][0] is False
    finally:
        await link.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await rest.close()


async def test_stop_closes_the_key_at_the_venue(link, venue):
    """After stop the venue holds no key for the account."""
    link_, _, _ = link
    await link_.stop()
    account = venue.trading.accounts.all()[0]
    assert not venue.usdm.streams.listening(account)
    async with FuturesTrader(venue, KEY, SECRET) as alice:
        assert (await alice.listen_key("PUT")).code == -1125


async def test_the_repr_shows_no_key(link):
    """The repr names the base and the state, never the listen key."""
    link_, _, _ = link
    assert repr(link_) == f"ListenKeyLink({link_.stream_url!r}, up=True)"
