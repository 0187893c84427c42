"""Bybit v5 signing: the documented string construction, and a round trip with a known secret.

test-vectors.md §9: Bybit's docs never state the secret behind their example signatures, so only
the string each request signs can be checked against them; the digest is checked against an
independent HMAC computation.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from engine.venues.bybit.signing import (
    API_KEY_HEADER,
    RECV_WINDOW_HEADER,
    SIGN_HEADER,
    TIMESTAMP_HEADER,
    BybitSigner,
    sign,
    sign_string,
    verify,
    ws_auth_frame,
    ws_auth_string,
)

DOC_TIMESTAMP = 1658384314791
DOC_KEY = "XXXXXXXXXX"
SECRET = b"a-known-test-secret"


def reference(secret: bytes, text: str) -> str:
    """HMAC-SHA256 hex computed without the module under test."""
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def test_get_string_matches_the_documented_example():
    """A GET signs timestamp, key, receive window and query string, as the docs' example shows."""
    text = sign_string(DOC_TIMESTAMP, DOC_KEY, 5000, "category=option&symbol=BTC-29JUL22-25000-C")
    assert text == "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"


def test_post_string_is_the_raw_body_after_the_prefix():
    """A POST signs the JSON body byte for byte, spaces included, after the same prefix."""
    body = '{"category": "option"}'
    assert sign_string(DOC_TIMESTAMP, DOC_KEY, 5000, body) == (
        '1658384314791XXXXXXXXXX5000{"category": "option"}'
    )


def test_sign_is_lowercase_hex_hmac_sha256():
    """The signature is the lowercase hex HMAC-SHA256 of the string under the secret."""
    text = sign_string(DOC_TIMESTAMP, DOC_KEY, 5000, "category=linear")
    signature = sign(SECRET, text)
    assert signature == reference(SECRET, text)
    assert signature == signature.lower()
    assert len(signature) == 64


def test_round_trip_with_a_known_secret_verifies_and_a_wrong_one_does_not():
    """What is signed with a secret verifies under it (any hex case) and fails under another."""
    text = sign_string(DOC_TIMESTAMP, DOC_KEY, 5000, '{"category":"linear"}')
    signature = sign(SECRET, text)
    assert verify(SECRET, text.encode(), signature)
    assert verify(SECRET, text.encode(), signature.upper())
    assert not verify(b"another-secret", text.encode(), signature)
    assert not verify(SECRET, (text + " ").encode(), signature)


def test_signer_headers_carry_key_timestamp_window_and_signature():
    """The signer's four headers are the key, the timestamp, the window and the signature."""
    signer = BybitSigner(DOC_KEY, SECRET, recv_window_ms=5000)
    headers = signer.headers(DOC_TIMESTAMP, "category=linear&symbol=BTCUSDT")
    assert headers[API_KEY_HEADER] == DOC_KEY
    assert headers[TIMESTAMP_HEADER] == "1658384314791"
    assert headers[RECV_WINDOW_HEADER] == "5000"
    expected = reference(SECRET, "1658384314791XXXXXXXXXX5000category=linear&symbol=BTCUSDT")
    assert headers[SIGN_HEADER] == expected


def test_ws_auth_signs_get_realtime_and_the_expiry():
    """The private WebSocket's auth signs ``GET/realtime`` followed by the expiry in ms."""
    assert ws_auth_string(1662350400000) == "GET/realtime1662350400000"
    signer = BybitSigner("key1", SECRET)
    frame = json.loads(signer.ws_auth(1662350400000, req_id="a1"))
    assert frame == {
        "req_id": "a1",
        "op": "auth",
        "args": ["key1", 1662350400000, reference(SECRET, "GET/realtime1662350400000")],
    }
    assert json.loads(ws_auth_frame("k", 5, "sig"))["args"] == ["k", 5, "sig"]


def test_signer_shows_neither_key_nor_secret():
    """The signer's repr hides the API key and the secret."""
    shown = repr(BybitSigner("my-api-key", b"my-secret"))
    assert "my-api-key" not in shown
    assert "my-secret" not in shown
