"""The UI's client of the engine's HTTP control plane: status, orders, risk limits, strategies.

The shared-memory pages carry what changes every heartbeat; what they do not carry (the limits
document, venue reconnects, venue order ids) comes from ``GET /risk/limits``, ``GET /status`` and
``GET /orders`` here, and the strategies from ``GET /strategies``. Changes (``PUT /risk/limits``,
``PUT /strategies/{name}/params``, ``POST /strategies/{name}/stop|start|reload``) send the
control token, read from its environment variable at the moment of the request and never kept,
logged or shown. Calls block: screens make
them from thread workers. Only loopback addresses are ever contacted.

```
ControlError (engine.errors)
├── ControlUnreachable   no control plane at the URL, or it did not answer in time
├── ControlRefused       the engine answered with an error (its status code and words)
└── TokenMissing         a change needs the token and its environment variable is unset
```
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import msgspec

from engine.errors import ControlError

#: seconds a control-plane call may take before it counts as unreachable
TIMEOUT_S = 3.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ControlUnreachable(ControlError):
    """No control plane answered at the URL (not announced, not listening, or too slow)."""


class ControlRefused(ControlError):
    """The engine answered with an error; ``status`` is the HTTP code, ``detail`` its words."""

    def __init__(self, status: int, detail: str, document: dict[str, Any] | None = None) -> None:
        self.status = status
        self.detail = detail
        self.document = document or {}
        """The whole answer (a refused limits change carries the limits still in force)."""
        super().__init__(detail)


class TokenMissing(ControlError):
    """A change needs the control token and the environment variable holding it is unset."""

    def __init__(self, token_env: str, what: str = "changing limits") -> None:
        self.token_env = token_env
        super().__init__(
            f"{what} needs the control token: set {token_env} in this UI's "
            "environment (the same value the engine has)"
        )


def _check_loopback(base_url: str) -> str:
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme != "http" or parsed.hostname not in _LOOPBACK:
        raise ControlUnreachable(
            f"control plane {base_url!r} is not a loopback http address; the UI only talks to "
            "engines on this machine"
        )
    return base_url.rstrip("/")


class ControlClient:
    """Calls to one engine's control plane.

    Args:
        base_url: ``http://127.0.0.1:<port>`` as the engine announced it.
        token_env: the environment variable that holds the control token.

    Raises:
        ControlUnreachable: the URL is empty or not a loopback http address.
    """

    def __init__(self, base_url: str, token_env: str = "HFT_CONTROL_TOKEN") -> None:  # noqa: S107 - a variable name
        if not base_url:
            raise ControlUnreachable("the engine has not announced a control plane")
        self.base_url = _check_loopback(base_url)
        self.token_env = token_env

    def __repr__(self) -> str:
        return f"ControlClient({self.base_url!r}, token_env={self.token_env!r})"

    def has_token(self) -> bool:
        """True when the token's environment variable is set (its value is not looked at)."""
        return bool(os.environ.get(self.token_env))

    def get(self, path: str) -> object:
        """``GET path`` and its JSON answer.

        Raises:
            ControlUnreachable: nothing answered.
            ControlRefused: the engine answered with an error.
        """
        return self._call("GET", path, None, {})

    def put(self, path: str, document: object) -> object:
        """``PUT path`` with a JSON body and the control token; returns the JSON answer.

        Raises:
            TokenMissing: the token's environment variable is unset or empty.
            ControlUnreachable: nothing answered.
            ControlRefused: the engine answered with an error (400 for invalid limits).
        """
        return self._call("PUT", path, msgspec.json.encode(document), self._token_headers())

    def post(self, path: str) -> object:
        """``POST path`` (no body) with the control token; returns the JSON answer.

        Raises:
            TokenMissing: the token's environment variable is unset or empty.
            ControlUnreachable: nothing answered.
            ControlRefused: the engine answered with an error.
        """
        return self._call("POST", path, b"", self._token_headers())

    def _token_headers(self) -> dict[str, str]:
        token = os.environ.get(self.token_env, "")
        if not token:
            raise TokenMissing(self.token_env)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def _call(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> object:
        url = self.base_url + path
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - loopback checked above
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
                decoded: object = msgspec.json.decode(answer.read())
                return decoded
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                doc = msgspec.json.decode(raw) if raw else {}
            except msgspec.DecodeError:
                doc = {}
            document = doc if isinstance(doc, dict) else {}
            detail = str(document.get("error") or exc.reason or f"HTTP {exc.code}")
            raise ControlRefused(exc.code, detail, document) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ControlUnreachable(
                f"control plane {self.base_url} did not answer: {reason}"
            ) from None
        except msgspec.DecodeError as exc:
            raise ControlUnreachable(
                f"control plane {self.base_url}{path} answered something that is not JSON: {exc}"
            ) from None
