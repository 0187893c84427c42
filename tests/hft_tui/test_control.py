"""ControlClient on the engine's own control plane on 127.0.0.1: reads, token, refusals."""

from __future__ import annotations

import pytest

from hft_tui.control import ControlClient, ControlRefused, ControlUnreachable, TokenMissing
from tests.hft_tui.control_desk import TOKEN, TOKEN_ENV, ControlDesk, ServedControl


@pytest.fixture
def served():
    """A control plane over a fresh desk."""
    with ServedControl(ControlDesk()) as control:
        yield control


def test_get_reads_the_json_answer(served):
    """GET /risk/limits gives the limits document, GET /status the status document."""
    client = ControlClient(served.url, TOKEN_ENV)
    limits = client.get("/risk/limits")
    assert isinstance(limits, dict)
    assert limits["defaults"]["max_position"] == "5"
    status = client.get("/status")
    assert isinstance(status, dict)
    assert status["venue"]["reconnects"] == 2


def test_put_sends_the_token_and_a_refusal_carries_the_engines_words(served, monkeypatch):
    """With the token a valid change answers 200; an invalid one raises with status and reason."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    client = ControlClient(served.url, TOKEN_ENV)
    doc = client.get("/risk/limits")
    assert isinstance(doc, dict)
    doc["max_drawdown"] = "750"
    answer = client.put("/risk/limits", doc)
    assert isinstance(answer, dict)
    assert answer["max_drawdown"] == "750"
    doc["max_drawdown"] = "-1"
    with pytest.raises(ControlRefused) as refused:
        client.put("/risk/limits", doc)
    assert refused.value.status == 400
    assert "max_drawdown" in refused.value.detail
    assert refused.value.document["limits"]["max_drawdown"] == "750"


def test_a_wrong_token_is_refused_and_a_missing_one_never_leaves(served, monkeypatch):
    """A wrong token gets 401; with the variable unset nothing is sent and the error names it."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # the engine's
    monkeypatch.setenv("HFT_UI_TEST_WRONG", "not-the-token")
    with pytest.raises(ControlRefused) as refused:
        ControlClient(served.url, "HFT_UI_TEST_WRONG").put("/risk/limits", {})
    assert refused.value.status == 401
    client = ControlClient(served.url, "HFT_UI_TEST_UNSET")
    monkeypatch.delenv("HFT_UI_TEST_UNSET", raising=False)
    assert not client.has_token()
    with pytest.raises(TokenMissing, match="HFT_UI_TEST_UNSET"):
        client.put("/risk/limits", {})
    assert served.desk.changes == []


def test_the_token_never_shows_in_the_clients_repr(served, monkeypatch):
    """The repr names the variable, never its value."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert TOKEN not in repr(ControlClient(served.url, TOKEN_ENV))


def test_only_loopback_http_is_ever_contacted():
    """An empty URL or any address but this machine's is refused before any connection."""
    with pytest.raises(ControlUnreachable, match="not announced"):
        ControlClient("")
    for url in ("http://10.0.0.1:8080", "https://127.0.0.1:8080", "http://example.com"):
        with pytest.raises(ControlUnreachable, match="loopback"):
            ControlClient(url)


def test_nothing_listening_is_unreachable():
    """A loopback port with no server raises ControlUnreachable naming the URL."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ControlUnreachable, match=f"127.0.0.1:{port}"):
        ControlClient(f"http://127.0.0.1:{port}").get("/status")
