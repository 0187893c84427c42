"""The control plane's token-guarded endpoints on a running engine: risk limits, live."""

from __future__ import annotations

import asyncio
import json

import msgspec
import pytest

from engine.risk.limits import RiskLimits
from tests.integration.control import control

pytestmark = pytest.mark.integration

TOKEN = "limits-test-token"


async def test_limits_are_read_and_replaced_live_with_the_token(venue_and_engine, monkeypatch):
    """GET shows the limits in force; PUT with the token puts new ones in the pipeline."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    _, engine, _ = venue_and_engine
    url = engine.control.url
    status, doc = await asyncio.to_thread(control, url, "/risk/limits")
    assert status == 200
    assert doc["defaults"]["max_position"] == engine.config.risk.defaults.max_position
    doc["defaults"]["max_position"] = "2.5"
    body = json.dumps(doc).encode()
    status, new = await asyncio.to_thread(control, url, "/risk/limits", "PUT", body, TOKEN)
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
    url = engine.control.url
    status, doc = await asyncio.to_thread(
        control, url, "/risk/limits", "PUT", msgspec.json.encode(bad), TOKEN
    )
    assert status == 400
    assert "max_position" in doc["error"]
    assert engine.risk.limits == before
    unknown = b'{"defaults": {"max_postion": "1"}}'
    status, doc = await asyncio.to_thread(control, url, "/risk/limits", "PUT", unknown, TOKEN)
    assert status == 400
    assert "max_postion" in doc["error"]
    assert engine.risk.limits == before


async def test_limits_cannot_change_without_the_token(venue_and_engine, monkeypatch):
    """PUT without or with a wrong token is refused (401), and with no token configured (403)."""
    _, engine, _ = venue_and_engine
    url = engine.control.url
    body = msgspec.json.encode(RiskLimits())
    monkeypatch.delenv("HFT_CONTROL_TOKEN", raising=False)
    assert (await asyncio.to_thread(control, url, "/risk/limits", "PUT", body, "x"))[0] == 403
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    assert (await asyncio.to_thread(control, url, "/risk/limits", "PUT", body, None))[0] == 401
    assert (await asyncio.to_thread(control, url, "/risk/limits", "PUT", body, "wrong"))[0] == 401


async def test_kill_and_reset_halt_and_resume_the_risk_pipeline(venue_and_engine, monkeypatch):
    """The kill switch halts pre-trade risk (every order refused); the reset resumes it."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    _, engine, _ = venue_and_engine
    engine.kill("test")
    assert engine.risk.halted
    status, _ = await asyncio.to_thread(control, engine.control.url, "/reset", "POST", None, TOKEN)
    assert status == 200
    assert not engine.risk.halted
