"""Every error the engine raises on purpose, in one tree.

```
EngineError
├── ConfigError (ValueError)        a config file, key or env override is wrong; start-up stops
├── InstrumentError (ValueError)    a price or size is off the instrument's tick or lot grid
├── FeedError                       market data could not be trusted
│   ├── SequenceGap                 a venue update id skipped; the book must resync
│   ├── MalformedMessage (ValueError)  a frame could not be parsed; counted, logged, maybe resync
│   ├── ChecksumMismatch            the venue's book checksum disagrees with ours; resync
│   └── SnapshotError               a REST snapshot was missing, too old or unusable
├── BookError
│   └── CrossedBook                 best bid >= best ask after an update; the book is invalid
├── IpcError
│   ├── RingFull                    push_nowait on a full ring (our WouldBlock); retry or drop
│   ├── SegmentError (OSError)      a shared-memory segment is missing, foreign or malformed
│   └── InstanceRunning             another live engine already owns this instance name
├── ControlError                    the HTTP control plane could not start or answer
└── GatewayError                    an order request to a venue did not complete as asked
    ├── OrderRejected               the venue refused the order or request (its code and text)
    ├── RateLimited                 429 / limit reached: wait ``retry_after_s``, then retry
    ├── IpBanned                    418: the venue banned this address; stop sending until then
    ├── AuthError                   bad key, signature or permissions: a configuration problem
    ├── ClockSkew                   the request's timestamp fell outside the venue's window
    ├── StatusUnknown               timeout, 5xx or "send status unknown": reconcile, never retry
    └── VenueGarbage (ValueError)   the venue answered something we cannot parse: link marked bad
```

Each class carries the structured fields that say where the problem is (venue, symbol, sequence
numbers, file and key path) and its message repeats them, so a log line alone is enough.
"""

from __future__ import annotations


class EngineError(Exception):
    """Root of every deliberate engine error."""


class ConfigError(EngineError, ValueError):
    """A configuration file, key or environment override is invalid.

    Raised at load time, before anything starts. The message names the source (file path or
    environment variable), the key path (``$.section.key``) and what is wrong.
    """

    def __init__(self, source: str, message: str, key_path: str | None = None) -> None:
        self.source = source
        self.key_path = key_path
        self.detail = message
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{message}")


class InstrumentError(EngineError, ValueError):
    """A price or size does not sit on the instrument's tick or lot grid, or is not a number."""


class FeedError(EngineError):
    """Market data from a venue could not be trusted as received."""

    def __init__(self, venue: str, symbol: str, message: str) -> None:
        self.venue = venue
        self.symbol = symbol
        super().__init__(f"{venue} {symbol}: {message}")


class SequenceGap(FeedError):
    """A venue update id skipped: updates between ``expected`` and ``received`` are missing."""

    def __init__(self, venue: str, symbol: str, expected: int, received: int) -> None:
        self.expected = expected
        self.received = received
        super().__init__(venue, symbol, f"sequence gap: expected {expected}, received {received}")


class MalformedMessage(FeedError, ValueError):
    """A frame could not be parsed into an event; ``stream`` says which stream sent it."""

    def __init__(self, venue: str, stream: str, message: str, raw: bytes | str = b"") -> None:
        self.stream = stream
        self.raw = raw[:200]
        super().__init__(venue, stream, f"malformed message: {message}")


class ChecksumMismatch(FeedError):
    """The checksum a venue sent (``expected``) disagrees with the one of our book (``computed``).

    The book missed or misapplied an update and must be rebuilt from a fresh snapshot.
    """

    def __init__(self, venue: str, symbol: str, expected: int, computed: int) -> None:
        self.expected = expected
        self.computed = computed
        super().__init__(
            venue, symbol, f"book checksum mismatch: venue sent {expected}, book gives {computed}"
        )


class SnapshotError(FeedError):
    """A REST book snapshot was missing, too old for the buffered diffs, or unusable."""


class BookError(EngineError):
    """The order book reached a state that cannot be shown as valid."""


class CrossedBook(BookError):
    """Best bid at or above best ask after an update: a delete was missed somewhere."""

    def __init__(self, symbol: str, best_bid: int, best_ask: int) -> None:
        self.symbol = symbol
        self.best_bid = best_bid
        self.best_ask = best_ask
        super().__init__(
            f"{symbol}: crossed book, best bid {best_bid} >= best ask {best_ask} ticks"
        )


class IpcError(EngineError):
    """Shared-memory IPC between the engine and a UI failed."""


class RingFull(IpcError):
    """``push_nowait`` found no free slot; the caller retries (lossless) or drops (lossy)."""


class SegmentError(IpcError, OSError):
    """A shared-memory segment is missing, has the wrong layout, or belongs to someone else."""


class InstanceRunning(IpcError):
    """Another live engine process already owns this instance name."""

    def __init__(self, instance: str, pid: int) -> None:
        self.instance = instance
        self.pid = pid
        super().__init__(f"instance {instance!r} is already running as pid {pid}")


class ControlError(EngineError):
    """The HTTP control plane could not start or could not answer."""


class GatewayError(EngineError):
    """An order request to a venue did not complete as asked.

    ``venue`` names the venue, ``code`` is the venue's own error code (0 when it gave none) and
    ``reason`` its own text, so a reject shown to a trader says what the venue said.
    """

    def __init__(self, venue: str, reason: str, code: int = 0) -> None:
        self.venue = venue
        self.reason = reason
        self.code = code
        tag = f" ({code})" if code else ""
        super().__init__(f"{venue}: {reason}{tag}")


class OrderRejected(GatewayError):
    """The venue refused an order, cancel or replace; the request must not be retried as is."""


class RateLimited(GatewayError):
    """The venue's rate limit is reached (HTTP 429 or a too-many-orders code)."""

    def __init__(self, venue: str, reason: str, code: int = 0, retry_after_s: float = 1.0) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(venue, reason, code)


class IpBanned(RateLimited):
    """HTTP 418: the venue banned this address for ``retry_after_s``; nothing may be sent."""


class AuthError(GatewayError):
    """The key, the signature or the key's permissions were refused: fix the configuration."""


class ClockSkew(GatewayError):
    """The request's timestamp was outside the venue's receive window; resync the clock."""


class StatusUnknown(GatewayError):
    """The venue may or may not have acted (timeout, 5xx, -1007): reconcile, do not resend."""


class VenueGarbage(GatewayError, ValueError):
    """The venue answered bytes we cannot parse; the link is marked bad until reconciled."""

    def __init__(self, venue: str, reason: str, raw: bytes | str = b"") -> None:
        self.raw = raw[:200]
        super().__init__(venue, reason)
