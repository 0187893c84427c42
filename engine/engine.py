"""The Engine: composition root wiring feed -> books -> risk -> OMS -> gateway, IPC and control.

One asyncio loop runs everything. Market data is applied to the books as it arrives; what the UI
sees is published from a periodic task (latest state wins), so no UI can slow the feed. Commands
(kill) arrive on the lossless command ring, the HTTP control plane and the CLI, and all take the
same path: :meth:`Engine.kill`, which trips the breaker and cancels every open order (verified).
The gateway is the venue's own in ``live`` mode and the in-process matching core on the live book
in ``paper`` mode; everything else is the same objects in both.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from engine import jit
from engine.book.order_book import OrderBook
from engine.control import systemd
from engine.control.http import ControlPlane
from engine.control.metrics import registry_for, render
from engine.control.strategies import RunnerControl
from engine.core.clock import Clock, LiveClock
from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.config import EngineConfig
from engine.core.events import Alert, AlertLevel, BookDelta, Fill, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.feeds import make_feed
from engine.gateways import make_gateway, sim_credentials
from engine.instrument_check import check_instruments
from engine.ipc.protocol import (
    BookState,
    BookView,
    CommandKind,
    EngineView,
    EventKind,
    Flag,
    HaltReason,
    LinkState,
    Record,
    ResyncReason,
    RingView,
    TradingView,
    order_style_of,
    pack,
)
from engine.ipc.publisher import EnginePublisher
from engine.market_feeds import apply_reconnect_rules
from engine.oms.baseline import InventoryBaseline
from engine.oms.ids import ClientOrderIds
from engine.oms.journal import FsyncPolicy, Journal
from engine.oms.manager import OrderManager
from engine.oms.positions import Portfolio
from engine.oms.reconcile import Reconciler
from engine.oms.views import (
    order_doc,
    orders_doc,
    parse_order_request,
    portfolio_doc,
    trading_view,
)
from engine.risk.checks import MarketState
from engine.risk.circuit_breaker import UNCLEAN_STOP, CircuitBreaker
from engine.risk.limits import RiskLimits
from engine.risk.live_limits import LimitsSync
from engine.risk.pipeline import RiskPipeline
from engine.risk.store import open_store
from engine.sim.paper import PaperGateway
from engine.sim.process import SimVenueProcess
from engine.status import status_document
from engine.strategy.live_params import ParamsSync
from engine.strategy.registry import build_strategy
from engine.strategy.runner import StrategyRunner
from engine.venues.base import Feed, Gateway
from engine.wire_latency import WireToBook

if TYPE_CHECKING:
    from engine.recorder.recorder import Recorder

log = logging.getLogger("engine")

_NS = 1_000_000_000
PUBLISH_INTERVAL_S = 0.01
"""The housekeeping cadence: book pages at most 100 times a second (the UI reads at ~20 Hz)."""
_ALERT_LEVELS = {AlertLevel.INFO: 1, AlertLevel.WARNING: 2, AlertLevel.CRITICAL: 3}


class Engine:
    """One engine instance.

    Args:
        config: the validated configuration.
        config_path: the file it came from, handed to the local venue process.
        clock: wall clock (tests may pass another).
        venue_urls: (ws, rest) of an already running venue; skips starting the local venue.
    """

    def __init__(
        self,
        config: EngineConfig,
        *,
        config_path: str | None = None,
        clock: Clock | None = None,
        venue_urls: tuple[str, str] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock or LiveClock()
        self.instruments: list[Instrument] = config.instrument_list()
        self.books = {i.instrument_id: OrderBook(i.symbol) for i in self.instruments}
        self.grids = [(i.price_grid(), i.size_grid()) for i in self.instruments]
        self.book_states: dict[int, BookState] = dict.fromkeys(self.books, "syncing")
        self.link = LinkState.DISCONNECTED
        self.breaker = CircuitBreaker(config.state_dir(), self.clock)
        self.portfolio = Portfolio(self.instruments, self.clock)
        self.risk = RiskPipeline(self.instruments, config.risk, self.clock, self.portfolio)
        state = config.state_dir()
        self.journal = Journal(
            state / "journal",
            config.engine.instance,
            FsyncPolicy(config.oms.journal_fsync),
            config.oms.journal_batch_ms,
        )
        self.oms = OrderManager(
            self.instruments,
            clock=self.clock,
            risk=self.risk,
            portfolio=self.portfolio,
            ids=ClientOrderIds(config.engine.instance, state / "order_ids.json"),
            journal=self.journal,
            market=self.market_state,
            breaker_tripped=lambda: self.breaker.tripped,
            on_trip=self.trip,
            on_alert=self._on_alert,
            on_booked=self._on_booked,
            on_link_back=self._on_link_back,
            keep_finished=config.oms.keep_finished_orders,
        )
        self.gateway: Gateway | None = None
        self.strategies = StrategyRunner(
            self.oms,
            self.books,
            self.clock,
            halted=lambda: self.risk.halted or self.breaker.tripped,
        )
        for name, section in config.strategies.items():
            if section.enabled:
                strategy = build_strategy(name, section, self.instruments, config.strategy.paths)
                self.strategies.add(strategy)
        #: what gateways report to: the OMS first, then the order's strategy
        self.listener = self.strategies.listener()
        #: the control plane's view of the strategies: list, params, stop/start, reload
        self.strategy_control = RunnerControl(self.strategies)
        self.params = open_store(config)
        #: strategy parameters shared through the same store, one hash per strategy
        self.params_sync = ParamsSync(self.params, self.strategies)
        self.strategy_control.sync = self.params_sync
        self.limits_sync = LimitsSync(
            self.params,
            self.instruments,
            limits=self.risk_limits,
            set_limits=self.set_risk_limits,
            on_trip=self.trip,
        )
        self.reconciler = Reconciler(
            self.oms,
            self.portfolio,
            InventoryBaseline(state / "inventory_baseline.json"),
            max_position_diff=config.oms.reconcile_max_position_diff,
            trip=self.trip,
        )
        #: the key and secret of our account on the local venue: from the environment when an
        #: operator runs the venue apart (``hft-tui sim-venue``), else fresh for every run
        self.sim_key = sim_credentials(config, os.environ)
        self._paper: PaperGateway | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._error_samples: deque[tuple[int, int]] = deque()
        #: client order id -> the UI request number that placed it (the ticket's answer)
        self._ui_requests: dict[str, int] = {}
        self._metrics = registry_for(self)
        self.malformed = 0
        self.started_ns = self.clock.time_ns()
        self._config_path = config_path
        self._venue_urls = venue_urls
        self._stop = asyncio.Event()
        self._dirty: set[int] = set(self.books)
        self._book_ts: dict[int, tuple[int, int]] = dict.fromkeys(self.books, (0, 0))
        #: books gone live whose strategies have not been told yet (see on_book_state)
        self._live_untold: set[int] = set()
        self._rate_window_start = self.clock.monotonic_ns()
        self._rate_window_count = 0
        self._updates_per_s = 0.0
        self._book_updates = 0
        self.wire = WireToBook(config.venue.name)
        """Frame receive to book updated, per update (drained with each heartbeat)."""
        self.publisher: EnginePublisher | None = None
        self.control: ControlPlane | None = None
        self.feed: Feed | None = None
        self.recorder: Recorder | None = None
        """Market-data capture into the catalog (``[recorder] enabled``), once running."""
        self._sim: SimVenueProcess | None = None
        self._top = np.zeros((4, config.ipc.book_depth), dtype=np.int64)

    # ---- lifecycle -------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop gracefully (signal handlers call this)."""
        self._stop.set()

    async def run(self, duration_s: float | None = None) -> None:
        """Start everything, run until stopped (or for ``duration_s``), then tear down."""
        cfg = self.config
        await self._open_state()
        assert self.publisher is not None
        # Kernels compile (or load from cache) in another process while the books and the parser
        # run their pure-Python paths; the switch to compiled code keeps every book's state.
        compile_job = jit.start_background_compile()
        upgrade = asyncio.create_task(jit.upgrade_when_compiled(compile_job), name="jit")
        tasks: list[asyncio.Task[Any]] = []
        try:
            self.control = ControlPlane(
                self, cfg.control.host, cfg.control.port, cfg.control.token_env
            )
            await self.control.start()
            self.publisher.announce(self.control.url)
            ws_url, rest_url = await self._venue()
            self.feed = make_feed(self, ws_url, rest_url)
            apply_reconnect_rules(self, self.feed)
            self._start_recorder()
            await self._start_gateway(ws_url, rest_url)
            if cfg.venue.check_instruments:
                self._spawn(check_instruments(self, rest_url), "instruments")
            log.info(
                "engine started",
                extra={
                    "instance": cfg.engine.instance,
                    "venue": cfg.venue.name,
                    "control": self.control.url,
                    "pid": os.getpid(),
                },
            )
            # systemd: the control plane is up and the gateway started (reconciling in the
            # background; orders stay held until it is done).
            systemd.ready(f"engine {cfg.engine.instance} on {cfg.venue.name}")
            tasks = [
                asyncio.create_task(self.feed.run(), name="feed"),
                asyncio.create_task(self._housekeeping(), name="housekeeping"),
            ]
            waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._stop.wait())]
            waiters += tasks
            timeout = duration_s if duration_s and duration_s > 0 else None
            done, _ = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
            for task in done:
                if task in tasks and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            waiters[0].cancel()
        finally:
            systemd.stopping(f"stopping {cfg.engine.instance}")
            log.info("engine stopping", extra={"instance": cfg.engine.instance})
            upgrade.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(upgrade, *tasks, return_exceptions=True)
            compile_job.stop()
            for job in list(self._background):
                job.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
            await self._close_connections()
            if self.recorder is not None:
                await asyncio.to_thread(self.recorder.stop)
            log.info("engine stopped", extra={"instance": cfg.engine.instance})

    def _start_recorder(self) -> None:
        """``[recorder] enabled``: the feed's frames and events go to the catalog's writer."""
        if not self.config.recorder.enabled:
            return
        from engine.recorder.recorder import recorder_for
        from engine.recorder.tap import tap_feed

        self.recorder = recorder_for(
            self.config,
            self.instruments,
            on_alert=self._recorder_alert,
            loop=asyncio.get_running_loop(),
        )
        tap_feed(self.feed, self.recorder.raw)
        self.recorder.start()

    def _recorder_alert(self, level: AlertLevel, message: str) -> None:
        self.oms.alert(level, "recorder", message)

    async def _open_state(self) -> None:
        """Shared memory, the breaker, the journal replay and the parameter store, in order.

        Whatever was opened is closed again when a later step fails.
        """
        cfg = self.config
        self.publisher = EnginePublisher.create(
            cfg.engine.instance,
            [i.symbol for i in self.instruments],
            event_ring_bytes=cfg.ipc.event_ring_bytes,
            command_ring_bytes=cfg.ipc.command_ring_bytes,
            clock=self.clock,
        )
        try:
            self.breaker.open(os.getpid())
        except BaseException:
            self.publisher.close()
            raise
        try:
            self.oms.replay(self.journal.directory, cfg.engine.instance)
            if self.breaker.tripped:
                self.risk.halt(self.breaker.reason)
                startup = self.breaker.reason == UNCLEAN_STOP
                reason = HaltReason.STARTUP if startup else HaltReason.OPERATOR
                self.publisher.emit(
                    pack(EventKind.HALTED, engine_ts=self.clock.time_ns(), aux=reason)
                )
            # Limits and the breaker shared through Redis (or the local file): the store's
            # limits win over the config's; a trip recorded there halts this engine too.
            await self.params.start()
            await self.limits_sync.start()
            await self.params_sync.start()
        except BaseException:
            await self.params.stop()
            self.publisher.close()
            self.breaker.close()
            raise

    async def _close_connections(self) -> None:
        """Stop the gateway, feed, control plane, local venue and store, then close the state."""
        self.strategies.stop(reason="engine stopping")
        self.strategies.close()
        if self.gateway is not None:
            await self.gateway.stop()
        if self.feed is not None:
            await self.feed.stop()
        if self.control is not None:
            await self.control.stop()
        if self._sim is not None:
            await self._sim.stop()
        await self.params_sync.stop()
        await self.limits_sync.stop()
        await self.params.stop()
        self.journal.close()
        assert self.publisher is not None
        self.publisher.close()
        self.breaker.close()

    async def _venue(self) -> tuple[str, str]:
        if self._venue_urls is not None:
            return self._venue_urls
        venue = self.config.venue
        if venue.name == "sim" and not venue.ws_url:
            sim = self.config.sim
            self._sim = SimVenueProcess(
                self._config_path,
                env={sim.api_key_env: self.sim_key[0], sim.api_secret_env: self.sim_key[1]},
            )
            await self._sim.start()
            log.info(
                "local venue started",
                extra={"pid": self._sim.pid, "ws": self._sim.ws_url, "rest": self._sim.rest_url},
            )
            return self._sim.ws_url, self._sim.rest_url
        return venue.ws_url, venue.rest_url

    async def _start_gateway(self, ws_url: str, rest_url: str) -> None:
        """Build the mode's gateway, start it, and reconcile with it before any order goes out."""
        self.gateway = make_gateway(self, ws_url, rest_url)
        if isinstance(self.gateway, PaperGateway):
            self._paper = self.gateway
        self.oms.attach(self.gateway)
        # Orders are held until the venue has been reconciled, which runs in the background so
        # that market data and the control plane come up even while the venue does not answer.
        self.oms.link_ok[self.gateway.venue] = False
        self._spawn(self._connect_gateway(self.gateway), f"gateway-{self.gateway.venue}")

    async def _connect_gateway(self, gateway: Gateway) -> None:
        """Start the gateway (retrying with backoff while the venue refuses), then reconcile."""
        delay = 0.5
        while True:
            try:
                await gateway.start()
                break
            except Exception as exc:  # the venue may be down or refusing: keep trying, held
                self.oms.reconcile_failed(gateway.venue, f"gateway start failed: {exc!r}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        await self.reconcile(gateway)
        self.strategies.start()  # only once the venue's orders and positions are known

    async def reconcile(self, gateway: Gateway) -> None:
        """Make our orders and positions agree with the venue's: :mod:`engine.oms.reconcile`."""
        await self.reconciler.run(gateway)

    def market_state(self, instrument: int) -> MarketState:
        """The market an order on ``instrument`` is checked against."""
        book = self.books[instrument]
        bid, ask = book.best_bid(), book.best_ask()
        return MarketState(
            best_bid=bid[0] if bid else 0,
            best_ask=ask[0] if ask else 0,
            live=self.shown_state(instrument) == "live",
            recv_ts=self._book_ts[instrument][1],
        )

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _on_link_back(self, venue: str) -> None:
        gateway = self.oms.gateways.get(venue)
        if gateway is not None:
            self._spawn(self.reconcile(gateway), f"reconcile-{venue}")

    def _on_booked(self, fill: Fill) -> None:
        if self.publisher is None:
            return
        counter = self.oms.ids.counter_of(fill.client_order_id) or 0
        self.publisher.emit(
            pack(
                EventKind.FILL,
                Flag.BUY if fill.side is Side.BUY else Flag.SELL,
                fill.instrument,
                fill.exch_ts,
                fill.recv_ts,
                self.clock.time_ns(),
                fill.price,
                fill.size,
                counter,
                1 if fill.liquidity == "maker" else 2,
            )
        )

    def _on_alert(self, alert: Alert) -> None:
        if self.publisher is not None:
            self.publisher.emit(
                pack(EventKind.ALERT, engine_ts=alert.ts_ns, aux=_ALERT_LEVELS[alert.level])
            )

    async def _housekeeping(self) -> None:
        """Commands, heartbeats, rates and state pages, on a short fixed cadence."""
        assert self.publisher is not None
        beat_every = self.config.ipc.heartbeat_interval_ms * 1_000_000
        last_beat = 0
        watchdog_every = systemd.watchdog_interval()
        last_watchdog = 0
        while True:
            for cmd in self.publisher.poll_commands():
                self._on_command(cmd)
            now = self.clock.monotonic_ns()
            if watchdog_every is not None and now - last_watchdog >= watchdog_every:
                last_watchdog = now
                systemd.watchdog()  # only while this loop runs: a stuck engine gets restarted
            if now - self._rate_window_start >= _NS:
                elapsed = (now - self._rate_window_start) / _NS
                self._updates_per_s = self._rate_window_count / elapsed
                self._rate_window_start, self._rate_window_count = now, 0
            self._mark_books()
            self._watch_venue_errors(now)
            self.strategies.run_timers()
            self._publish_books()
            if now - last_beat >= beat_every:
                last_beat = now
                self.wire.drain()
                wall = self.clock.time_ns()
                self.publisher.heartbeat(wall)
                self.publisher.publish_engine(self.engine_view(wall))
                self.publisher.publish_trading(self.trading_view())
            await asyncio.sleep(PUBLISH_INTERVAL_S)

    # ---- commands ----------------------------------------------------------------------------

    def _on_command(self, cmd: Record) -> None:
        kind = cmd.kind
        if kind == CommandKind.KILL:
            self.kill("ui")
        elif kind == CommandKind.RESET:
            self.reset("ui (confirmed)")
        elif kind == CommandKind.SUBMIT:
            self._ui_submit(cmd)
        elif kind == CommandKind.CANCEL:
            self.cancel_order(f"{self.config.engine.instance}-{cmd.seq}", "ui")
        elif kind == CommandKind.CANCEL_ALL:
            self._ui_cancel_all(cmd.instrument if cmd.aux != 1 else -1)
        elif kind == CommandKind.PING:
            log.debug("ping from ui")
        else:
            log.warning("unknown command on the command ring", extra={"kind": kind})

    def _ui_submit(self, cmd: Record) -> None:
        """An order from the UI's ticket: the same path and checks as every other order."""
        try:
            order_type, tif = order_style_of(cmd.aux)
            if cmd.instrument not in self.oms.instruments or cmd.flags not in (1, 2):
                raise ValueError(f"instrument {cmd.instrument} / side flags {cmd.flags}")
        except ValueError as exc:
            self.oms.alert(AlertLevel.WARNING, "ui", f"order from the UI refused: {exc}")
            return
        client_order_id = self.oms.new_id()
        self._ui_requests[client_order_id] = cmd.seq
        while len(self._ui_requests) > 1000:  # the page shows at most 60 orders
            del self._ui_requests[next(iter(self._ui_requests))]
        order = self.oms.submit(
            SubmitOrder(
                client_order_id=client_order_id,
                instrument=cmd.instrument,
                side=Side.BUY if cmd.flags == Flag.BUY else Side.SELL,
                size_lots=cmd.size,
                price_ticks=cmd.price if order_type == "limit" else 0,
                order_type=OrderType(order_type),
                time_in_force=TimeInForce(tif),
            )
        )
        log.info(
            "ui order",
            extra={"client_order_id": order.client_order_id, "status": str(order.status)},
        )

    def _ui_cancel_all(self, instrument: int) -> None:
        """Cancel every open order on one instrument (or all) from the UI."""
        for order in self.oms.open_orders(instrument):
            self.oms.cancel(order.client_order_id, "ui cancel-all")

    @property
    def trading(self) -> str:
        """``running`` or ``halted``: the circuit breaker decides."""
        return "halted" if self.breaker.tripped else "running"

    @property
    def halt_reason(self) -> str:
        """Why trading is halted; empty while running."""
        return self.breaker.reason

    @property
    def halted_at_ns(self) -> int:
        """When trading was halted; 0 while running."""
        return self.breaker.since_ns

    def kill(self, source: str) -> None:
        """Halt trading now and cancel every open order. Idempotent (first time and reason kept).

        A second kill while halted sends cancel-all again: an operator pressing it twice wants
        the orders gone.
        """
        self.oms.record_control("kill", source)
        if not self.breaker.trip(f"kill switch ({source})"):
            self.cancel_all_orders(f"kill switch again ({source})")
            return
        self.risk.halt(self.breaker.reason)
        self.limits_sync.publish_breaker(
            True, self.breaker.reason, self.breaker.since_ns, f"kill switch ({source})"
        )
        log.warning("TRADING HALTED", extra={"source": source})
        self._announce(EventKind.HALTED, HaltReason.OPERATOR)
        self.cancel_all_orders(f"kill switch ({source})")

    def trip(self, reason: str) -> None:
        """The circuit breaker trips on its own (loss limit, reconciliation): halt, cancel all."""
        if not self.breaker.trip(reason):
            return
        self.oms.record_control("trip", "circuit breaker", reason)
        self.risk.halt(self.breaker.reason)
        self.limits_sync.publish_breaker(True, reason, self.breaker.since_ns, "circuit breaker")
        log.error("TRADING HALTED by the circuit breaker", extra={"reason": reason})
        self._announce(EventKind.HALTED, HaltReason.BREAKER)
        self.cancel_all_orders(reason)

    def cancel_all_orders(self, source: str) -> None:
        """Cancel every open order on every venue, verified with retries in the background."""
        if not self.oms.gateways:
            return
        oms = self.config.oms
        try:
            self._spawn(
                self.oms.cancel_all(
                    source, attempts=oms.cancel_all_attempts, retry_s=oms.cancel_all_retry_ms / 1000
                ),
                "cancel-all",
            )
        except RuntimeError:  # no running loop (a signal before start): nothing can be open yet
            log.warning("cancel-all skipped: the engine is not running", extra={"source": source})

    # ---- orders (control plane) ------------------------------------------------------------------

    def orders_doc(self, include_closed: bool) -> list[Any]:
        """Open orders (and, asked, every order this run knows) with exact text."""
        orders = self.oms.orders.values() if include_closed else self.oms.open_orders()
        return orders_doc(orders, self.oms.instruments)

    def positions_doc(self) -> dict[str, Any]:
        """Positions and PnL with exact text."""
        return portfolio_doc(self.portfolio.snapshot(), self.oms.instruments)

    def place_order(self, doc: dict[str, Any], actor: str) -> dict[str, Any]:
        """Place an operator's order through the full path (risk, OMS, gateway).

        Raises:
            OrderRequestError: the document is missing a field or is off the grid.
        """
        cmd = parse_order_request(doc, self.instruments, self.oms.new_id())
        order = self.oms.submit(cmd)
        log.info(
            "operator order",
            extra={"actor": actor, "client_order_id": cmd.client_order_id, "status": order.status},
        )
        return order_doc(order, self.oms.instruments[cmd.instrument])

    def cancel_order(self, client_order_id: str, actor: str) -> bool:
        """Cancel one order; False when it is unknown or already final."""
        log.info("operator cancel", extra={"actor": actor, "client_order_id": client_order_id})
        return self.oms.cancel(client_order_id, f"operator ({actor})")

    def reset(self, actor: str) -> bool:
        """Re-enable trading; ``actor`` has been authenticated by the caller.

        Returns:
            False when trading was not halted.
        """
        if not self.breaker.reset(actor):
            return False
        self.oms.record_control("reset", actor)
        self.risk.resume()
        self.limits_sync.publish_breaker(False, "", 0, actor)
        log.warning("trading re-enabled", extra={"actor": actor})
        self._announce(EventKind.RESUMED, 0)
        return True

    def risk_limits(self) -> RiskLimits:
        """The pre-trade limits in force."""
        return self.risk.limits

    def set_risk_limits(self, limits: RiskLimits, actor: str) -> None:
        """Validate and put new limits in force; invalid ones leave the old limits.

        Raises:
            LimitsError: naming the instrument, field and value that are wrong.
        """
        old = self.risk.limits
        self.risk.set_limits(limits)
        self.oms.record_control("limits", actor, msgspec.json.encode(limits).decode())
        self.limits_sync.publish(limits, actor)
        log.warning(
            "risk limits changed",
            extra={
                "actor": actor,
                "old": msgspec.json.encode(old).decode(),
                "new": msgspec.json.encode(limits).decode(),
            },
        )

    def _announce(self, kind: EventKind, aux: int) -> None:
        if self.publisher is None:
            return
        now = self.clock.time_ns()
        self.publisher.emit(pack(kind, engine_ts=now, aux=aux))
        self.publisher.publish_engine(self.engine_view(now))

    # ---- feed listener -------------------------------------------------------------------------

    def on_book(self, instrument: int, book: OrderBook, exch_ts: int, recv_ts: int) -> None:
        """A book changed and is live."""
        self._book_ts[instrument] = (exch_ts, recv_ts)
        self.wire.record(self.clock.time_ns() - recv_ts)
        if self._live_untold and instrument in self._live_untold:
            self._live_untold.discard(instrument)
            self.strategies.on_book_state(instrument, "live")
        self.strategies.on_book(instrument)
        self._rate_window_count += 1
        self._book_updates += 1
        self._dirty.add(instrument)

    def on_book_delta(self, delta: BookDelta) -> None:
        """A diff was applied to a live book (before :meth:`on_book` for the same diff)."""
        paper = self._paper
        if paper is not None:
            paper.on_delta(delta)
        if self.recorder is not None:
            self.recorder.book_delta(delta)

    def on_trade(self, trade: Trade) -> None:
        """Forward a public trade to the paper matching core and the UI tape."""
        paper = self._paper
        if paper is not None:
            paper.on_trade(trade)
        if self.recorder is not None:
            self.recorder.trade(trade)
        self.strategies.on_trade(trade)
        if self.publisher is None:
            return
        flag = Flag.BUY if trade.aggressor == Side.BUY else Flag.SELL
        self.publisher.emit(
            pack(
                EventKind.TRADE,
                flag,
                trade.instrument,
                trade.exch_ts,
                trade.recv_ts,
                self.clock.time_ns(),
                trade.price,
                trade.size,
                0,
                trade.trade_id,
            )
        )

    def on_link(self, state: LinkState) -> None:
        """The venue link changed state."""
        self.link = state
        if self.publisher is not None:
            self.publisher.emit(
                pack(EventKind.LINK_CHANGED, engine_ts=self.clock.time_ns(), aux=state)
            )

    def on_book_state(self, instrument: int, state: str, reason: ResyncReason | None) -> None:
        """A book started syncing, went live, or became invalid."""
        assert state in ("syncing", "live", "crossed", "stale")
        self.book_states[instrument] = state  # type: ignore[assignment]
        self._dirty.add(instrument)
        if state == "live":
            # strategies hear of it with the book's first update (next on_book), once its
            # receive time is known, so an order sent from the callback is not refused as stale
            self._live_untold.add(instrument)
        else:
            self._live_untold.discard(instrument)
            self.strategies.on_book_state(instrument, state)
        now = self.clock.time_ns()
        if state == "live" and self._paper is not None:
            bids, asks = self.books[instrument].levels()
            self._paper.on_snapshot(instrument, bids, asks)
        if state == "live" and self.recorder is not None:
            self.recorder.book_live(instrument, self.books[instrument], 0, now)
        if self.publisher is None:
            return
        if state == "live":
            seq = self.books[instrument].update_id
            self.publisher.emit(
                pack(EventKind.BOOK_LIVE, instrument=instrument, engine_ts=now, seq=seq)
            )
        elif reason is not None:
            self.publisher.emit(
                pack(EventKind.BOOK_RESYNC, instrument=instrument, engine_ts=now, aux=reason)
            )

    def on_malformed(self, stream: str, error: MalformedMessage) -> None:
        """A frame could not be parsed; the feed already logged it and resyncs if needed."""
        self.malformed += 1
        if self.publisher is not None:
            self.publisher.emit(
                pack(EventKind.MALFORMED, engine_ts=self.clock.time_ns(), aux=self.malformed)
            )

    # ---- views --------------------------------------------------------------------------------

    def _watch_venue_errors(self, now: int) -> None:
        """Trip the breaker when venue requests keep failing (``oms.max_venue_errors_per_minute``).

        The gateway counts every failed request (rate limits, unknown status, garbage, network);
        samples of that counter a minute apart give the recent rate.
        """
        gateway = self.gateway
        if gateway is None:
            return
        samples = self._error_samples
        errors = gateway.stats.errors
        if not samples or samples[-1][1] != errors or now - samples[-1][0] >= _NS:
            samples.append((now, errors))
        while len(samples) > 1 and samples[0][0] < now - 60 * _NS:
            samples.popleft()
        recent = samples[-1][1] - samples[0][1]
        limit = self.config.oms.max_venue_errors_per_minute
        if recent >= limit and not self.breaker.tripped:
            self.oms.alert(
                AlertLevel.CRITICAL,
                f"gateway:{gateway.venue}",
                f"{recent} failed venue requests within a minute (limit {limit})",
            )
            self.trip(f"repeated venue errors: {recent} failed requests to {gateway.venue} in 60 s")

    def _mark_books(self) -> None:
        """Mark positions to the mid of every changed book, then check the loss limits."""
        if not self._dirty:
            return
        for instrument in self._dirty:
            mid_x2 = self.books[instrument].mid_x2()
            if mid_x2 is not None and self.book_states[instrument] == "live":
                self.portfolio.mark(instrument, mid_x2)
        self.risk.on_pnl()
        self.oms.check_loss_limits()

    def _publish_books(self) -> None:
        assert self.publisher is not None
        while self._dirty:
            self.publisher.publish_book(self.book_view(self._dirty.pop()))

    def shown_state(self, instrument: int) -> BookState:
        """The book's state as shown anywhere: a live book that is crossed shows as crossed."""
        state = self.book_states[instrument]
        if state == "live" and self.books[instrument].is_crossed():
            return "crossed"
        return state

    def book_view(self, instrument: int) -> BookView:
        """The top of one book as the UI sees it."""
        inst = self.instruments[instrument]
        book = self.books[instrument]
        state = self.shown_state(instrument)
        depth = self.config.ipc.book_depth
        top = self._top
        n_bids, n_asks = book.top_arrays(depth, top)
        bids = list(zip(top[0, :n_bids].tolist(), top[1, :n_bids].tolist(), strict=True))
        asks = list(zip(top[2, :n_asks].tolist(), top[3, :n_asks].tolist(), strict=True))
        return BookView(
            instrument=instrument,
            symbol=inst.symbol,
            tick_size=inst.tick_size,
            lot_size=inst.lot_size,
            state=state,
            bids=bids,
            asks=asks,
            update_id=book.update_id,
            update_count=book.update_count,
            exch_ts=self._book_ts[instrument][0],
            recv_ts=self._book_ts[instrument][1],
        )

    def engine_view(self, now_ns: int) -> EngineView:
        """The engine's state as the UI sees it."""
        assert self.publisher is not None
        ev, cmd = self.publisher.events_stats(), self.publisher.commands_stats()
        stats = self.feed.stats if self.feed is not None else None
        return EngineView(
            instance=self.config.engine.instance,
            pid=os.getpid(),
            mode=self.config.engine.mode,
            trading="halted" if self.trading == "halted" else "running",
            halt_reason=self.halt_reason,
            halted_at_ns=self.halted_at_ns,
            started_ns=self.started_ns,
            heartbeat_ns=now_ns,
            venue=self.config.venue.name,
            link=self.link.name.lower(),
            updates_per_s=round(self._updates_per_s, 1),
            book_updates=self._book_updates,
            gaps=stats.gaps if stats else 0,
            resyncs=stats.resyncs if stats else 0,
            malformed=self.malformed,
            events_ring=RingView(
                depth=ev.depth, capacity=ev.capacity, peak=ev.peak, dropped=ev.dropped
            ),
            commands_ring=RingView(
                depth=cmd.depth, capacity=cmd.capacity, peak=cmd.peak, dropped=cmd.dropped
            ),
            control_url=self.control.url if self.control else "",
            wire_p50_us=round(self.wire.p50_ns / 1000, 1),
            wire_p99_us=round(self.wire.p99_ns / 1000, 1),
        )

    def trading_view(self) -> TradingView:
        """Orders, positions, PnL, alerts and the order link as the UI sees them."""
        gateway = self.gateway
        return trading_view(
            self.oms.open_orders(),
            self.oms.recent_closed,
            self.portfolio.snapshot(),
            self.oms.alerts,
            daily_loss_limit=self.risk.limits.daily_loss_limit,
            gateway=type(gateway).__name__ if gateway is not None else "",
            stats=gateway.stats if gateway is not None else None,
            link_healthy=gateway is not None and self.oms.link_healthy(gateway.venue),
            requests=self._ui_requests,
            owners=self.strategies.owner,
            queue=gateway.queue_ahead() if isinstance(gateway, PaperGateway) else None,
        )

    @property
    def book_updates(self) -> int:
        """Book diffs applied since start."""
        return self._book_updates

    def metrics(self) -> bytes:
        """The ``GET /metrics`` body (Prometheus text format), read from the engine's state."""
        return render(self._metrics)

    def status(self) -> dict[str, Any]:
        """The ``GET /status`` document: exact decimal text for every price and size."""
        return status_document(self)
