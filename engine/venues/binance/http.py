"""A small HTTP/1.1 keep-alive client for the order hot path, on asyncio Protocols.

Why it exists: the ``gateway`` benchmark (``hft-tui bench gateway``) times the engine's part of
tick-to-order, from ``BinanceSpotGateway.submit()`` being called to the request's bytes being
handed to ``transport.write``, against the local venue, for this client and for aiohttp behind
the same gateway in the same run. On the 2-core VM (uvloop, other work running) this client took
p50 28 us / p99 70-85 us, aiohttp p50 100-117 us / p99 230 us; the whole round trip to the ack
was 0.49 ms against 0.70-0.80 ms. aiohttp has to start a task per request, build a
``ClientRequest``, encode a URL, take a connection from its connector and serialise headers
before the first byte leaves; this client writes from inside ``submit()``: the request line is
built, stamped and signed in one pass and written on an idle pooled connection, behind a header
block encoded once. That is the only reason for it: aiohttp stays for every call off the hot
path (clock sync, open orders, account, cancel-all, order look-ups).

What it does and does not do:

- one request at a time per connection (no pipelining); a pool of up to ``max_connections``
  keep-alive connections, opened ahead (``start``) and on demand; a request finding no idle
  connection queues and goes on the next one free, in order;
- answers framed by ``Content-Length`` or ``Transfer-Encoding: chunked`` (or by the connection
  closing); ``Connection: close`` closes after the answer;
- a connection idle longer than ``idle_timeout_s`` is closed before use rather than risk the
  server closing it under a request;
- every request gets exactly one callback: the answer, or an :class:`HttpError` saying whether
  the bytes left (``sent``): a request that left but got no answer (timeout, connection lost)
  may have been acted on, which the caller treats as status unknown.

TLS works through the same Protocol (``https://`` URLs). The callback runs on the loop, inside
``data_received``; it must not block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import cast
from urllib.parse import urlsplit

log = logging.getLogger("engine.venues.binance")


class HttpError(OSError):
    """A request got no answer: ``sent`` says whether its bytes had been written."""

    def __init__(self, message: str, *, sent: bool) -> None:
        self.sent = sent
        super().__init__(message)


class HttpResponse:
    """One answer: status, headers (names in lower case) and the whole body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"HttpResponse({self.status}, {len(self.body)} bytes)"


ResponseCallback = Callable[[HttpResponse | None, HttpError | None], None]
"""Called once per request with the answer, or with the error when there is none."""
TargetBuilder = Callable[[], str]
"""Returns ``/path?query`` at the moment of writing (so timestamps and signatures are fresh)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight at most."""

    def __init__(self, client: KeepAliveClient) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.callback: ResponseCallback | None = None
        self.deadline = 0.0
        """Monotonic time by which the answer must be in (0: nothing asked)."""
        self.idle_since = time.monotonic()
        self.closed = False
        self._status = 0
        self._headers: dict[str, str] = {}
        self._length = -1  # body length; -2 chunked; -3 until close
        self._head_done = False
        self._close_after = False

    # ---- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        callback, self.callback = self.callback, None
        if callback is not None:
            if self._head_done and self._length == -3:
                self._finish(bytes(self.buffer), callback)  # framed by the close
            else:
                self.deadline = 0.0
                callback(None, HttpError(f"connection lost before the answer: {exc}", sent=True))
        self.client._discard(self)

    def data_received(self, data: bytes) -> None:
        if self.callback is None:
            self.buffer.clear()  # nothing asked: a stray answer on a keep-alive socket
            self.close()
            return
        self.buffer += data
        if not self._head_done and not self._read_head():
            return
        body = self._read_body()
        if body is not None:
            callback, self.callback = self.callback, None
            self._finish(body, callback)

    # ---- requests -------------------------------------------------------------------------------

    def send(self, data: bytes, callback: ResponseCallback, deadline: float) -> None:
        transport = self.transport
        assert transport is not None
        self.callback = callback
        self.deadline = deadline
        self._head_done = False
        self._close_after = False
        hook = self.client.on_write
        if hook is not None:
            hook()
        transport.write(data)

    def timed_out(self, timeout_s: float) -> None:
        """The answer is late: fail the request as sent and close (the answer may still come)."""
        self.deadline = 0.0
        callback, self.callback = self.callback, None
        self.close()
        if callback is not None:
            callback(None, HttpError(f"no answer within {timeout_s:g} s", sent=True))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # ---- parsing --------------------------------------------------------------------------------

    def _read_head(self) -> bool:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        del buffer[: end + 4]
        try:
            self._status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            self._status = 0
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self._headers = headers
        self._close_after = headers.get("connection", "").lower() == "close"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._length = -2
        elif "content-length" in headers:
            try:
                self._length = int(headers["content-length"])
            except ValueError:
                self._length = -3
        elif self._status in (204, 304) or 100 <= self._status < 200:
            self._length = 0
        else:
            self._length = -3
            self._close_after = True
        self._head_done = True
        return True

    def _read_body(self) -> bytes | None:
        buffer = self.buffer
        length = self._length
        if length >= 0:
            if len(buffer) < length:
                return None
            body = bytes(buffer[:length])
            del buffer[:length]
            return body
        if length == -2:
            return self._read_chunks()
        return None  # until the connection closes

    def _read_chunks(self) -> bytes | None:
        buffer = self.buffer
        body = bytearray()
        at = 0
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            try:
                size = int(bytes(buffer[at:line_end]).split(b";", 1)[0], 16)
            except ValueError:
                self._close_after = True
                return bytes(buffer)
            start = line_end + 2
            if size == 0:
                trailer_end = buffer.find(b"\r\n", start)
                while trailer_end > start:  # skip trailer headers
                    start = trailer_end + 2
                    trailer_end = buffer.find(b"\r\n", start)
                if trailer_end < 0:
                    return None
                del buffer[: trailer_end + 2]
                return bytes(body)
            if len(buffer) < start + size + 2:
                return None
            body += buffer[start : start + size]
            at = start + size + 2

    def _finish(self, body: bytes, callback: ResponseCallback) -> None:
        self.deadline = 0.0
        response = HttpResponse(self._status, self._headers, body)
        if self._close_after or self.closed:
            self.close()
        else:
            self.idle_since = time.monotonic()
            self.client._release(self)
        callback(response, None)


class KeepAliveClient:
    """A pool of HTTP/1.1 keep-alive connections to one origin.

    Args:
        base_url: ``http://host:port`` or ``https://host``; requests name only the target.
        headers: sent with every request (encoded once, e.g. the API key header).
        max_connections: most connections open at once.
        timeout_s: a request without an answer this long fails (``sent=True``).
        idle_timeout_s: a connection idle this long is closed instead of reused.
        ssl_context: for ``https``; the system's default trust when None.

    Raises:
        ValueError: for a URL that is not ``http``/``https`` with a host.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        *,
        max_connections: int = 4,
        timeout_s: float = 10.0,
        idle_timeout_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) base URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        netloc = self.host if parts.port is None else f"{self.host}:{self.port}"
        if ":" in self.host:
            netloc = f"[{self.host}]" + ("" if parts.port is None else f":{self.port}")
        block = {"Host": netloc, "User-Agent": "hft-tui", "Content-Length": "0"}
        block.update(headers or {})
        self._head_tail = (
            "".join(f"{k}: {v}\r\n" for k, v in block.items()).encode("latin-1") + b"\r\n"
        )
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.on_write: Callable[[], None] | None = None
        """Called as each request's bytes are handed to ``transport.write`` (benchmarks)."""
        self._idle: list[_Connection] = []
        self._busy: set[_Connection] = set()
        self._opening = 0
        self._queue: deque[tuple[str, TargetBuilder, ResponseCallback]] = deque()
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweep_s = min(0.25, timeout_s / 4)
        self._sweeper: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:  # the header block (with the API key) is never shown
        return f"KeepAliveClient({self.host}:{self.port}, {self.connections} connections)"

    @property
    def connections(self) -> int:
        """Connections open now, idle or busy."""
        return len(self._idle) + len(self._busy)

    async def start(self, connections: int = 1) -> None:
        """Open ``connections`` connections ahead of the first request.

        Raises:
            OSError: the origin cannot be reached.
        """
        self._closed = False
        for _ in range(min(connections, self.max_connections) - self.connections):
            self._idle.append(await self._open())

    async def close(self) -> None:
        """Close every connection; queued requests fail as not sent."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for task in list(self._tasks):
            task.cancel()
        for conn in [*self._idle, *self._busy]:
            conn.close()
        self._idle.clear()
        queued, self._queue = self._queue, deque()
        for _, _, callback in queued:
            callback(None, HttpError("client closed before the request was sent", sent=False))
        await asyncio.sleep(0)

    def send(self, method: str, target: TargetBuilder, callback: ResponseCallback) -> None:
        """Send one request now on an idle connection, or queue it for the next one free.

        ``target()`` is called just before writing. Never blocks; ``callback`` gets the answer.
        """
        if self._closed:
            callback(None, HttpError("client is closed", sent=False))
            return
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(self._sweep_s, self._sweep)
        now = time.monotonic()
        conn = self._take_idle(now)
        if conn is None:
            self._queue.append((method, target, callback))
            self._grow()
            return
        self._busy.add(conn)
        conn.send(self._encode(method, target()), callback, now + self.timeout_s)

    def _encode(self, method: str, target: str) -> bytes:
        return f"{method} {target} HTTP/1.1\r\n".encode("latin-1") + self._head_tail

    def _take_idle(self, now: float) -> _Connection | None:
        idle = self._idle
        limit = now - self.idle_timeout_s
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if conn.idle_since < limit:
                conn.close()
                continue
            return conn
        return None

    def _sweep(self) -> None:
        """Fail requests past their deadline (one timer for the pool, not one per request)."""
        self._sweeper = None
        if self._closed:
            return
        now = time.monotonic()
        for conn in [c for c in self._busy if 0 < c.deadline <= now]:
            conn.timed_out(self.timeout_s)
        self._sweeper = asyncio.get_running_loop().call_later(self._sweep_s, self._sweep)

    # ---- the pool -------------------------------------------------------------------------------

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        transport, conn = await loop.create_connection(  # asyncio and uvloop set TCP_NODELAY
            lambda: _Connection(self),
            self.host,
            self.port,
            ssl=self._ssl,
            server_hostname=self.host if self._ssl else None,
        )
        conn.transport = transport  # uvloop calls connection_made only after this returns
        return conn

    def _grow(self) -> None:
        if self.connections + self._opening >= self.max_connections or self._closed:
            return
        self._opening += 1
        task = asyncio.get_running_loop().create_task(self._grow_one())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _grow_one(self) -> None:
        try:
            conn = await asyncio.wait_for(self._open(), timeout=self.timeout_s)
        except (OSError, TimeoutError) as exc:
            self._opening -= 1
            log.warning("order connection failed", extra={"host": self.host, "error": repr(exc)})
            if not self.connections:  # nothing will ever pick the queue up: fail it
                queued, self._queue = self._queue, deque()
                for _, _, callback in queued:
                    callback(None, HttpError(f"cannot connect: {exc}", sent=False))
            return
        self._opening -= 1
        if self._closed:
            conn.close()
            return
        self._release(conn)

    def _release(self, conn: _Connection) -> None:
        """A connection is free: give it the oldest queued request, or keep it idle."""
        self._busy.discard(conn)
        if self._queue and not conn.closed:
            method, target, callback = self._queue.popleft()
            self._busy.add(conn)
            conn.send(self._encode(method, target()), callback, time.monotonic() + self.timeout_s)
            return
        if not conn.closed:
            self._idle.append(conn)

    def _discard(self, conn: _Connection) -> None:
        self._busy.discard(conn)
        with contextlib.suppress(ValueError):
            self._idle.remove(conn)
        if self._queue and not self._closed:
            self._grow()
