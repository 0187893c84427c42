"""The backtest subject's peers: hftbacktest and NautilusTrader over the same Binance capture.

Both run in the peers' own environment (``bench-peers/``, see :mod:`engine.bench.peers`), a
subprocess with its own interpreter and lock, so their pins (hftbacktest's ``numpy<2.3``,
NautilusTrader's Python 3.12+) never constrain the product's environment. The worker converts
the capture itself, runs one untimed warm-up (numba compilation, NautilusTrader's start-up) and
then ``reps`` timed runs, and answers with JSON.

The API the ``backtest`` subject (:mod:`engine.bench.backtest`) calls::

    run_hftbacktest(captures, *, tick_size="0.01", lot_size="0.000001",
                    loop=QuoteLoop(), reps=3, max_events=None, timeout_s=600.0) -> PeerRun
    run_nautilus(captures, *, tick_size="0.01", lot_size="0.000001",
                 loop=QuoteLoop(), reps=3, max_events=None, timeout_s=600.0) -> PeerRun
    capture_events(captures, max_events=None) -> int

* ``captures``: the capture files of one session in order, in the hftbacktest raw format
  (``<receive ns> <json>`` lines, gzip), e.g. :data:`SPOT_BTCUSDT` under ``../shared/data``.
* ``loop``: the quoting loop every contestant runs (:class:`QuoteLoop`: quote one bid and one ask
  ``half_spread_ticks`` around the mid, ``size_lots`` each, replaced when the wanted price moved
  more than ``requote_ticks``; stop quoting the side that would take inventory past
  ``max_inventory_lots``), with ``order_latency_ns`` each way for orders and ``feed_latency_ns``
  on market data.
* ``max_events``: feed only the first that many events (``None``: the whole session).
* Events are the capture's ``depthUpdate`` and ``trade`` messages after the REST snapshot
  (bookTicker lines and the snapshot are not counted), so every contestant divides the same
  count: :func:`capture_events` gives it for ours. ``events_per_s`` is that count over the wall
  time of one run's event loop (loading and converting the data excluded).
* The result is a :class:`PeerRun`; a peer that cannot run (its environment is absent, its
  import or its run failed, it timed out) comes back with ``events_per_s == []`` and ``missing``
  saying why, never as an exception, so the subject reports a row that says so.

hftbacktest: its numba API (``BacktestAsset`` + ``HashMapMarketDepthBacktest``), the capture
converted with its own Binance converter logic to its event array, ``risk_adverse_queue_model``
and ``constant_order_latency``, the same quoting loop compiled with ``numba.njit``, elapsing
``feed interval`` steps. NautilusTrader: ``BacktestEngine`` with one Binance-like venue, the
capture's depth diffs as ``OrderBookDeltas`` and trades as ``TradeTick``, a ``Strategy`` running
the same loop, L2 book type, its default fill and latency models with ``order_latency_ns``.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import msgspec

from engine.bench.peers import PeerUnavailable, peer_worker

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SPOT_BTCUSDT = (
    SHARED_DATA / "hftbacktest" / "spot" / "btcusdt_20240808.gz",
    SHARED_DATA / "hftbacktest" / "spot" / "btcusdt_20240809.gz",
)
"""The Binance spot BTCUSDT session (about 10.8 minutes), both day files in order."""

HFTBACKTEST = "hftbacktest"
NAUTILUS = "NautilusTrader"


class QuoteLoop(msgspec.Struct, frozen=True, kw_only=True):
    """The quoting loop every backtest contestant runs; sizes in lots, prices in ticks."""

    half_spread_ticks: int = 10
    size_lots: int = 1000
    """Quote size in lots (1000 lots of 0.000001 BTC = 0.001 BTC)."""
    requote_ticks: int = 0
    max_inventory_lots: int = 100_000
    order_latency_ns: int = 1_000_000
    """Order entry and response latency, each way."""
    feed_latency_ns: int = 0
    """Market data latency on top of the capture's receive times."""


class PeerRun(msgspec.Struct, frozen=True, kw_only=True):
    """One peer's backtest figures, or why there are none."""

    contestant: str
    """:data:`HFTBACKTEST` or :data:`NAUTILUS`."""
    events_per_s: list[float]
    """Events per second of each timed run (warm-up excluded); empty when ``missing``."""
    events: int
    """Events fed per run (see the module docstring); 0 when ``missing``."""
    missing: str | None
    """Why nothing was measured, or None."""
    detail: str
    """Version, data conversion and models used; what the report's input line says."""
    orders: int = 0
    """Orders the loop sent in the last run (a check the loop did run)."""
    fills: int = 0
    """Fills it received in the last run."""


def capture_events(captures: Sequence[Path], max_events: int | None = None) -> int:
    """The number of events a run over ``captures`` feeds (depthUpdate and trade messages).

    Raises:
        FileNotFoundError: a capture file is missing.
    """
    count = 0
    for path in captures:
        with gzip.open(path, "rb") as f:
            for line in f:
                head = line[:120]
                if b'"depthUpdate"' in head or b'@trade"' in head:
                    count += 1
                    if max_events is not None and count >= max_events:
                        return count
    return count


def _run(
    contestant: str,
    op: str,
    captures: Sequence[Path],
    tick_size: str,
    lot_size: str,
    loop: QuoteLoop,
    reps: int,
    max_events: int | None,
    timeout_s: float,
) -> PeerRun:
    missing = [str(p) for p in captures if not Path(p).is_file()]
    if missing:
        return PeerRun(
            contestant=contestant,
            events_per_s=[],
            events=0,
            missing=f"capture not found: {', '.join(missing)}",
            detail="",
        )
    request = {
        "op": op,
        "captures": [str(Path(p).resolve()) for p in captures],
        "tick_size": tick_size,
        "lot_size": lot_size,
        "loop": msgspec.structs.asdict(loop),
        "reps": reps,
        "max_events": max_events,
    }
    try:
        with peer_worker(timeout_s=timeout_s) as worker:
            answer = worker.call(request, timeout_s=timeout_s)
    except PeerUnavailable as exc:
        return PeerRun(
            contestant=contestant, events_per_s=[], events=0, missing=str(exc), detail=""
        )
    return PeerRun(
        contestant=contestant,
        events_per_s=[float(v) for v in answer["events_per_s"]],
        events=int(answer["events"]),
        missing=None,
        detail=str(answer["detail"]),
        orders=int(answer.get("orders", 0)),
        fills=int(answer.get("fills", 0)),
    )


def run_hftbacktest(
    captures: Sequence[Path],
    *,
    tick_size: str = "0.01",
    lot_size: str = "0.000001",
    loop: QuoteLoop | None = None,
    reps: int = 3,
    max_events: int | None = None,
    timeout_s: float = 600.0,
) -> PeerRun:
    """The hftbacktest numba backtest of :class:`QuoteLoop` over ``captures`` (module docstring)."""
    return _run(
        HFTBACKTEST,
        "backtest_hftbacktest",
        captures,
        tick_size,
        lot_size,
        loop or QuoteLoop(),
        reps,
        max_events,
        timeout_s,
    )


def run_nautilus(
    captures: Sequence[Path],
    *,
    tick_size: str = "0.01",
    lot_size: str = "0.000001",
    loop: QuoteLoop | None = None,
    reps: int = 3,
    max_events: int | None = None,
    timeout_s: float = 600.0,
) -> PeerRun:
    """NautilusTrader's BacktestEngine running :class:`QuoteLoop` over ``captures``."""
    return _run(
        NAUTILUS,
        "backtest_nautilus",
        captures,
        tick_size,
        lot_size,
        loop or QuoteLoop(),
        reps,
        max_events,
        timeout_s,
    )
