"""Bybit REST limits: endpoint buckets, the venue's counts from X-Bapi-Limit headers, bans."""

from __future__ import annotations

from engine.core.clock import SimClock
from engine.errors import IpBanned, RateLimited
from engine.venues.bybit.rest import ENDPOINT_BUCKETS, IP, LIMITS, BybitRest
from engine.venues.bybit.signing import BybitSigner
from engine.venues.clock_offset import ClockOffset
from engine.venues.ratelimit import RateLimit, RateLimiter


def rest(clock: SimClock, limits: tuple[RateLimit, ...] = LIMITS) -> BybitRest:
    """A REST client (never opened: only its limit bookkeeping is used)."""
    limiter = RateLimiter("bybit", limits, clock)
    return BybitRest(
        "http://127.0.0.1:1", BybitSigner("k", b"s"), limiter, ClockOffset(clock, venue="bybit")
    )


def used(client: BybitRest) -> dict[str, int]:
    """Tokens out per bucket."""
    return {u.name: u.used for u in client.limiter.usage()}


def test_every_endpoint_has_its_bucket_and_spends_the_address_too():
    """A create spends one of ORDER_CREATE and one of the address's 600 per 5 s."""
    clock = SimClock()
    client = rest(clock)
    assert set(ENDPOINT_BUCKETS.values()) | {IP} == {limit.name for limit in LIMITS}
    assert client.limiter.reserve(client.cost("/v5/order/create")) == 0
    assert used(client)["ORDER_CREATE"] == 1
    assert used(client)[IP] == 1
    client.limiter.reserve(client.cost("/v5/market/time"))
    assert used(client)[IP] == 2
    assert used(client)["ORDER_CREATE"] == 1


def test_the_venues_count_raises_ours():
    """X-Bapi-Limit 10 with 3 left means 7 used, more than ours: taken."""
    client = rest(SimClock())
    client.observe("/v5/order/cancel", {"x-bapi-limit": "10", "x-bapi-limit-status": "3"}, None)
    assert used(client)["ORDER_CANCEL"] == 7
    client.observe("/v5/order/cancel", {"x-bapi-limit": "bad"}, None)
    assert used(client)["ORDER_CANCEL"] == 7


def test_too_many_visits_spends_the_bucket_to_the_full():
    """After 10006 the endpoint's next request waits for its window; others do not."""
    client = rest(SimClock())
    error = RateLimited("bybit", "Too many visits!", 10006, retry_after_s=0.5)
    client.observe("/v5/order/create", {}, error)
    assert used(client)["ORDER_CREATE"] == 10
    assert client.limiter.reserve(client.cost("/v5/order/create")) > 0
    assert client.limiter.reserve(client.cost("/v5/order/cancel")) == 0


def test_the_address_limit_bans_every_request():
    """HTTP 403 bans the limiter for its 10 minutes."""
    client = rest(SimClock())
    client.observe(
        "/v5/order/create", {}, IpBanned("bybit", "access too frequent", retry_after_s=600)
    )
    assert client.limiter.banned_for_s == 600


def test_endpoints_without_a_bucket_are_not_limited():
    """With limits that leave out a bucket, its endpoint spends nothing there."""
    client = rest(SimClock(), (RateLimit(name=IP, limit=5, window_s=1.0),))
    client.observe("/v5/order/create", {"x-bapi-limit": "10", "x-bapi-limit-status": "0"}, None)
    client.limiter.reserve(client.cost("/v5/order/create"))
    assert used(client) == {IP: 1}
