"""One way for tests to talk to an engine's HTTP control plane on 127.0.0.1.

These calls block: a test whose engine runs on its own event loop calls them through
``asyncio.to_thread``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def control(
    base_url: str,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Send one request; returns the HTTP status and the JSON answer, errors included."""
    req = urllib.request.Request(base_url + path, data=body, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get_status(base_url: str) -> dict[str, Any]:
    """The engine's ``/status`` document."""
    code, doc = control(base_url, "/status")
    assert code == 200, doc
    return doc
