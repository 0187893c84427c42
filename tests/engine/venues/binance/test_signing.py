from engine.venues.binance.signing import (
    encode_params,
    sign,
    sign_rest,
    sign_ws,
    verify,
    ws_payload,
)

# The official vectors, quoted in shared/docs/test-vectors.md §1 and §2.
SECRET = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
FULLWIDTH_123456 = "\uff11\uff12\uff13\uff14\uff15\uff16"
"""The documented non-ASCII symbol, six full-width digits."""
REST_PARAMS = [
    ("symbol", "LTCBTC"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("timeInForce", "GTC"),
    ("quantity", "1"),
    ("price", "0.1"),
    ("recvWindow", "5000"),
    ("timestamp", "1499827319559"),
]


def test_rest_ascii_vector():
    """The documented ASCII order payload signs to the documented signature."""
    payload = encode_params(REST_PARAMS)
    assert payload == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sign(SECRET, payload) == (
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_rest_non_ascii_vector_percent_encodes_first():
    """A non-ASCII symbol is percent-encoded as UTF-8 before signing, as documented."""
    params = [("symbol", FULLWIDTH_123456), *REST_PARAMS[1:]]
    payload = encode_params(params)
    assert payload.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
    assert sign(SECRET, payload) == (
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    )


def test_rest_signature_covers_query_then_body():
    """Splitting the payload between query and body signs their concatenation."""
    payload = encode_params(REST_PARAMS)
    query, body = payload[:30], payload[30:]
    assert sign_rest(SECRET, query, body) == sign(SECRET, payload)


def test_ws_api_ascii_vector():
    """WebSocket-API params are sorted by name and signed raw, per the documented example."""
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": "100",
        "timestamp": "1645423376532",
        "apiKey": API_KEY,
    }
    assert ws_payload(params).startswith(f"apiKey={API_KEY}&price=52000.00&quantity=")
    assert sign_ws(SECRET, params) == (
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    )


def test_ws_api_non_ascii_vector_is_not_percent_encoded():
    """A non-ASCII symbol goes into the WebSocket-API payload as raw UTF-8."""
    params = {
        "symbol": FULLWIDTH_123456,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1.00000000",
        "price": "0.10000000",
        "recvWindow": "5000",
        "timestamp": "1645423376532",
        "apiKey": API_KEY,
        "signature": "ignored",
    }
    assert "signature" not in ws_payload(params)
    assert sign_ws(SECRET, params) == (
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    )


def test_verify_accepts_any_case_and_refuses_a_changed_payload():
    """Verification is case-insensitive on the hex and fails when one byte changes."""
    payload = encode_params(REST_PARAMS)
    good = sign(SECRET, payload)
    assert verify(SECRET, payload.encode(), good.upper())
    assert not verify(SECRET, payload.replace("BUY", "SEL").encode(), good)
    assert not verify(b"other-secret", payload.encode(), good)
