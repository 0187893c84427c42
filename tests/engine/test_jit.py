"""Compiling off the critical path: the background process, activation, and the switch itself."""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import signal
import subprocess
import sys
import weakref

import msgspec
import numba
import numpy as np
import pytest

from engine import jit
from engine.book import order_book
from engine.book.ladder_book import LadderBook
from engine.book.order_book import OrderBook, fallback_book
from engine.core.events import BookDelta, Trade
from engine.core.instruments import Instrument
from engine.venues.binance import protocol
from engine.venues.binance.protocol import BinanceSpotParser
from tests.engine.book.books import state
from tests.engine.venues.binance.captures import SPOT_INSTRUMENTS, hftbacktest_lines

BTC = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
KERNELS = sum(len(__import__(m, fromlist=["_"]).SIGNATURES) for m in jit.KERNEL_MODULES)


@pytest.fixture
def fresh_process(monkeypatch):
    """This process as an engine starts it: books and parsers on pure Python, nothing active.

    The kernels stay loaded in memory (they are per process either way); only the switches that
    books and parsers read are put back to their starting state, and restored afterwards.
    """
    jit.load_compiled()
    monkeypatch.setattr(order_book, "_move_onto_ladder", None)
    monkeypatch.setattr(order_book, "_live", weakref.WeakSet())
    monkeypatch.setattr(protocol, "_depth_frame", protocol._decline_depth)
    monkeypatch.setattr(protocol, "_levels_only", protocol._decline_levels)
    monkeypatch.setattr(jit, "_deferred", False)
    monkeypatch.setattr(jit, "_active", False)


def _steps_text(steps: int, decimals: int) -> str:
    """Binance's text for a number of steps: 8 decimals."""
    whole, frac = divmod(steps, 10**decimals)
    return f"{whole}.{frac:0{decimals}d}" + "0" * (8 - decimals)


def depth_frames(count: int, seed: int = 11) -> list[bytes]:
    """A seeded stream of BTCUSDT diffs near 65,000.00, as Binance lays them out."""
    rng = random.Random(seed)
    mid, update_id, frames = 6_500_000, 1000, []
    for n in range(count):
        mid += rng.randrange(-3, 4)
        sides = {
            key: [
                [
                    _steps_text(mid + sign * rng.randrange(1, 400), 2),
                    _steps_text(rng.choice([0, rng.randrange(1, 10**6)]), 5),
                ]
                for _ in range(rng.randrange(0, 12))
            ]
            for key, sign in (("b", -1), ("a", 1))
        }
        first, update_id = update_id + 1, update_id + rng.randrange(1, 5)
        data = {"e": "depthUpdate", "E": 1_723_161_255_000 + n, "s": "BTCUSDT"}
        data |= {"U": first, "u": update_id, **sides}
        frames.append(msgspec.json.encode({"stream": "btcusdt@depth@100ms", "data": data}))
    return frames


# ---- the kernels -------------------------------------------------------------------------------


def test_every_kernel_compiles_for_exactly_one_signature():
    """Every compiled function of each kernel module is in SIGNATURES and has one overload."""
    jit.load_compiled()
    for module_name in jit.KERNEL_MODULES:
        module = __import__(module_name, fromlist=["SIGNATURES"])
        dispatchers = {
            name
            for name, value in vars(module).items()
            if isinstance(value, numba.core.registry.CPUDispatcher)
        }
        assert dispatchers == set(module.SIGNATURES), module_name
        for name in dispatchers:
            assert len(getattr(module, name).signatures) == 1, f"{module_name}.{name}"


# ---- the background process --------------------------------------------------------------------


@pytest.mark.integration
def test_background_compile_fills_an_empty_cache(fresh_process, tmp_path):
    """The background process compiles every kernel into numba's cache; a later run loads them."""
    handle = jit.start_background_compile(cache_dir=tmp_path)
    try:
        assert jit.deferred()
        assert handle.wait(timeout_s=600), handle.error
    finally:
        handle.stop()
    assert handle.error is None
    assert handle.report is not None
    assert (handle.report["compiled"], handle.report["from_cache"]) == (KERNELS, 0)
    indexes = {path.name.split("-")[0] for path in tmp_path.rglob("*.nbi")}
    for module_name in jit.KERNEL_MODULES:
        module = __import__(module_name, fromlist=["SIGNATURES"])
        for name in module.SIGNATURES:
            assert f"{module_name.rsplit('.', 1)[1]}.{name}" in indexes
    again = subprocess.run(
        [sys.executable, "-m", "engine.jit"],
        env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)},
        capture_output=True,
        check=True,
        timeout=600,
    )
    report = json.loads(again.stdout.decode().splitlines()[-1])
    assert (report["compiled"], report["from_cache"]) == (0, KERNELS)


def test_a_compile_process_that_dies_is_reported_loudly(fresh_process, tmp_path, caplog):
    """A dead compile process sets the handle's error, logs an error, and switches nothing."""
    handle = jit.start_background_compile(cache_dir=tmp_path)
    assert handle.pid is not None
    os.kill(handle.pid, signal.SIGKILL)
    with caplog.at_level(logging.ERROR, logger="engine.jit"):
        assert not handle.wait(timeout_s=60)
        assert not handle.poll()
    handle.stop()
    assert handle.error is not None
    assert "status -9" in handle.error
    assert any("BACKGROUND COMPILE FAILED" in r.getMessage() for r in caplog.records)
    assert jit.deferred()  # warm_up() still must not compile here
    assert not jit.active()
    assert not protocol.compiled_readers()


def test_stopping_a_running_compile_ends_the_deferral(fresh_process, tmp_path):
    """An engine that stops while the compile runs leaves warm_up() working normally again."""
    handle = jit.start_background_compile(cache_dir=tmp_path)
    assert jit.deferred()
    handle.stop()
    assert not jit.deferred()
    assert handle.error is None


def test_nothing_is_started_once_the_kernels_are_in_use(fresh_process):
    """Once books and parsers run compiled code the handle is ready at once, with no process."""
    order_book.warm_up()
    protocol.warm_up()
    handle = jit.start_background_compile()
    assert handle.pid is None
    assert handle.poll()
    assert jit.active()
    assert not jit.deferred()


# ---- activation --------------------------------------------------------------------------------


def test_activate_moves_live_books_and_parsers_and_logs_the_pause(fresh_process, caplog):
    """activate() puts every live book and parser on compiled code, state intact, and says so."""
    book = OrderBook("BTCUSDT", window_ticks=64)
    parser = BinanceSpotParser([BTC])
    snapshot = parser.parse_snapshot(
        b'{"lastUpdateId":1000,"bids":[["64999.99000000","1.00000000"]],'
        b'"asks":[["65000.01000000","2.00000000"],["99000.00000000","3.00000000"]]}',
        BTC,
        0,
    )
    book.apply_snapshot(
        snapshot.bid_px, snapshot.bid_sz, snapshot.ask_px, snapshot.ask_sz, snapshot.update_id
    )
    before = state(book)
    assert type(book) is OrderBook
    assert not protocol.compiled_readers()
    with caplog.at_level(logging.INFO, logger="engine.jit"):
        jit.activate()
    assert type(book) is LadderBook
    assert state(book) == before
    assert protocol.compiled_readers()
    assert (jit.active(), jit.deferred()) == (True, False)
    (record,) = [r for r in caplog.records if "compiled kernels active" in r.getMessage()]
    assert record.books_moved == 1
    assert record.seconds >= 0


def test_warm_up_waits_for_the_background_compile(fresh_process, monkeypatch):
    """While a background compile is pending the parser's warm_up() compiles nothing here."""
    monkeypatch.setattr(jit, "_deferred", True)
    protocol.warm_up()
    assert not protocol.compiled_readers()


def test_activating_mid_stream_keeps_every_book_read_exact(fresh_process):
    """Books and parser switch between two frames; book contents and ids carry over exactly."""
    parser = BinanceSpotParser([BTC])
    book = OrderBook("BTCUSDT", window_ticks=256)
    reference = fallback_book("BTCUSDT", window_ticks=256)
    frames = depth_frames(300)
    for n, raw in enumerate(frames):
        if n == 150:
            jit.activate()
        delta = parser.parse_frame(raw, recv_ts=n)
        assert isinstance(delta, BookDelta)
        for target in (book, reference):
            target.apply_delta(
                delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, delta.last_id
            )
        assert state(book) == state(reference)
    assert type(book) is LadderBook
    assert book.update_count == len(frames)


async def test_upgrade_when_compiled_runs_the_whole_sequence(fresh_process):
    """The one-task form starts the process, waits, loads off the loop and switches the book."""
    book = OrderBook("BTCUSDT")
    handle = jit.start_background_compile()
    assert await jit.upgrade_when_compiled(handle)
    assert type(book) is LadderBook
    assert jit.active()


# ---- both parser paths on real frames ----------------------------------------------------------


def _events(parser: BinanceSpotParser, lines: list[bytes]) -> list[object]:
    """What the parser makes of each captured line, frames and REST snapshots alike."""
    inst = parser.instruments[0]
    out: list[object] = []
    for raw in lines:
        if raw.startswith(b'{"lastUpdateId"'):
            out.append(parser.parse_snapshot(raw, inst, 0))
        else:
            out.append(parser.parse_frame(raw, 0))
    return out


def _plain(event: object) -> object:
    """An event with its level arrays as lists, so two events compare field by field."""
    if isinstance(event, msgspec.Struct):
        return {
            field: value.tolist() if isinstance(value, np.ndarray) else value
            for field, value in msgspec.structs.asdict(event).items()
        } | {"type": type(event).__name__}
    return event


@pytest.mark.shared_data
def test_both_parser_paths_give_identical_events_for_captured_frames(shared_data, monkeypatch):
    """Captured BTCUSDT frames and snapshots give the same events with or without the readers."""
    lines = [raw for _, raw in itertools.islice(hftbacktest_lines(shared_data, "btcusdt"), 4000)]
    inst = SPOT_INSTRUMENTS["btcusdt"]
    protocol.use_compiled_readers()
    compiled = [_plain(event) for event in _events(BinanceSpotParser([inst]), lines)]
    monkeypatch.setattr(protocol, "_depth_frame", protocol._decline_depth)
    monkeypatch.setattr(protocol, "_levels_only", protocol._decline_levels)
    general = [_plain(event) for event in _events(BinanceSpotParser([inst]), lines)]
    assert general == compiled
    kinds = {event["type"] for event in compiled if isinstance(event, dict)}
    assert {BookDelta.__name__, Trade.__name__, "BookSnapshot"} <= kinds
