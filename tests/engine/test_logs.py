"""Log lines carry no API key, secret, signature, bearer token or listen key."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.logs import REDACTED, RedactingFilter, configure_logging, redact, secrets_from_env

KEY = "Kx7" + "a1B2c3D4" * 7 + "zQ8Y9"  # 64 characters, like a Binance API key
SECRET = "very-secret-hmac-material-0001"
SIG = "3f" * 32  # an HMAC-SHA256 hex digest


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The root logger writing JSON lines into a buffer, with secrets in the environment."""
    monkeypatch.setenv("HFT_TEST_API_KEY", KEY)
    monkeypatch.setenv("HFT_TEST_API_SECRET", SECRET)
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    buf = io.StringIO()
    configure_logging("DEBUG", stream=buf, json=True)
    try:
        yield buf
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def _written(buf: io.StringIO) -> str:
    return buf.getvalue()


def test_signed_urls_lose_their_signature_and_listen_key():
    """signature= and listenKey= query values become *** and the rest of the URL stays."""
    url = f"http://127.0.0.1:1/api/v3/order?symbol=BTCUSDT&timestamp=1&signature={SIG}"
    assert redact(url) == "http://127.0.0.1:1/api/v3/order?symbol=BTCUSDT&timestamp=1&signature=***"
    assert redact("ws://127.0.0.1:1/ws?listenKey=abcDEF123") == "ws://127.0.0.1:1/ws?listenKey=***"


def test_header_values_are_blanked():
    """Authorization, X-MBX-APIKEY and X-BAPI-* values are blanked in reprs and header text."""
    headers = repr(
        {
            "Authorization": "Bearer tok-123",
            "X-MBX-APIKEY": "abc",
            "X-BAPI-SIGN": "def",
            "X-BAPI-API-KEY": "ghi",
            "X-BAPI-TIMESTAMP": "17",
        }
    )
    out = redact(headers)
    for value in ("tok-123", "abc", "def", "ghi", "'17'"):
        assert value not in out
    assert "'X-BAPI-SIGN': '***'" in out
    assert redact("Authorization: Bearer tok-123") == "Authorization: ***"
    assert redact("sent with bearer abc.def") == "sent with bearer ***"


def test_known_values_and_bare_keys_are_blanked():
    """Environment secrets are blanked anywhere, and so is a bare 64-character key or digest."""
    text = f"login {SECRET} failed for {KEY}, digest {SIG}"
    assert redact(text, [SECRET]) == "login *** failed for ***, digest ***"


def test_variable_names_are_not_secrets():
    """Names of the variables that hold secrets stay readable."""
    text = 'api_key_env="HFT_SIM_API_KEY" token_env=HFT_CONTROL_TOKEN order 42 filled'
    assert redact(text) == text


def test_secrets_from_env_takes_secret_named_values_only():
    """Only variables named like keys, secrets, tokens or passwords, and long enough, count."""
    env = {"X_API_KEY": KEY, "X_SECRET": "short", "PATH": "/usr/bin:/bin", "A_TOKEN": "t" * 10}
    assert secrets_from_env(env) == [KEY, "t" * 10]


def test_message_extra_fields_and_exceptions_are_redacted(lines):
    """Message arguments, extra fields and exception text reach the line already redacted."""
    log = logging.getLogger("engine.test")
    log.info("sending %s", f"/api/v3/order?signature={SIG}", extra={"url": f"?listenKey={KEY}"})
    log.warning("odd", extra={"api_secret": "plain", "headers": {"X-MBX-APIKEY": KEY}})
    try:
        raise RuntimeError(f"venue said no to key {KEY} secret {SECRET}")
    except RuntimeError:
        log.exception("request failed", extra={"venue": "sim"})
    text = _written(lines)
    for secret in (KEY, SECRET, SIG, "plain"):
        assert secret not in text
    docs = [json.loads(line) for line in text.splitlines()]
    assert docs[0]["event"] == "sending /api/v3/order?signature=***"
    assert docs[0]["url"] == "?listenKey=***"
    assert docs[1]["api_secret"] == REDACTED
    assert "RuntimeError: venue said no to key *** secret ***" in docs[2]["exc"]
    assert docs[2]["venue"] == "sim"


def test_a_bad_format_string_still_logs(lines):
    """A message whose arguments do not fit is still written, redacted, not raised."""
    logging.getLogger("engine.test").info("two %s %s", f"signature={SIG}")
    text = _written(lines)
    assert SIG not in text
    assert "two" in text


def test_the_filter_is_on_the_handler(lines):
    """configure_logging puts the redaction filter on the one root handler."""
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is lines]
    assert any(isinstance(f, RedactingFilter) for f in handler.filters)


@settings(max_examples=60, deadline=None)
@given(
    secret=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.", min_size=8),
    prefix=st.text(alphabet=st.characters(codec="ascii"), max_size=20),
    name=st.sampled_from(["signature", "listenKey", "X-MBX-APIKEY", "X-BAPI-SIGN", "api_key"]),
    sep=st.sampled_from(["=", ": ", "': '", '":"']),
)
def test_named_secret_values_never_survive(secret, prefix, name, sep):
    """Whatever surrounds it, a value written after a secret's name is not in the output."""
    assume(secret not in f"{prefix} {name}{sep}&more")
    assert secret not in redact(f"{prefix} {name}{sep}{secret}&more")
