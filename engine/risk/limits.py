"""Risk limits: the exact-decimal schema, its validation, and the integer form the checks use.

Limits are written as exact decimal text in base currency (sizes, positions) or quote currency
(notionals, losses) and as integers (counts, rates, basis points, durations). :func:`compile_limits`
validates them and converts them once per instrument into integers in the units the hot path
compares: lots, and *half tick*lots* for notionals (``2 * price_ticks * size_lots``, so a market
order valued at ``mid_x2 * size_lots`` needs no division). Account-wide loss limits become
integer units of 10**-8 quote currency, the fee unit.

Conversions round towards the safe side: a size or notional maximum rounds down to whole units,
a minimum notional rounds up. A limit that would let no order through (less than one lot) is
refused.

Boundaries (every check is tested at, below and above its limit):

- maximum order size, notional, position, open orders, order rates, price band and data age are
  inclusive: a value *equal* to the limit passes, one unit more rejects;
- the minimum notional is inclusive: an order worth exactly the minimum passes;
- drawdown rejects when the drop from the window's peak *exceeds* the limit (equal passes);
- daily loss rejects when today's PnL is *at or below* minus the limit (equal rejects).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, InvalidOperation, localcontext

import msgspec

from engine.core.instruments import Instrument
from engine.errors import EngineError

PNL_UNIT = Decimal("1E-8")
"""Quote currency per integer PnL unit in the loss checks (the fee unit)."""

_WIDE = Context(prec=100)


class LimitsError(EngineError, ValueError):
    """A limit is out of its sane range; nothing changed. ``field`` names it, ``value`` is it."""

    def __init__(self, where: str, field: str, value: object, problem: str) -> None:
        self.where = where
        self.field = field
        self.value = value
        super().__init__(f"risk limits {where}.{field} = {value!r}: {problem}")


class Limits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Per-instrument pre-trade limits; decimal text is exact, in base or quote currency."""

    max_order_size: str = "1"
    """Largest limit order, base currency."""
    max_order_notional: str = "50000"
    """Largest limit order value (price * size), quote currency."""
    max_market_order_size: str = "0.1"
    """Largest market order, base currency; at most ``max_order_size``."""
    max_market_order_notional: str = "5000"
    """Largest market order value at the touch, quote currency; at most ``max_order_notional``."""
    max_position: str = "5"
    """Largest absolute position if every pending order on one side filled, base currency."""
    max_open_orders: int = 50
    """Most orders working at once on the instrument, counting the new one."""
    max_orders_per_second: int = 20
    """Most orders sent in any sliding second, counting the new one."""
    max_orders_per_minute: int = 600
    """Most orders sent in any sliding minute, counting the new one; at least the per-second one."""
    price_band_bps: int = 500
    """Furthest a limit price may sit from mid, in basis points of mid (fat-finger guard)."""
    post_only_band_bps: int = 200
    """The same for post-only orders; at most ``price_band_bps``."""
    max_data_age_ms: int = 5000
    """Oldest market data an order may be priced against, in milliseconds."""


class RiskLimits(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every limit: instrument defaults, per-instrument replacements, and account loss limits."""

    defaults: Limits = msgspec.field(default_factory=Limits)
    """Limits of every instrument not named in ``per_instrument``."""
    per_instrument: dict[str, Limits] = msgspec.field(default_factory=dict)
    """``venue:symbol`` -> its whole set of limits (replaces the defaults, no merging)."""
    max_drawdown: str = "1000"
    """Largest drop of net PnL from its peak within the window, quote currency."""
    drawdown_window_s: int = 3600
    """The rolling window the drawdown peak is taken over, in seconds."""
    daily_loss_limit: str = "2000"
    """Loss since 00:00 UTC at which trading stops, quote currency."""

    def for_instrument(self, key: str) -> Limits:
        """The limits of instrument ``key`` (``venue:symbol``)."""
        return self.per_instrument.get(key, self.defaults)


class InstrumentLimits(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument's limits as integers in the units the checks compare."""

    key: str
    """``venue:symbol``, for messages."""
    notional_unit: Decimal
    """Quote currency per half tick*lot, to print notionals in rejection messages."""
    lot_size: Decimal
    """Base currency per lot, to print sizes in rejection messages."""
    max_lots: int
    max_market_lots: int
    max_notional_x2: int
    """In half tick*lots: ``2 * price_ticks * size_lots`` may not exceed it."""
    max_market_notional_x2: int
    min_notional_x2: int
    """The instrument's minimum order value in half tick*lots, rounded up."""
    max_position_lots: int
    max_open_orders: int
    max_orders_per_second: int
    max_orders_per_minute: int
    price_band_bps: int
    post_only_band_bps: int
    max_data_age_ns: int
    max_drawdown: int
    """Account-wide, in :data:`PNL_UNIT`; copied here so every check reads one limits record."""
    daily_loss_limit: int
    """Account-wide, in :data:`PNL_UNIT`."""


class AccountLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Account-wide loss limits as integers of :data:`PNL_UNIT`."""

    max_drawdown: int
    drawdown_window_ns: int
    daily_loss_limit: int


class CompiledLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What :func:`compile_limits` returns: the source, per-instrument integers, the account."""

    source: RiskLimits
    instruments: dict[int, InstrumentLimits]
    """Dense instrument id -> its integer limits."""
    account: AccountLimits


def _decimal(where: str, field: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise LimitsError(where, field, text, "not a decimal number") from None
    if not value.is_finite():
        raise LimitsError(where, field, text, "not a finite number")
    if value <= 0:
        raise LimitsError(where, field, text, "must be positive")
    return value


def _integer(where: str, field: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise LimitsError(where, field, value, f"must be between {low} and {high}")
    return value


def _units(value: Decimal, unit: Decimal, rounding: str) -> int:
    with localcontext(_WIDE):
        return int((value / unit).to_integral_value(rounding=rounding))


def _at_most(where: str, field: str, value: object, other: str, ok: bool) -> None:
    if not ok:
        raise LimitsError(where, field, value, f"must not exceed {other}")


def compile_instrument(
    limits: Limits, instrument: Instrument, account: AccountLimits
) -> InstrumentLimits:
    """Validate one instrument's limits and convert them to integer units.

    Raises:
        LimitsError: a size is not a positive decimal or is less than one lot, a notional is not
            positive or is less than the instrument's minimum, a count is out of range, or a
            market-order or post-only limit is looser than its ordinary counterpart.
    """
    where = instrument.key
    lot = instrument.size_grid().step
    unit_x2 = instrument.price_grid().step * lot / 2
    min_notional = Decimal(instrument.min_notional)
    sizes: dict[str, int] = {}
    for field in ("max_order_size", "max_market_order_size", "max_position"):
        text = getattr(limits, field)
        lots = _units(_decimal(where, field, text), lot, ROUND_FLOOR)
        if lots < 1:
            raise LimitsError(where, field, text, f"is less than one lot ({lot})")
        sizes[field] = lots
    notionals: dict[str, int] = {}
    for field in ("max_order_notional", "max_market_order_notional"):
        text = getattr(limits, field)
        value = _decimal(where, field, text)
        if value < min_notional:
            raise LimitsError(where, field, text, f"is below the minimum notional {min_notional}")
        notionals[field] = _units(value, unit_x2, ROUND_FLOOR)
    _at_most(
        where,
        "max_market_order_size",
        limits.max_market_order_size,
        "max_order_size",
        sizes["max_market_order_size"] <= sizes["max_order_size"],
    )
    _at_most(
        where,
        "max_market_order_notional",
        limits.max_market_order_notional,
        "max_order_notional",
        notionals["max_market_order_notional"] <= notionals["max_order_notional"],
    )
    _integer(where, "max_open_orders", limits.max_open_orders, 1, 100_000)
    _integer(where, "max_orders_per_second", limits.max_orders_per_second, 1, 1_000_000)
    _integer(where, "max_orders_per_minute", limits.max_orders_per_minute, 1, 60_000_000)
    _at_most(
        where,
        "max_orders_per_second",
        limits.max_orders_per_second,
        "max_orders_per_minute",
        limits.max_orders_per_second <= limits.max_orders_per_minute,
    )
    _integer(where, "price_band_bps", limits.price_band_bps, 1, 5_000)
    _integer(where, "post_only_band_bps", limits.post_only_band_bps, 1, 5_000)
    _at_most(
        where,
        "post_only_band_bps",
        limits.post_only_band_bps,
        "price_band_bps",
        limits.post_only_band_bps <= limits.price_band_bps,
    )
    _integer(where, "max_data_age_ms", limits.max_data_age_ms, 1, 600_000)
    return InstrumentLimits(
        key=where,
        notional_unit=unit_x2,
        lot_size=lot,
        max_lots=sizes["max_order_size"],
        max_market_lots=sizes["max_market_order_size"],
        max_notional_x2=notionals["max_order_notional"],
        max_market_notional_x2=notionals["max_market_order_notional"],
        min_notional_x2=_units(min_notional, unit_x2, ROUND_CEILING),
        max_position_lots=sizes["max_position"],
        max_open_orders=limits.max_open_orders,
        max_orders_per_second=limits.max_orders_per_second,
        max_orders_per_minute=limits.max_orders_per_minute,
        price_band_bps=limits.price_band_bps,
        post_only_band_bps=limits.post_only_band_bps,
        max_data_age_ns=limits.max_data_age_ms * 1_000_000,
        max_drawdown=account.max_drawdown,
        daily_loss_limit=account.daily_loss_limit,
    )


def _pnl_units(field: str, text: str) -> int:
    value = _decimal("account", field, text)
    with localcontext(_WIDE):
        units = value / PNL_UNIT
    if units != units.to_integral_value():
        raise LimitsError("account", field, text, f"has more decimals than {PNL_UNIT}")
    return int(units)


def compile_limits(limits: RiskLimits, instruments: Iterable[Instrument]) -> CompiledLimits:
    """Validate every limit and convert it to integers; the input is not taken unless all pass.

    Args:
        limits: the limits as configured or edited live.
        instruments: every tradable instrument; each gets its own or the default limits.

    Raises:
        LimitsError: naming the instrument (or ``account``), the field and the bad value; a
            ``per_instrument`` key that is no known instrument is refused too.
    """
    by_key: Mapping[str, Instrument] = {i.key: i for i in instruments}
    for key in limits.per_instrument:
        if key not in by_key:
            raise LimitsError(key, "per_instrument", key, "no such instrument")
    account = AccountLimits(
        max_drawdown=_pnl_units("max_drawdown", limits.max_drawdown),
        drawdown_window_ns=_integer(
            "account", "drawdown_window_s", limits.drawdown_window_s, 1, 7 * 86_400
        )
        * 1_000_000_000,
        daily_loss_limit=_pnl_units("daily_loss_limit", limits.daily_loss_limit),
    )
    compiled = {
        inst.instrument_id: compile_instrument(limits.for_instrument(key), inst, account)
        for key, inst in by_key.items()
    }
    return CompiledLimits(source=limits, instruments=compiled, account=account)


def validate_limits(limits: RiskLimits, instruments: Iterable[Instrument]) -> None:
    """Check every limit without keeping the result.

    Raises:
        LimitsError: as :func:`compile_limits`.
    """
    compile_limits(limits, instruments)
