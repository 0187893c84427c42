"""Engine configuration: one frozen schema, layered defaults -> file -> environment.

``load_config(path)`` reads the embedded default (``config/default.toml``), deep-merges the file
given with ``--config`` over it, then applies environment overrides ``HFT__SECTION__KEY=value``
(double underscore for nesting, e.g. ``HFT__CONTROL__PORT=8181``). The merged document is decoded
into :class:`EngineConfig`; unknown keys are rejected and every error names the source, the key path
and what is wrong. Secrets are never values here: only the *names* of environment variables that
hold them (``token_env``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from engine.core.instruments import DecimalGrid, Instrument
from engine.errors import ConfigError, InstrumentError
from engine.risk.limits import Limits, LimitsError, RiskLimits, validate_limits

ENV_PREFIX = "HFT__"

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
MARKET_DATA_ONLY = frozenset({"okx", "kraken", "coinbase", "hyperliquid"})
"""Venues with a market-data feed and no order gateway: paper mode only."""
EnvName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
InstanceName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
DecimalText = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
"""Exact decimal text, e.g. ``"0.0001"`` or ``"-0.00005"``; never a float."""


class EngineSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Process-wide settings."""

    instance: InstanceName = "default"
    """Names this engine's shared-memory segments; ``hft-tui attach --instance`` finds it by it."""
    mode: Literal["live", "paper"] = "live"
    """``live`` sends orders to the venue; ``paper`` matches them in-process against the live
    book (queue position, latency, fees) through the same risk checks and OMS."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Lowest level written to the log."""
    state_dir: str = ""
    """Where state that must survive restarts lives (circuit breaker); empty:
    ``$XDG_STATE_HOME/hft-tui/<instance>`` or ``~/.local/state/hft-tui/<instance>``."""


class VenueSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where market data comes from."""

    name: Literal[
        "sim",
        "binance",
        "binance-usdm",
        "bybit-linear",
        "okx",
        "kraken",
        "coinbase",
        "hyperliquid",
    ] = "sim"
    """``sim`` starts the built-in local venue on loopback; ``binance`` is Binance spot;
    ``binance-usdm`` is Binance USD-M futures; ``bybit-linear`` is Bybit v5 linear (USDT
    perpetuals). ``okx``, ``kraken``, ``coinbase`` and ``hyperliquid`` are market data only
    (no order gateway): the engine runs them in ``paper`` mode."""
    ws_url: str = ""
    """WebSocket base URL; empty with ``sim`` means the local venue's own address."""
    rest_url: str = ""
    """REST base URL; empty with ``sim`` means the local venue's own address."""
    depth_limit: Annotated[int, msgspec.Meta(ge=5, le=5000)] = 1000
    """Levels per side requested in REST book snapshots."""
    ws_api_url: str = ""
    """WebSocket-API URL for order entry's user data stream (Binance ``.../ws-api/v3``; on
    ``binance-usdm`` the private stream base, ``wss://fstream.binance.com/private``); empty
    with ``sim`` means the local venue's own."""
    api_key_env: EnvName = "BINANCE_API_KEY"
    """Name of the environment variable holding the venue API key (never the key); needed for
    ``live`` mode on a real venue, never for ``sim`` or ``paper``."""
    api_secret_env: EnvName = "BINANCE_API_SECRET"  # noqa: S105 - a variable name, not a secret
    """Name of the environment variable holding the venue API secret (never the secret)."""
    recv_window_ms: Annotated[int, msgspec.Meta(ge=1, le=60_000)] = 5000
    """How long after its timestamp the venue may still accept a signed request."""
    max_reconnects_per_minute: Annotated[int, msgspec.Meta(ge=1, le=600)] = 12
    """Most market-data connection attempts in any minute, whatever the backoff says, so a
    flapping link cannot get the account or IP banned."""
    check_instruments: bool = True
    """At start, compare the instruments' tick, lot and min notional with the venue's own list
    (cached under the state dir) and raise a critical alert for any that differ (not ``sim``)."""


class InstrumentSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One instrument to trade and show."""

    venue: str
    """Venue name, matching ``venue.name``."""
    symbol: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9][A-Z0-9/-]{1,19}$")]
    """The venue's symbol, upper case."""
    tick_size: str = ""
    """Price step as exact decimal text; left out, it is the venue's own (resolved at start from
    the instrument cache or the venue's instrument endpoint, :mod:`engine.instrument_resolve`)."""
    lot_size: str = ""
    """Size step as exact decimal text; left out, the venue's own."""
    min_notional: str = ""
    """Smallest order value in quote currency, exact decimal text; left out, the venue's own
    when the grids come from the venue, else 0."""

    def __post_init__(self) -> None:
        for step, what in ((self.tick_size, "tick_size"), (self.lot_size, "lot_size")):
            if not step:
                continue
            try:
                DecimalGrid(step, what)
            except InstrumentError as exc:
                raise ValueError(str(exc)) from None

    @property
    def from_venue(self) -> bool:
        """True when the entry leaves its tick or lot to the venue's instrument list."""
        return not (self.tick_size and self.lot_size)


class SimSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The built-in local venue and its generative market model."""

    host: str = "127.0.0.1"
    """Address the local venue listens on; loopback only."""
    port: Port = 0
    """Port for the local venue; 0 picks a free one."""
    seed: int = 7
    """Seed of the market model: the same seed gives the same market."""
    mid_price: str = "65000.00"
    """Starting mid price of the market model."""
    depth_interval_ms: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100
    """Cadence of diff-depth events, as in ``@depth@100ms``."""
    events_per_second: Annotated[float, msgspec.Meta(gt=0, le=100_000)] = 400.0
    """Mean number of book events (limit, cancel, market order) per second."""
    api_key_env: EnvName = "HFT_SIM_API_KEY"
    """Name of the environment variable holding the API key the local venue accepts (never the
    key); unset, the venue has no trading account and refuses signed requests."""
    api_secret_env: EnvName = "HFT_SIM_API_SECRET"  # noqa: S105 - a variable name, not a secret
    """Name of the environment variable holding that key's HMAC secret (never the secret)."""
    balances: dict[str, DecimalText] = msgspec.field(
        default_factory=lambda: {"USDT": "1000000", "BTC": "10"}
    )
    """Starting balance of the account per asset, exact decimal text (``[sim.balances]``)."""
    maker_commission: DecimalText = "0.001"
    """Commission rate on resting fills (negative for a rebate), charged in the asset received."""
    taker_commission: DecimalText = "0.001"
    """Commission rate on aggressive fills."""
    orders_per_10s: PositiveInt = 100
    """Unfilled-order limit per 10 seconds (``ORDERS`` in exchangeInfo, -1015 beyond it)."""
    orders_per_day: PositiveInt = 200_000
    """Unfilled-order limit per UTC day."""

    def __post_init__(self) -> None:
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the local venue listens on loopback only, not {self.host!r}")


class IpcSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Shared memory between the engine and its UIs."""

    event_ring_bytes: Annotated[int, msgspec.Meta(ge=4096, le=1 << 30)] = 1 << 20
    """Size of the engine->UI event ring; it drops (and counts) when a UI falls behind."""
    command_ring_bytes: Annotated[int, msgspec.Meta(ge=4096, le=1 << 26)] = 1 << 16
    """Size of the lossless UI->engine command ring."""
    heartbeat_interval_ms: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 100
    """How often the engine stamps its heartbeat."""
    book_depth: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    """Levels per side published to the book state page."""


class ControlSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The HTTP control plane."""

    host: str = "127.0.0.1"
    """Listen address; keep it on loopback unless a proxy with TLS sits in front."""
    port: Port = 8080
    """Listen port; 0 picks a free one."""
    token_env: EnvName = "HFT_CONTROL_TOKEN"  # noqa: S105 - a variable name, not a secret
    """Name of the environment variable holding the control-plane token (never the token)."""


class RedisSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where live limits, parameters and circuit-breaker state are shared (optional)."""

    url: Annotated[str, msgspec.Meta(pattern=r"^(|rediss?://[^\s]+)$")] = ""
    """``redis://host:port/db``; empty keeps them in a local file instead. No password here: a
    password comes from the environment variable named by ``password_env``."""
    password_env: EnvName = "HFT_REDIS_PASSWORD"  # noqa: S105 - a variable name, not a secret
    """Name of the environment variable holding the Redis password, if the server needs one."""


class UiSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The terminal UI."""

    refresh_hz: Annotated[float, msgspec.Meta(ge=1, le=60)] = 20.0
    """Most screen refreshes per second; the UI skips to the latest state in between."""


class OmsSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Order management: the journal, reconciliation and cancel-all on a trip."""

    journal_fsync: Literal["always", "batch", "never"] = "batch"
    """When journal records reach the disk: every record, every ``journal_batch_ms``, or never
    forced (survives a process crash, not a power cut)."""
    journal_batch_ms: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 50
    """Longest time between journal fsyncs under ``batch``."""
    reconcile_max_position_diff: DecimalText = "0"
    """Largest difference between the venue's position and ours, in base currency, that
    reconciliation corrects quietly; a larger one trips the circuit breaker."""
    cancel_all_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    """Rounds of cancel-all plus verification on a trip before raising a critical alert."""
    cancel_all_retry_ms: Annotated[int, msgspec.Meta(ge=1, le=60_000)] = 200
    """Pause between those rounds."""
    max_venue_errors_per_minute: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 30
    """Failed venue requests (rate limits, unknown status, garbage, network) within a minute that
    trip the circuit breaker as "repeated venue errors"; rejects of single orders do not count."""
    keep_finished_orders: Annotated[int, msgspec.Meta(ge=100, le=10_000_000)] = 10_000
    """Finished orders kept in memory for late reports and ``/orders?all=1``; the journal keeps
    every order."""


class PaperSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The in-process matching used by ``mode = "paper"``."""

    maker_fee: DecimalText = "0.0001"
    """Fee rate on resting fills (negative for a rebate)."""
    taker_fee: DecimalText = "0.0002"
    """Fee rate on aggressive fills."""
    queue_model: Literal["conservative", "power"] = "conservative"
    """How our resting orders move up their queue: ``conservative`` assumes cancels come from
    behind us; ``power`` shares them between ahead and behind (power-law, ``queue_power``)."""
    queue_power: Annotated[float, msgspec.Meta(gt=0, le=10)] = 2.0
    """The exponent of the ``power`` queue model."""
    entry_latency_us: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 500
    """Time from our order leaving to it reaching the simulated matching engine."""
    response_latency_us: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 500
    """Time from the matching engine's answer to it reaching us."""


class RecorderSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Market-data capture into the Parquet catalog while the engine runs."""

    enabled: bool = False
    """Record the feed's raw frames, book deltas, snapshots and trades."""
    root: str = ""
    """The catalog folder; empty: ``data/catalog`` under the state folder."""
    queue_size: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 100_000
    """Entries queued for the writer thread; when full the oldest are dropped (and counted)."""
    roll: Annotated[
        str, msgspec.Meta(pattern=r"^(1h|60m|30m|20m|15m|12m|10m|6m|5m|4m|3m|2m|1m)$")
    ] = "1h"
    """How long one file covers; a whole fraction of an hour."""


REFERENCE_KINDS = (
    "market_maker",
    "imbalance",
    "cross_venue",
    "twap",
    "vwap",
    "ma_cross",
    "rsi_revert",
    "grid",
)
"""The reference strategies of ``engine.strategy`` a ``kind`` can name."""


class StrategyPathsSection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Where user strategies are loaded from: ``[strategy]``."""

    paths: list[str] = msgspec.field(default_factory=list)
    """Directories of strategy source files; only files in these load (``~`` is expanded)."""


class StrategySection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One strategy to run: ``[strategies.<name>]``."""

    kind: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+$|^[A-Za-z_]\w*:[A-Za-z_]\w*$")] = (
        "market_maker"
    )
    """A reference strategy (one of ``REFERENCE_KINDS``), or ``file:Class``: the class ``Class``
    in ``file.py`` of one of the ``[strategy] paths`` directories."""
    symbol: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9][A-Z0-9/-]{1,19}$")]
    """The instrument it trades, one of ``[[instruments]]``."""
    params: dict[str, str | int | float | bool] = msgspec.field(default_factory=dict)
    """Its parameters, checked against the strategy's own ranges before it starts."""
    enabled: bool = True
    """False keeps it configured but not started."""


class EngineConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The whole configuration of one engine instance."""

    engine: EngineSection = msgspec.field(default_factory=EngineSection)
    venue: VenueSection = msgspec.field(default_factory=VenueSection)
    instruments: list[InstrumentSection] = msgspec.field(default_factory=list)
    sim: SimSection = msgspec.field(default_factory=SimSection)
    ipc: IpcSection = msgspec.field(default_factory=IpcSection)
    control: ControlSection = msgspec.field(default_factory=ControlSection)
    redis: RedisSection = msgspec.field(default_factory=RedisSection)
    risk: RiskLimits = msgspec.field(default_factory=RiskLimits)
    """Pre-trade risk limits: ``[risk.defaults]``, ``[risk.per_instrument."venue:SYMBOL"]`` and the
    account-wide loss limits; validated against the instruments before anything starts."""
    ui: UiSection = msgspec.field(default_factory=UiSection)
    oms: OmsSection = msgspec.field(default_factory=OmsSection)
    strategies: dict[str, StrategySection] = msgspec.field(default_factory=dict)
    """Strategies by name; they trade through the same risk checks and OMS as every order."""
    strategy: StrategyPathsSection = msgspec.field(default_factory=StrategyPathsSection)
    """Directories user strategies (``kind = "file:Class"``) are loaded from."""
    paper: PaperSection = msgspec.field(default_factory=PaperSection)
    recorder: RecorderSection = msgspec.field(default_factory=RecorderSection)

    def __post_init__(self) -> None:
        if not self.instruments:
            raise ValueError("at least one [[instruments]] entry is required")
        unresolved = [i.symbol for i in self.instruments if i.from_venue]
        if unresolved and self.venue.name == "sim":
            raise ValueError(
                f"instrument {unresolved[0]} on venue 'sim' needs tick_size and lot_size "
                "(the local venue has no instrument list) - at `$.instruments`"
            )
        if not unresolved:  # else checked once the venue's grids are filled in
            self._check_limits()
        symbols = {i.symbol for i in self.instruments}
        for name, strategy in self.strategies.items():
            if ":" in strategy.kind and not self.strategy.paths:
                raise ValueError(
                    f"strategy {name!r} is a user strategy ({strategy.kind}) but [strategy] "
                    f"paths names no directory - at `$.strategies.{name}.kind`"
                )
            if ":" not in strategy.kind and strategy.kind not in REFERENCE_KINDS:
                raise ValueError(
                    f"strategy {name!r}: no reference strategy {strategy.kind!r}; one of "
                    f"{', '.join(REFERENCE_KINDS)} or file:Class - at `$.strategies.{name}.kind`"
                )
            if strategy.symbol not in symbols:
                raise ValueError(
                    f"strategy {name!r} trades {strategy.symbol}, which is not an instrument"
                    f" - at `$.strategies.{name}.symbol`"
                )
        if self.venue.name in MARKET_DATA_ONLY and self.engine.mode != "paper":
            raise ValueError(
                f"venue {self.venue.name!r} has market data only (no order gateway); "
                'set engine.mode = "paper" - at `$.engine.mode`'
            )
        for inst in self.instruments:
            if inst.venue != self.venue.name:
                raise ValueError(
                    f"instrument {inst.symbol} is on venue {inst.venue!r}, "
                    f"but venue.name is {self.venue.name!r}"
                )

    def _check_limits(self) -> None:
        try:
            validate_limits(self.risk, self.instrument_list())
        except LimitsError as exc:
            if exc.where in self.risk.per_instrument:
                path = f"$.risk.per_instrument.{exc.where}.{exc.field}"
            elif exc.field in Limits.__struct_fields__:
                path = f"$.risk.defaults.{exc.field}"
            else:
                path = f"$.risk.{exc.field}"
            raise ValueError(f"{exc} - at `{path}`") from None

    def state_dir(self) -> Path:
        """The instance's state folder, resolved."""
        if self.engine.state_dir:
            return Path(self.engine.state_dir).expanduser()
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(base) / "hft-tui" / self.engine.instance

    def instrument_list(self) -> list[Instrument]:
        """The configured instruments with dense ids in config order.

        Raises:
            InstrumentError: an entry still leaves its grids to the venue (resolve them first
                with :func:`engine.instrument_resolve.resolve_instruments`).
        """
        pending = [i.symbol for i in self.instruments if i.from_venue]
        if pending:
            raise InstrumentError(
                f"{self.venue.name} instrument {pending[0]}: tick_size and lot_size not resolved "
                "from the venue yet"
            )
        return [
            Instrument(
                venue=i.venue,
                symbol=i.symbol,
                tick_size=i.tick_size,
                lot_size=i.lot_size,
                min_notional=i.min_notional or "0",
                instrument_id=n,
            )
            for n, i in enumerate(self.instruments)
        ]


def default_config_path() -> Path:
    """Where the embedded default lives: the repository's ``config/`` or the installed package."""
    repo = Path(__file__).resolve().parents[2] / "config" / "default.toml"
    if repo.is_file():
        return repo
    return Path(__file__).with_name("default.toml")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read config file: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"invalid TOML: {exc}") from None


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Nested overrides from ``HFT__A__B=value`` and, per dotted key, the variable that set it."""
    tree: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            raise ConfigError(name, "empty key segment in environment override")
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(name, f"{part!r} is set both as a value and as a section")
            node = child
        node[parts[-1]] = value
        origin["$." + ".".join(parts)] = name
    return tree, origin


_PATH_RE = re.compile(r"at `(\$[^`]*)`")
_UNKNOWN_RE = re.compile(r"unknown field `([^`]*)`")


def _line_of(path: Path, key_path: str) -> int | None:
    """Best-effort line number of the last key of ``key_path`` in a TOML file."""
    key = re.split(r"[.\[]", key_path)[-1].rstrip("]")
    if not key or key.isdigit():
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=|^\s*\[+{re.escape(key)}\]+\s*$")
    for n, line in enumerate(lines, 1):
        if pattern.search(line):
            return n
    return None


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> EngineConfig:
    """Load the layered configuration.

    Args:
        path: a TOML file laid over the embedded default, or None for the default alone.
        environ: the environment to read ``HFT__`` overrides from; ``os.environ`` when None.

    Returns:
        The validated, frozen configuration.

    Raises:
        ConfigError: naming the file or environment variable, the key path and the problem.
    """
    default_path = default_config_path()
    doc = _read_toml(default_path)
    user_path = Path(path) if path is not None else None
    if user_path is not None:
        user = _read_toml(user_path)
        if "instruments" in user:
            doc.pop("instruments", None)  # a file that lists instruments replaces the list
        doc = _merge(doc, user)
    env = os.environ if environ is None else environ
    env_tree, env_origin = _env_overrides(env)
    doc = _merge(doc, env_tree)
    try:
        config = msgspec.convert(doc, type=EngineConfig, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH_RE.search(message)
        key_path = match.group(1) if match else None
        unknown = _UNKNOWN_RE.search(message)
        if key_path is not None and unknown is not None:
            key_path = f"{key_path}.{unknown.group(1)}"
        if key_path is not None and key_path in env_origin:
            raise ConfigError(env_origin[key_path], message, key_path) from None
        source = str(user_path or default_path)
        if user_path is not None and key_path is not None:
            line = _line_of(user_path, key_path)
            if line is not None:
                source = f"{user_path}:{line}"
        # A whole section refused (its own check failed): name the overrides that went into it.
        inside = [v for k, v in env_origin.items() if key_path and k.startswith(key_path + ".")]
        if inside:
            source = f"{source} with {', '.join(inside)}"
        raise ConfigError(source, message, key_path) from None
    check_venue_keys(config, env)
    return config


def check_venue_keys(config: EngineConfig, environ: Mapping[str, str]) -> None:
    """Live trading on a real venue needs its API key and secret in the environment.

    Only the variables' presence is checked here (their values are read by the gateway and
    never stored in the config). ``sim`` and ``paper`` need none.

    Raises:
        ConfigError: naming the unset variable and the key that names it.
    """
    venue = config.venue
    if config.engine.mode != "live" or venue.name == "sim":
        return
    for key, name in (("api_key_env", venue.api_key_env), ("api_secret_env", venue.api_secret_env)):
        if not environ.get(name):
            raise ConfigError(
                name,
                f"is unset: live trading on {venue.name} needs the API "
                f"{'key' if key == 'api_key_env' else 'secret'} in ${name} "
                f'(named by venue.{key}); use mode = "paper" or the sim venue to run without',
                f"$.venue.{key}",
            )
