"""The ``gateway`` benchmark subject: registered, and its aiohttp contestant speaks the seam."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from engine.bench import SUBJECTS, runner
from engine.bench.gateway import AiohttpTransport, run
from engine.venues.binance.http import HttpError, HttpResponse

pytestmark = pytest.mark.integration


def test_gateway_is_a_registered_subject():
    """``hft-tui bench gateway`` finds the subject's run function."""
    assert SUBJECTS["gateway"] == "engine.bench.gateway"
    assert runner("gateway") is run


async def test_the_aiohttp_contestant_sends_the_target_as_is_and_marks_the_write():
    """The peer transport writes the signed target unchanged and calls the hook as it writes."""

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=request.raw_path, headers={"X-MBX-USED-WEIGHT-1M": "3"})

    app = web.Application()
    app.router.add_route("*", "/api/v3/order", echo)
    server = web.AppRunner(app, access_log=None)
    await server.setup()
    site = web.TCPSite(server, "127.0.0.1", 0)
    await site.start()
    transport = AiohttpTransport(f"http://127.0.0.1:{server.addresses[0][1]}", {"X-Key": "k"})
    writes: list[int] = []
    transport.on_write = lambda: writes.append(1)
    await transport.start()
    try:
        done: asyncio.Future[HttpResponse | HttpError | None] = (
            asyncio.get_running_loop().create_future()
        )
        target = "/api/v3/order?newClientOrderId=a:b/c&signature=ff"
        transport.send("POST", lambda: target, lambda r, e: done.set_result(r or e))
        answer = await done
        assert isinstance(answer, HttpResponse)
        assert answer.body.decode() == target
        assert answer.headers["x-mbx-used-weight-1m"] == "3"
        assert writes
    finally:
        await transport.close()
        await server.cleanup()
