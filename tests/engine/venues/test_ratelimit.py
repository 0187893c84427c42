"""The venue-neutral rate limiter, on a simulated clock."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.clock import SimClock
from engine.errors import IpBanned
from engine.venues.ratelimit import RateLimit, RateLimiter

NS = 1_000_000_000
ORDERS = RateLimit(name="ORDERS_10S", limit=100, window_s=10.0, header="X-MBX-ORDER-COUNT-10S")
WEIGHT = RateLimit(name="REQUEST_WEIGHT", limit=6000, window_s=60.0, header="X-MBX-USED-WEIGHT-1M")


def limiter(clock: SimClock, *limits: RateLimit) -> RateLimiter:
    """A limiter whose waits move the simulated clock instead of the wall clock."""

    async def sleep(seconds: float) -> None:
        clock.advance(int(seconds * NS))
        await asyncio.sleep(0)

    return RateLimiter("binance", list(limits) or [ORDERS, WEIGHT], clock, sleep=sleep)


def test_requests_below_eighty_percent_go_at_once(sim_clock):
    """The first 80 % of a bucket is spent without any wait."""
    rl = limiter(sim_clock)
    order = rl.cost({"ORDERS_10S": 1, "REQUEST_WEIGHT": 1})
    assert [rl.reserve(order) for _ in range(79)] == [0.0] * 79


def test_requests_above_eighty_percent_are_spaced_further_and_further_apart(sim_clock):
    """Between 80 % and 100 % each request waits a longer gap after the one before it."""
    rl = limiter(sim_clock)
    order = rl.cost({"ORDERS_10S": 1})
    for _ in range(79):
        rl.reserve(order)
    waits = [rl.reserve(order) for _ in range(21)]
    gaps = [b - a for a, b in itertools.pairwise(waits)]
    assert waits[0] == 0.0
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps))
    assert max(gaps) <= 10.0 / 100 + 1e-9  # never slower than the window sustains


def test_an_exhausted_bucket_queues_in_order_and_drops_nothing(sim_clock):
    """Requests past the limit wait for spent tokens to come back, in the order they asked."""
    rl = limiter(sim_clock, RateLimit(name="ORDERS_10S", limit=10, window_s=10.0))
    order = rl.cost({"ORDERS_10S": 1})
    waits = [rl.reserve(order) for _ in range(30)]
    assert waits == sorted(waits)
    assert waits[10] >= 10.0  # the 11th waits a whole window for the first token
    assert waits[20] >= 20.0
    assert rl.usage()[0].queued == sum(1 for w in waits if w > 0)


def test_a_bucket_with_room_does_not_hold_up_requests_that_spend_only_there(sim_clock):
    """Cancels (weight only) pass orders queued for the order count."""
    rl = limiter(sim_clock)
    order = rl.cost({"ORDERS_10S": 1, "REQUEST_WEIGHT": 1})
    cancel = rl.cost({"REQUEST_WEIGHT": 1})
    for _ in range(110):
        rl.reserve(order)
    assert rl.reserve(order) > 9.0
    assert rl.reserve(cancel) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(0, 3 * NS), st.integers(1, 5)), min_size=1, max_size=150)
)
def test_no_window_ever_holds_more_than_the_limit(steps):
    """Whatever the arrival times and costs, the tokens sent in any window stay within the limit."""
    clock = SimClock()
    rl = limiter(clock, RateLimit(name="ORDERS_10S", limit=20, window_s=10.0))
    sent: list[tuple[int, int]] = []
    for gap, tokens in steps:
        clock.advance(gap)
        wait = rl.reserve(rl.cost({"ORDERS_10S": tokens}))
        sent.append((clock.monotonic_ns() + round(wait * NS), tokens))
    sent.sort()
    window = 10 * NS - 1000  # waits come back as float seconds: allow them a microsecond
    for start, _ in sent:
        in_window = sum(t for at, t in sent if start <= at < start + window)
        assert in_window <= 20


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 2 * NS), st.booleans(), st.integers(1, 4)), max_size=120
    )
)
def test_mixed_requests_keep_every_bucket_within_its_limit(steps):
    """Orders (two buckets) and cancels (one) in any mix never overfill either bucket."""
    clock = SimClock()
    orders = RateLimit(name="ORDERS_10S", limit=10, window_s=10.0)
    weight = RateLimit(name="REQUEST_WEIGHT", limit=15, window_s=6.0)
    rl = limiter(clock, orders, weight)
    sent: dict[str, list[tuple[int, int]]] = {"ORDERS_10S": [], "REQUEST_WEIGHT": []}
    for gap, is_order, tokens in steps:
        clock.advance(gap)
        spend = {"REQUEST_WEIGHT": tokens} | ({"ORDERS_10S": 1} if is_order else {})
        at = clock.monotonic_ns() + round(rl.reserve(rl.cost(spend)) * NS)
        for name, amount in spend.items():
            sent[name].append((at, amount))
    for limit in (orders, weight):
        window = int(limit.window_s * NS) - 1000
        spends = sorted(sent[limit.name])
        for start, _ in spends:
            assert sum(t for at, t in spends if start <= at < start + window) <= limit.limit


async def test_acquire_waits_its_turn_on_the_clock(sim_clock):
    """``acquire`` returns once the reserved time has come on the injected clock."""
    rl = limiter(sim_clock, RateLimit(name="ORDERS_10S", limit=2, window_s=10.0))
    order = rl.cost({"ORDERS_10S": 1})
    started = sim_clock.monotonic_ns()
    for _ in range(3):
        await rl.acquire(order)
    assert sim_clock.monotonic_ns() - started >= 10 * NS


def test_a_higher_venue_count_is_taken_and_a_lower_one_ignored(sim_clock):
    """The venue's header raises our count; a count below ours changes nothing."""
    rl = limiter(sim_clock)
    weight = rl.cost({"REQUEST_WEIGHT": 1})
    rl.reserve(weight)
    rl.observe_headers({"x-mbx-used-weight-1m": "5990", "X-MBX-ORDER-COUNT-10S": "bad"})
    assert {u.name: u.used for u in rl.usage()} == {"ORDERS_10S": 0, "REQUEST_WEIGHT": 5990}
    rl.observe(10, "REQUEST_WEIGHT")
    assert rl.usage()[1].used == 5990
    assert rl.reserve(weight) > 0


def test_observe_names_an_unknown_window(sim_clock):
    """Observing a limit the limiter does not have is a KeyError naming it."""
    rl = limiter(sim_clock)
    with pytest.raises(KeyError, match="RAW_REQUESTS"):
        rl.observe(1, "RAW_REQUESTS")


def test_retry_after_holds_every_request(sim_clock):
    """After a 429 nothing goes before ``Retry-After`` has passed."""
    rl = limiter(sim_clock)
    rl.retry_after(7)
    assert rl.reserve(rl.cost({"REQUEST_WEIGHT": 1})) == pytest.approx(7.0)
    assert rl.paused_for_s == pytest.approx(7.0)


async def test_acquire_waiting_when_a_429_arrives_waits_for_it_too(sim_clock):
    """A request already waiting is held until the later 429 pause is over as well."""
    rl = limiter(sim_clock, RateLimit(name="ORDERS_10S", limit=1, window_s=1.0))
    order = rl.cost({"ORDERS_10S": 1})
    rl.reserve(order)
    start = sim_clock.monotonic_ns()
    waiter = asyncio.ensure_future(rl.acquire(order))
    rl.retry_after(5)
    await waiter
    assert sim_clock.monotonic_ns() - start >= 5 * NS


def test_a_ban_makes_every_request_raise_until_it_ends(sim_clock):
    """A 418 ban raises IpBanned with the time left, and lifts when it is over."""
    rl = limiter(sim_clock)
    weight = rl.cost({"REQUEST_WEIGHT": 1})
    rl.ban(120, "IP banned until 1700000120000")
    with pytest.raises(IpBanned) as caught:
        rl.reserve(weight)
    assert caught.value.retry_after_s == pytest.approx(120)
    assert "1700000120000" in str(caught.value)
    sim_clock.advance(121 * NS)
    assert rl.reserve(weight) == 0.0
    assert rl.banned_for_s == 0


async def test_a_ban_during_a_wait_raises_at_the_end_of_it(sim_clock):
    """A request waiting when the venue bans us raises instead of going out."""
    rl = limiter(sim_clock, RateLimit(name="ORDERS_10S", limit=1, window_s=1.0))
    order = rl.cost({"ORDERS_10S": 1})
    rl.reserve(order)
    waiter = asyncio.ensure_future(rl.acquire(order))
    rl.ban(60)
    with pytest.raises(IpBanned):
        await waiter


def test_costs_are_checked_against_the_limits(sim_clock):
    """A cost naming an unknown limit, or more than a whole limit, is refused."""
    rl = limiter(sim_clock)
    with pytest.raises(KeyError, match="UNFILLED"):
        rl.cost({"UNFILLED": 1})
    with pytest.raises(ValueError, match="outside"):
        rl.cost({"ORDERS_10S": 101})


def test_limits_must_be_positive_and_named_once(sim_clock):
    """Bad limits and repeated names are refused when the limiter is built."""
    with pytest.raises(ValueError, match="limit must be"):
        RateLimit(name="X", limit=0, window_s=1)
    with pytest.raises(ValueError, match="repeat"):
        RateLimiter("binance", [ORDERS, ORDERS], sim_clock)


def test_usage_reports_every_limit(sim_clock):
    """``usage`` names each limit with its use, size and window."""
    rl = limiter(sim_clock)
    rl.reserve(rl.cost({"ORDERS_10S": 3, "REQUEST_WEIGHT": 2}))
    usage = {u.name: (u.used, u.limit, u.window_s, u.queued) for u in rl.usage()}
    assert usage == {"ORDERS_10S": (3, 100, 10.0, 0), "REQUEST_WEIGHT": (2, 6000, 60.0, 0)}
    sim_clock.advance(11 * NS)
    assert rl.usage()[0].used == 0
