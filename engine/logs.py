"""Engine logging: JSON lines for journald and files, readable lines in a terminal.

Each JSON line carries ``ts`` (integer ns), ``level``, ``component`` (the logger name), ``event``
(the message) and any ``extra={...}`` fields given at the call site.

:class:`RedactingFilter`, installed on the handler by :func:`configure_logging`, replaces any API
key, secret, signature, bearer token or listen key that reaches a record with ``***``: in the
message, in extra fields (sensitive field names are blanked whole), in exception text, in URLs
(``signature=``, ``listenKey=``, ``sign=`` ...) and in header values (``Authorization``,
``X-MBX-APIKEY``, ``X-BAPI-*``); and the values of secret-looking environment variables wherever
they appear.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import IO, Any

import msgspec

_STD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)
_encoder = msgspec.json.Encoder()


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STD_ATTRS}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a JSON line."""
        doc: dict[str, Any] = {
            "ts": int(record.created * 1e9),
            "level": record.levelname,
            "component": record.name,
            "event": record.getMessage(),
        }
        for key, value in _fields(record).items():
            doc[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return _encoder.encode(doc).decode()


class HumanFormatter(logging.Formatter):
    """``HH:MM:SS.mmm LEVEL component: event key=value ...`` for people at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one readable line."""
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        extras = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        line = (
            f"{clock}.{int(record.msecs):03d} {record.levelname:<7} {record.name}: "
            f"{record.getMessage()}"
        )
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


REDACTED = "***"

# ``name=value``, ``name: value``, ``"name": "value"`` for names whose values are secret, in URLs,
# headers, dict reprs and JSON; a leading ``Bearer``/``Basic`` scheme is swallowed with the value.
_SECRET_NAMES = "|".join(  # the names of secret fields, no secret
    (
        "signature|sign|listenkey|listen_key|api_?key|api_?secret|secret|secret_?key",
        "password|token|access_?token|authorization|x-mbx-apikey|x-bapi-[a-z0-9-]+",
    )
)
_NAMED_VALUE = re.compile(
    rf"(?<![A-Za-z0-9_-])({_SECRET_NAMES})(\\?[\"']?\s*[:=]\s*\\?[\"']?)"
    r"(?:(?:bearer|basic)\s+)?(?!\*\*\*)[^\s\"'&,;}\])\\]+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(bearer)\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# An HMAC-SHA256 signature or a 64-character API key written with no name beside it.
_BARE_64 = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_SECRET_ENV = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSPHRASE", re.IGNORECASE)
_MIN_SECRET_LEN = 8


def _secret_field(name: str) -> bool:
    """True for an extra-field name whose value is itself a secret (not a variable's name)."""
    flat = name.lower().replace("-", "").replace("_", "")
    if flat.endswith("env"):
        return False
    return flat in {"sign", "authorization"} or any(
        part in flat
        for part in ("secret", "signature", "apikey", "listenkey", "token", "password", "xbapi")
    )


def secrets_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables named like keys, secrets, tokens or passwords."""
    env = os.environ if environ is None else environ
    return sorted(
        {v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LEN},
        key=len,
        reverse=True,
    )


def redact(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every secret it could carry replaced by ``***``.

    Args:
        text: A log message, field value or exception text.
        known: Literal secret values (from the environment) to blank wherever they occur.

    Returns:
        The text with known values, named secret values, bearer tokens and bare 64-character
        keys or signatures replaced.
    """
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    text = _NAMED_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _BARE_64.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Blanks secrets in each record before any formatter sees it; never drops a record.

    Args:
        known: Literal secret values to blank (default: :func:`secrets_from_env` at creation).
    """

    def __init__(self, known: Iterable[str] | None = None) -> None:
        super().__init__()
        self.known = tuple(secrets_from_env() if known is None else known)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record``'s message, extra fields and exception text in place."""
        known = self.known
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = redact(message, known), None
        for key, value in _fields(record).items():
            if _secret_field(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, str):
                setattr(record, key, redact(value, known))
            elif not isinstance(value, int | float | bool | None):
                setattr(record, key, redact(repr(value), known))
        if record.exc_info:
            exc = logging.Formatter().formatException(record.exc_info)
            record.exc_info, record.exc_text = None, None
            record.exc = redact(exc, known)
        elif record.exc_text:
            exc_text = record.exc_text
            record.exc_text = None
            record.exc = redact(exc_text, known)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, known)
        return True


def configure_logging(
    level: str = "INFO", stream: IO[str] | None = None, *, json: bool | None = None
) -> None:
    """Send the root logger to ``stream`` (stdout by default) as JSON, or readable on a tty."""
    stream = stream or sys.stdout
    use_json = (not stream.isatty()) if json is None else json
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else HumanFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
