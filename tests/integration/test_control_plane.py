"""The control plane's token-guarded endpoints on a running engine: risk limits, live."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import msgspec
import pytest

from engine.risk.limits import RiskLimits

pytestmark = pytest.mark.integration

TOKEN = "limits-test-token"  # noqa: S105 - a test token for a loopback engine


def _call(url: str, method: str = "GET", body: bytes | None = None, token: str | None = None):
    """One request; returns (status, document). Run in a thread: the engine shares the loop."""
    req = urllib.request.Request(url, data=body, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def test_limits_are_read_and_replaced_live_with_the_token(venue_and_engine, monkeypatch):
    """GET shows the limits in force; PUT with the token puts new ones in the pipeline."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    _, engine, _ = venue_and_engine
    url = engine.control.url + "/risk/limits"
    status, doc = await asyncio.to_thread(_call, url)
    assert status == 200
    assert doc["defaults"]["max_position"] == engine.config.risk.defaults.max_position
    doc["defaults"]["max_position"] = "2.5"
    body = json.dumps(doc).encode()
    status, new = await asyncio.to_thread(_call, url, "PUT", body, TOKEN)
    assert status == 200
    assert new["defaults"]["max_position"] == "2.5"
    assert engine.risk.limits.defaults.max_position == "2.5"


async def test_invalid_limits_are_refused_and_the_old_ones_stay(venue_and_engine, monkeypatch):
    """A negative limit is refused with the field named, and the limits in force do not change."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    _, engine, _ = venue_and_engine
    before = engine.risk.limits
    bad = msgspec.structs.replace(
        before, defaults=msgspec.structs.replace(before.defaults, max_position="-1")
    )
    url = engine.control.url + "/risk/limits"
    status, doc = await asyncio.to_thread(_call, url, "PUT", msgspec.json.encode(bad), TOKEN)
    assert status == 400
    assert "max_position" in doc["error"]
    assert engine.risk.limits == before
    unknown = b'{"defaults": {"max_postion": "1"}}'
    status, doc = await asyncio.to_thread(_call, url, "PUT", unknown, TOKEN)
    assert status == 400
    assert "max_postion" in doc["error"]
    assert engine.risk.limits == before


async def test_limits_cannot_change_without_the_token(venue_and_engine, monkeypatch):
    """PUT without or with a wrong token is refused (401), and with no token configured (403)."""
    _, engine, _ = venue_and_engine
    url = engine.control.url + "/risk/limits"
    body = msgspec.json.encode(RiskLimits())
    monkeypatch.delenv("HFT_CONTROL_TOKEN", raising=False)
    assert (await asyncio.to_thread(_call, url, "PUT", body, "x"))[0] == 403
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    assert (await asyncio.to_thread(_call, url, "PUT", body, None))[0] == 401
    assert (await asyncio.to_thread(_call, url, "PUT", body, "wrong"))[0] == 401


async def test_kill_and_reset_halt_and_resume_the_risk_pipeline(venue_and_engine, monkeypatch):
    """The kill switch halts pre-trade risk (every order refused); the reset resumes it."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    _, engine, _ = venue_and_engine
    engine.kill("test")
    assert engine.risk.halted
    status, _ = await asyncio.to_thread(_call, engine.control.url + "/reset", "POST", None, TOKEN)
    assert status == 200
    assert not engine.risk.halted
