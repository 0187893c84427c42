"""Every error a backtest raises on purpose.

```
BacktestError
├── DataRangeError      the asked range is not (fully) in the data: what is missing, before the run
├── CaptureError        a capture file cannot be replayed (unreadable line, gap, no snapshot)
├── CorruptDataError    a data file is corrupt and ``on_corrupt = "refuse"`` stops the run
└── BacktestSetupError  the run's configuration is wrong (strategy, parameter, instrument)
```
"""

from __future__ import annotations

from engine.errors import EngineError


class BacktestError(EngineError):
    """Root of the backtest errors."""


class DataRangeError(BacktestError):
    """The data does not cover the asked range; ``missing`` lists what is absent."""

    def __init__(self, message: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(message + ("; missing: " + ", ".join(missing) if missing else ""))


class CaptureError(BacktestError):
    """A capture file cannot be replayed; the message names the file and line."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path}:{line}: {reason}")


class CorruptDataError(BacktestError):
    """A corrupt data file refused the run (``on_corrupt = "refuse"``)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"corrupt data file {path}: {reason}")


class BacktestSetupError(BacktestError, ValueError):
    """A backtest's configuration is wrong; the message names the field and value."""
