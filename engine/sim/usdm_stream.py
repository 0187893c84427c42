"""The local venue's Binance USD-M user data stream: listen keys and ``/private/ws`` (§2.9).

A listen key (:class:`ListenKeys`) belongs to one account: ``POST /fapi/v1/listenKey`` makes
one, or returns the account's active key extended; ``PUT`` extends it (-1125 when it is gone);
``DELETE`` closes it and its streams. A key lives ``ttl_s`` (60 minutes) from its last
extension; when it runs out, every stream on it gets ``listenKeyExpired`` and is closed.

Streams are ``/private/ws?listenKey=<key>&events=A/B/C`` (the current form; ``events`` is an
allow-list, as Binance's: an event type not named is never sent) and ``/private/ws/<key>`` (the
older form, every event). An unknown key is refused before the upgrade: HTTP 400 with -1125.
Events are ``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE`` and ``listenKeyExpired``; each connection
has its own outgoing queue and writer, and the server pings every ``heartbeat_s``. The
venue's order-side faults apply: a broken frame can go ahead of an event, and
:meth:`UsdmStreams.drop_all` cuts every connection without a close frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import string
import time
from typing import Any

import msgspec
from aiohttp import WSMsgType, web

from engine.sim.accounts import Account
from engine.sim.push_connection import PushConnection
from engine.sim.trading_faults import TradingFaults
from engine.sim.usdm_wire import listen_key_expired
from engine.sim.wire import RestError

log = logging.getLogger("engine.sim")

_encode = msgspec.json.Encoder().encode
_KEY_CHARS = string.ascii_letters + string.digits
LISTEN_KEY_TTL_S = 3600.0
EVENT_TYPES = frozenset({"ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "listenKeyExpired"})
"""Events the venue sends."""
INVALID_KEY = "This listenKey does not exist."


class _Key:
    __slots__ = ("account", "expiry", "key")

    def __init__(self, key: str, account: Account) -> None:
        self.key = key
        self.account = account
        self.expiry: asyncio.TimerHandle | None = None


class StreamConnection(PushConnection):
    """One client of ``/private/ws``: its key, its allowed events, its queue and writer."""

    close_message = b"listen key closed"

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, key: str, events: frozenset[str]
    ) -> None:
        super().__init__(ws, request)
        self.key = key
        self.events = events


class UsdmStreams:
    """Every listen key and ``/private/ws`` connection of the venue.

    Args:
        faults: the order-side faults (broken frames ahead of events).
        ttl_s: how long a listen key lives after its last extension.
        heartbeat_s: seconds between server pings.
        seed: seeds the listen keys.
    """

    def __init__(
        self,
        faults: TradingFaults,
        *,
        ttl_s: float = LISTEN_KEY_TTL_S,
        heartbeat_s: float = 20.0,
        seed: int = 7,
    ) -> None:
        self.faults = faults
        self.ttl_s = ttl_s
        self.heartbeat_s = heartbeat_s
        self.connections: set[StreamConnection] = set()
        self._keys: dict[str, _Key] = {}
        self._by_account: dict[int, _Key] = {}
        self._ids = random.Random(f"{seed}:usdm-listen-keys")

    # ---- listen keys -----------------------------------------------------------------------------

    def create(self, account: Account) -> str:
        """``POST``: the account's active key, extended, or a new one."""
        held = self._by_account.get(account.uid)
        if held is None:
            key = "".join(self._ids.choice(_KEY_CHARS) for _ in range(64))
            held = self._keys[key] = self._by_account[account.uid] = _Key(key, account)
            log.info("listen key created", extra={"account": account.name})
        self._extend(held)
        return held.key

    def keepalive(self, account: Account) -> str:
        """``PUT``: extend the account's active key.

        Raises:
            RestError: -1125 when the account has no active key.
        """
        held = self._by_account.get(account.uid)
        if held is None:
            raise RestError(400, -1125, INVALID_KEY)
        self._extend(held)
        return held.key

    def close(self, account: Account) -> None:
        """``DELETE``: close the account's key and its streams (nothing to close is fine)."""
        held = self._by_account.pop(account.uid, None)
        if held is None:
            return
        self._drop_key(held)
        for conn in self._on_key(held.key):
            conn.finish()

    def account_of(self, key: str) -> Account | None:
        """The account of an active key, or None."""
        held = self._keys.get(key)
        return None if held is None else held.account

    def expire_all(self, *, notify: bool = True) -> int:
        """Let every active key run out now; returns how many.

        Args:
            notify: send ``listenKeyExpired`` and close the streams, as the venue does; when
                False the keys just vanish and their streams go quiet (a lost expiry event),
                so that only a keep-alive (-1125) can tell.
        """
        keys = list(self._keys.values())
        for held in keys:
            if notify:
                self._expire(held)
            else:
                self._drop_key(held)
        return len(keys)

    def _extend(self, held: _Key) -> None:
        if held.expiry is not None:
            held.expiry.cancel()
        held.expiry = asyncio.get_running_loop().call_later(self.ttl_s, self._expire, held)

    def _drop_key(self, held: _Key) -> None:
        if held.expiry is not None:
            held.expiry.cancel()
        self._keys.pop(held.key, None)
        if self._by_account.get(held.account.uid) is held:
            del self._by_account[held.account.uid]

    def _expire(self, held: _Key) -> None:
        self._drop_key(held)
        log.info("listen key expired", extra={"account": held.account.name})
        event = _encode(listen_key_expired(held.key, time.time_ns() // 1_000_000)).decode()
        for conn in self._on_key(held.key):
            if "listenKeyExpired" in conn.events:
                conn.send(event)
            conn.finish()

    def _on_key(self, key: str) -> list[StreamConnection]:
        return [c for c in self.connections if c.key == key]

    # ---- events ----------------------------------------------------------------------------------

    def listening(self, account: Account) -> bool:
        """Whether any stream listens to ``account``."""
        held = self._by_account.get(account.uid)
        return held is not None and any(c.key == held.key for c in self.connections)

    def publish(self, account: Account, event: dict[str, Any]) -> None:
        """Send ``event`` to every stream of ``account`` that allows its type."""
        held = self._by_account.get(account.uid)
        if held is None:
            return
        kind = str(event.get("e"))
        targets = [c for c in self._on_key(held.key) if kind in c.events and not c.closing]
        if not targets:
            return
        text = _encode(event).decode()
        for conn in targets:
            variant = self.faults.take_malformed_user_frame()
            if variant is not None:
                conn.send(_malformed(text, variant))
            conn.send(text)

    def drop_all(self) -> int:
        """Cut every connection without a close frame; returns how many."""
        conns = tuple(self.connections)
        for conn in conns:
            conn.abort()
        return len(conns)

    async def close_all(self) -> None:
        """Close every connection politely (1001 going away), and forget every key."""
        for held in list(self._keys.values()):
            self._drop_key(held)
        for conn in tuple(self.connections):
            conn.closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"server shutdown"), 1.0)

    # ---- the endpoint ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve ``/private/ws?listenKey=...&events=...`` and ``/private/ws/<listenKey>``."""
        key = request.match_info.get("listen_key") or request.query.get("listenKey", "")
        events = EVENT_TYPES
        if "events" in request.query:
            events = frozenset(e for e in request.query["events"].split("/") if e)
        if self.account_of(key) is None:
            body = _encode({"code": -1125, "msg": INVALID_KEY})
            return web.Response(status=400, body=body, content_type="application/json")
        ws = web.WebSocketResponse(heartbeat=self.heartbeat_s, max_msg_size=1 << 16)
        conn = StreamConnection(ws, request, key, events)
        await ws.prepare(request)
        self.connections.add(conn)
        writer = asyncio.create_task(conn.write_loop(), name="sim-usdm-stream-writer")
        log.info("USD-M user stream connected", extra={"peer": conn.peer})
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
        finally:
            conn.closing = True
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
            log.info("USD-M user stream gone", extra={"peer": conn.peer})
        return ws


def _malformed(frame: str, variant: int) -> str:
    """An event a careful client must reject: cut short (even) or with broken fields (odd)."""
    if variant % 2 == 0:
        return frame[: max(1, len(frame) // 2)]
    bad = {"e": "ORDER_TRADE_UPDATE", "E": "soon", "T": None, "o": {"s": None, "x": 7}}
    return _encode(bad).decode()
