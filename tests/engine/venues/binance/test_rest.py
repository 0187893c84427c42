"""Signed REST targets and the published Binance limits."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from engine.core.clock import SimClock
from engine.venues.binance.rest import LIMITS, Costs, RestSigner
from engine.venues.binance.signing import sign_rest
from engine.venues.ratelimit import RateLimiter

SECRET = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_the_signer_matches_the_official_vector():
    """The reusable HMAC state signs the documented payload to the documented signature."""
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    signer = RestSigner(SECRET)
    expected = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert signer.sign(payload) == expected
    assert signer.sign(payload) == expected  # the keyed state is reused, not consumed


def test_a_target_is_signed_over_exactly_the_query_sent():
    """``target`` appends recvWindow, timestamp and the signature of everything before it."""
    signer = RestSigner(SECRET)
    target = signer.target("/api/v3/order", "symbol=BTCUSDT&side=BUY", 1_700_000_000_000, 5000)
    path, _, query = target.partition("?")
    signed, _, signature = query.rpartition("&signature=")
    assert path == "/api/v3/order"
    assert signed == "symbol=BTCUSDT&side=BUY&recvWindow=5000&timestamp=1700000000000"
    assert signature == sign_rest(SECRET, signed)
    bare = "recvWindow=2&timestamp=1"
    assert signer.target("/api/v3/account", "", 1, 2) == (
        f"/api/v3/account?{bare}&signature={sign_rest(SECRET, bare)}"
    )


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_the_signer_is_hmac_sha256_for_every_key_length(length: int) -> None:
    """Keys shorter than, equal to and longer than the block (hashed first) sign like ``hmac``."""
    secret = bytes((7 * n + 3) % 256 for n in range(length))
    payload = "symbol=BTCUSDT&side=SELL&quantity=0.00100&price=65000.00&timestamp=1"
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    signer = RestSigner(secret)
    assert signer.sign(payload) == expected
    assert signer.target("/p", "", 1, 2).endswith(
        "&signature=" + hmac.new(secret, b"recvWindow=2&timestamp=1", hashlib.sha256).hexdigest()
    )


def test_the_secret_is_never_shown():
    """The signer's repr hides the secret."""
    assert SECRET.decode() not in repr(RestSigner(SECRET))


def test_orders_spend_the_order_counts_and_cancels_do_not():
    """A new order spends weight, both order windows and a raw request; a cancel no orders."""
    limiter = RateLimiter("binance", LIMITS, SimClock())
    costs = Costs(limiter)
    limiter.reserve(costs.new_order)
    limiter.reserve(costs.cancel)
    used = {u.name: u.used for u in limiter.usage()}
    assert used == {"REQUEST_WEIGHT": 2, "ORDERS_10S": 1, "ORDERS_1D": 1, "RAW_REQUESTS": 2}
