from __future__ import annotations

import pytest

from engine.sim.accounts import Accounts, AccountSpec
from engine.sim.auth import param_text, rest_account, rest_params, ws_account
from engine.sim.wire import RestError
from engine.venues.binance.signing import sign_rest, sign_ws

# The official example key pair and request (test-vectors.md §1 and §2).
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
NOW_US = 1499827319559 * 1000 + 200_000  # 200 ms after the request was stamped


@pytest.fixture
def book() -> Accounts:
    """One account holding the official example key."""
    return Accounts([AccountSpec(API_KEY, SECRET)])


def _check(book: Accounts, query: str, body: str = "", *, key: str | None = API_KEY, now=NOW_US):
    raw = body.encode()
    return rest_account(book, key, query, raw, rest_params(query, raw), now)


def _code(book: Accounts, *args, **kwargs) -> tuple[int, int]:
    with pytest.raises(RestError) as info:
        _check(book, *args, **kwargs)
    return info.value.status, info.value.code


def test_the_official_rest_vector_is_accepted(book):
    """Binance's documented request and signature pass every check."""
    account = _check(book, f"{QUERY}&signature={SIGNATURE}")
    assert account.api_key == API_KEY


def test_query_and_body_are_signed_together_with_no_separator(book):
    """The signature covers query string then body, exactly as sent, wherever the params are."""
    query, rest = QUERY.split("&price=")
    body = f"price={rest}"
    signature = sign_rest(SECRET.encode(), query, body)
    assert _check(book, query, f"{body}&signature={signature}").api_key == API_KEY
    assert _code(book, f"{query}&signature={SIGNATURE}", body) == (400, -1022)


def test_an_upper_case_signature_is_accepted(book):
    """The hex signature is not case-sensitive."""
    assert _check(book, f"{QUERY}&signature={SIGNATURE.upper()}").uid


@pytest.mark.parametrize(
    ("query", "key", "expected"),
    [
        (f"{QUERY}&signature={'0' * 64}", API_KEY, (400, -1022)),
        (QUERY, API_KEY, (400, -1102)),
        (f"{QUERY}&signature={SIGNATURE}", None, (401, -2014)),
        (f"{QUERY}&signature={SIGNATURE}", "not a key", (401, -2014)),
        (f"{QUERY}&signature={SIGNATURE}", "UnknownKey123", (401, -2015)),
        ("symbol=LTCBTC&signature=abc", API_KEY, (400, -1102)),
        (
            QUERY.replace("recvWindow=5000", "recvWindow=60001") + "&signature=x",
            API_KEY,
            (400, -1131),
        ),
        (QUERY.replace("recvWindow=5000", "recvWindow=5s") + "&signature=x", API_KEY, (400, -1100)),
    ],
)
def test_refusals_carry_binances_status_and_code(book, query, key, expected):
    """Bad signature, missing parts, unknown or malformed keys and windows each get their code."""
    assert _code(book, query, key=key) == expected


def test_timestamps_outside_the_window_get_1021(book):
    """A request 1000 ms ahead, or older than its recvWindow, is refused with -1021."""
    signed = f"{QUERY}&signature={SIGNATURE}"
    stamped = 1499827319559 * 1000
    assert _code(book, signed, now=stamped - 1_000_000) == (400, -1021)
    assert _check(book, signed, now=stamped - 999_000).api_key == API_KEY
    assert _code(book, signed, now=stamped + 5_000_001) == (400, -1021)
    assert _check(book, signed, now=stamped + 5_000_000).api_key == API_KEY


def test_microsecond_timestamps_and_fractional_windows_are_understood(book):
    """``timestamp`` in microseconds and ``recvWindow`` with three decimals work as on Binance."""
    query = "symbol=LTCBTC&recvWindow=0.5&timestamp=1499827319559000"
    signed = f"{query}&signature={sign_rest(SECRET.encode(), query)}"
    assert _check(book, signed, now=1499827319559400).uid
    assert _code(book, signed, now=1499827319559600) == (400, -1021)


def test_the_query_string_wins_over_the_body_and_duplicates_are_refused():
    """A key in both takes the query's value; a key twice in one of them gets -1101."""
    assert rest_params("a=1&b=2", b"b=3&c=4") == {"a": "1", "b": "2", "c": "4"}
    with pytest.raises(RestError) as info:
        rest_params("a=1&a=2", b"")
    assert info.value.code == -1101
    with pytest.raises(RestError) as info:
        rest_params("", b"\xff")
    assert info.value.code == -1100


def test_the_official_websocket_vector_is_accepted(book):
    """The WebSocket-API example (sorted params, raw values) verifies, JSON numbers included."""
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": 100,
        "timestamp": 1645423376532,
        "apiKey": API_KEY,
        "signature": "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
    }
    assert ws_account(book, params, 1645423376532 * 1000 + 50_000).api_key == API_KEY
    params["signature"] = sign_ws(b"wrong", {k: param_text(v) for k, v in params.items()})
    with pytest.raises(RestError) as info:
        ws_account(book, params, 1645423376532 * 1000 + 50_000)
    assert info.value.code == -1022


def test_websocket_values_sign_as_their_text():
    """Booleans sign as true/false and numbers as their decimal text."""
    assert [param_text(v) for v in (True, False, 5000, "x", None)] == [
        "true",
        "false",
        "5000",
        "x",
        "",
    ]
