"""Engine logging: JSON lines for journald and files, readable lines in a terminal.

Each JSON line carries ``ts`` (integer ns), ``level``, ``component`` (the logger name), ``event``
(the message) and any ``extra={...}`` fields given at the call site.
"""

from __future__ import annotations

import logging
import sys
import time
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


def configure_logging(
    level: str = "INFO", stream: IO[str] | None = None, *, json: bool | None = None
) -> None:
    """Send the root logger to ``stream`` (stdout by default) as JSON, or readable on a tty."""
    stream = stream or sys.stdout
    use_json = (not stream.isatty()) if json is None else json
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else HumanFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
