from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from engine.sim import SimError
from engine.sim.server import SimVenue
from tests.engine.sim.helpers import (
    STEP_NS,
    get_json,
    next_event,
    open_stream,
    recv_json,
    send_request,
)

pytestmark = pytest.mark.integration


async def test_combined_stream_frames_parse_and_ids_connect(venue, btc):
    """Combined-stream diffs carry Binance's fields and each U follows the previous u."""
    url = f"{venue.ws_url}/stream?streams=btcusdt@depth@100ms/btcusdt@trade"
    async with open_stream(url) as ws:
        for _ in range(8):
            await venue.step(STEP_NS)
        prev = None
        for _ in range(8):
            frame = await recv_json(ws)
            while frame["stream"] != "btcusdt@depth@100ms":
                assert frame["stream"] == "btcusdt@trade"
                frame = await recv_json(ws)
            data = frame["data"]
            assert list(data) == ["e", "E", "s", "U", "u", "b", "a"]
            assert (data["e"], data["s"]) == ("depthUpdate", "BTCUSDT")
            assert data["U"] <= data["u"]
            if prev is not None:
                assert data["U"] == prev + 1
            prev = data["u"]
            for p, q in data["b"] + data["a"]:
                btc.price_grid().to_int(p)
                btc.size_grid().to_int(q)
        assert prev == venue.true_book("BTCUSDT")[2]


async def test_trade_frames_carry_binance_fields(venue, btc):
    """Trades arrive on ``@trade`` with rising ids, text price and size, m and M."""
    async with open_stream(f"{venue.ws_url}/stream?streams=btcusdt@trade") as ws:
        await venue.step(5 * STEP_NS)
        trades = [await next_event(ws, "trade") for _ in range(5)]
    ids = [t["t"] for t in trades]
    assert ids == list(range(ids[0], ids[0] + 5))
    for t in trades:
        assert btc.size_grid().to_int(t["q"]) > 0
        assert btc.price_grid().to_int(t["p"]) > 0
        assert isinstance(t["m"], bool)
        assert t["M"] is True
        assert t["T"] <= t["E"]


async def test_depth_streams_of_each_speed_connect_on_their_own(venue):
    """``@depth@100ms`` and ``@depth`` (1000 ms) each carry a continuous id sequence."""
    url = f"{venue.ws_url}/stream?streams=btcusdt@depth@100ms/btcusdt@depth"
    async with open_stream(url) as ws:
        for _ in range(3):
            await venue.step(STEP_NS)
        last: dict[str, int] = {}
        while len(last) < 2 or set(last.values()) != {venue.true_book("BTCUSDT")[2]}:
            frame = await recv_json(ws)
            stream, data = frame["stream"], frame["data"]
            if stream in last:
                assert data["U"] == last[stream] + 1
            last[stream] = data["u"]


async def test_snapshot_plus_diffs_reproduce_the_true_book(live_venue, btc):
    """A client following the documented snapshot-and-diff procedure ends with the true book."""
    price, size = btc.price_grid(), btc.size_grid()
    async with open_stream(f"{live_venue.ws_url}/stream?streams=btcusdt@depth@20ms") as ws:
        first = await next_event(ws, "depthUpdate")
        _, _, snap = await get_json(f"{live_venue.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=1000")
        last_id = snap["lastUpdateId"]
        assert last_id >= first["U"]  # not too old for what was buffered
        book = {
            "b": {price.to_int(p): size.to_int(q) for p, q in snap["bids"]},
            "a": {price.to_int(p): size.to_int(q) for p, q in snap["asks"]},
        }
        event, applied, synced = first, 0, False
        while True:
            if event["u"] > last_id:
                if synced:
                    assert event["U"] == last_id + 1
                else:
                    assert event["U"] <= last_id + 1 <= event["u"]
                    synced = True
                for key in ("b", "a"):
                    for p, q in event[key]:
                        lots = size.to_int(q)
                        if lots:
                            book[key][price.to_int(p)] = lots
                        else:
                            book[key].pop(price.to_int(p), None)
                last_id = event["u"]
                applied += 1
            if applied == 10:
                live_venue.pause()
            if live_venue.paused and last_id == live_venue.true_book("BTCUSDT")[2]:
                break
            event = await next_event(ws, "depthUpdate")
    bids, asks, update_id = live_venue.true_book("BTCUSDT")
    assert last_id == update_id
    assert sorted(book["b"].items(), reverse=True) == bids
    assert sorted(book["a"].items()) == asks


async def test_stop_closes_streams_going_away(btc):
    """Stopping the venue closes every stream with 1001 (going away)."""
    sim = SimVenue([btc], autorun=False)
    await sim.start()
    async with open_stream(f"{sim.ws_url}/ws/btcusdt@trade") as ws:
        await send_request(ws, "LIST_SUBSCRIPTIONS", None, 1)
        await sim.stop()
        with pytest.raises(ConnectionClosed) as info:
            await recv_json(ws)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1001


async def test_true_book_and_step_reject_bad_arguments(venue):
    """Unknown symbols and negative steps raise SimError."""
    with pytest.raises(SimError, match="unknown symbol"):
        venue.true_book("DOGEUSDT")
    with pytest.raises(SimError, match="back in time"):
        await venue.step(-1)


async def test_each_symbol_has_its_own_market_and_streams(btc, eth):
    """Two symbols get their own prices, update ids and diff streams."""
    sim = SimVenue([btc, eth], autorun=False, mid_prices={"ETHUSDT": "3000.00"})
    await sim.start()
    try:
        url = f"{sim.ws_url}/stream?streams=btcusdt@depth@100ms/ethusdt@depth@100ms"
        async with open_stream(url) as ws:
            await sim.step(STEP_NS)
            frames = {f["data"]["s"]: f["data"] for f in [await recv_json(ws), await recv_json(ws)]}
    finally:
        await sim.stop()
    assert set(frames) == {"BTCUSDT", "ETHUSDT"}
    eth_bids, _, eth_id = sim.true_book("ETHUSDT")
    assert frames["ETHUSDT"]["u"] == eth_id
    assert frames["BTCUSDT"]["u"] == sim.true_book("BTCUSDT")[2]
    assert abs(eth_bids[0][0] - 300_000) < 5_000
    with pytest.raises(SimError, match="does not list"):
        SimVenue([btc], mid_prices={"ETHUSDT": "3000.00"})


async def test_venue_needs_an_instrument():
    """A venue with nothing to list is refused."""
    with pytest.raises(SimError):
        SimVenue([])
