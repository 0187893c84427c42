"""The keep-alive HTTP/1.1 client, against a small aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from engine.venues.binance.http import HttpError, HttpResponse, KeepAliveClient

pytestmark = pytest.mark.integration


class Server:
    """A loopback server that echoes what it was sent and counts connections."""

    def __init__(self) -> None:
        self.peers: set[tuple[str, int]] = set()
        self.release = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def echo(self, request: web.Request) -> web.Response:
        """The raw target and the API key header, with a used-weight header."""
        self.peers.add(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        text = f"{request.method} {request.raw_path} key={request.headers.get('X-MBX-APIKEY')}"
        return web.Response(text=text, headers={"X-MBX-USED-WEIGHT-1M": "7"})

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        """A body sent in three chunks."""
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b'{"a":', b'"chunked"', b"}"):
            await response.write(part)
        await response.write_eof()
        return response

    async def slow(self, _request: web.Request) -> web.Response:
        """Answers only when the test lets it."""
        await self.release.wait()
        return web.Response(text="late")

    async def close(self, request: web.Request) -> web.Response:
        """Answers, then closes the connection."""
        self.peers.add(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        return web.Response(text="bye", headers={"Connection": "close"})

    async def drop(self, request: web.Request) -> web.Response:
        """Cuts the connection without answering."""
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.05)
        return web.Response(text="never seen")

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        for name in ("echo", "chunked", "slow", "close", "drop"):
            app.router.add_route("*", f"/{name}", getattr(self, name))
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """A running echo server."""
    srv = Server()
    await srv.start()
    yield srv
    srv.release.set()
    assert srv.runner is not None
    await srv.runner.cleanup()


@pytest.fixture
async def client(server: Server) -> AsyncIterator[KeepAliveClient]:
    """A client to the server with an API key header."""
    cl = KeepAliveClient(server.url, {"X-MBX-APIKEY": "key-123"}, max_connections=2, timeout_s=2)
    await cl.start()
    yield cl
    await cl.close()


async def call(client: KeepAliveClient, method: str, target: str) -> HttpResponse:
    """One request; its answer, or the HttpError raised."""
    done: asyncio.Future[HttpResponse] = asyncio.get_running_loop().create_future()

    def on_answer(response: HttpResponse | None, error: HttpError | None) -> None:
        if error is not None:
            done.set_exception(error)
        else:
            assert response is not None
            done.set_result(response)

    client.send(method, lambda: target, on_answer)
    return await done


async def test_a_request_goes_out_byte_exact_with_the_header_block(client):
    """The target is sent as given (no re-encoding) with the fixed headers."""
    response = await call(client, "POST", "/echo?newClientOrderId=a:b/c.d-e_f&signature=ab12")
    assert response.status == 200
    assert response.body == b"POST /echo?newClientOrderId=a:b/c.d-e_f&signature=ab12 key=key-123"
    assert response.headers["x-mbx-used-weight-1m"] == "7"


async def test_requests_in_a_row_reuse_one_connection(client, server):
    """Sequential requests ride the same keep-alive connection."""
    for _ in range(5):
        await call(client, "GET", "/echo")
    assert len(server.peers) == 1
    assert client.connections == 1


async def test_concurrent_requests_share_at_most_the_pool_and_all_get_answers(client, server):
    """Twenty requests at once all get their own answer over at most two connections."""
    answers = await asyncio.gather(*(call(client, "GET", f"/echo?n={n}") for n in range(20)))
    assert [a.body.split(b" ")[1] for a in answers] == [f"/echo?n={n}".encode() for n in range(20)]
    assert len(server.peers) <= 2


async def test_a_queued_request_builds_its_target_when_it_is_written(client, server):
    """A request waiting for a connection calls its target builder only when it goes out."""
    server.release.clear()
    built: list[str] = []
    slow = [asyncio.ensure_future(call(client, "GET", "/slow")) for _ in range(2)]
    await asyncio.sleep(0.05)
    done: asyncio.Future[HttpResponse] = asyncio.get_running_loop().create_future()
    client.send("GET", lambda: built.append("now") or "/echo", lambda r, e: done.set_result(r))
    assert built == []
    server.release.set()
    await asyncio.gather(*slow)
    assert (await done).status == 200
    assert built == ["now"]


async def test_a_chunked_answer_is_read_whole(client):
    """A chunked body arrives joined."""
    response = await call(client, "GET", "/chunked")
    assert response.body == b'{"a":"chunked"}'
    assert (await call(client, "GET", "/echo")).status == 200


async def test_connection_close_is_honoured(client, server):
    """An answer with ``Connection: close`` closes that connection; the next opens another."""
    assert (await call(client, "GET", "/close")).body == b"bye"
    await call(client, "GET", "/echo")
    assert len(server.peers) == 2


async def test_no_answer_in_time_fails_as_sent(server):
    """A request the server sits on fails after the timeout, marked as sent."""
    server.release.clear()
    cl = KeepAliveClient(server.url, timeout_s=0.2)
    await cl.start()
    try:
        with pytest.raises(HttpError, match="no answer") as caught:
            await call(cl, "GET", "/slow")
        assert caught.value.sent
    finally:
        await cl.close()


async def test_a_dropped_connection_fails_as_sent(client):
    """A connection cut before the answer fails the request, marked as sent."""
    with pytest.raises(HttpError, match="connection lost") as caught:
        await call(client, "GET", "/drop")
    assert caught.value.sent
    assert (await call(client, "GET", "/echo")).status == 200


async def test_an_unreachable_origin_fails_as_not_sent():
    """With nothing listening, the request fails and is marked as never sent."""
    cl = KeepAliveClient("http://127.0.0.1:9", timeout_s=1)
    with pytest.raises(HttpError) as caught:
        await call(cl, "GET", "/echo")
    assert not caught.value.sent
    await cl.close()


async def test_a_closed_client_refuses_requests_as_not_sent(client):
    """After close, requests fail at once as not sent."""
    await client.close()
    with pytest.raises(HttpError, match="closed") as caught:
        await call(client, "GET", "/echo")
    assert not caught.value.sent


def test_the_repr_never_shows_the_header_block():
    """The client's repr names the origin only, never the API key."""
    cl = KeepAliveClient("https://api.binance.com", {"X-MBX-APIKEY": "secret-key"})
    assert "secret-key" not in repr(cl)
    assert cl.port == 443


def test_a_base_url_must_be_http():
    """A base URL that is not http(s) is refused."""
    with pytest.raises(ValueError, match="http"):
        KeepAliveClient("ws://127.0.0.1:1")
