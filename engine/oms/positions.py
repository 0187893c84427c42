"""Positions and PnL from fills: net size, entry, realised and unrealised PnL, fees, daily PnL.

Everything is exact. A position keeps its open lots first in, first out, so the cost basis is an
integer notional in tick*lot units (``price_ticks * size_lots`` summed, signed like the position)
and realised PnL is an integer in the same units. The average entry is ``cost / net`` as a
:class:`~fractions.Fraction` of a tick. Marks are ``mid_x2`` (best bid + best ask in ticks), so
unrealised PnL is a multiple of half a tick*lot. Quote-currency figures are
:class:`~decimal.Decimal` values computed without rounding: ``value * tick_size * lot_size``
and ``fee_units * 10**-8``.

Signs: realised and unrealised are trading PnL before fees; ``fees`` is what we paid (negative for
net rebates); ``net = realised + unrealised - fees``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, localcontext
from fractions import Fraction

import msgspec

from engine.core.clock import Clock
from engine.core.events import Fill, Side
from engine.core.instruments import Instrument
from engine.errors import EngineError

DAY_NS = 86_400 * 10**9
"""One UTC day in nanoseconds; days start at 00:00 UTC (epoch time is UTC, with no leap seconds)."""

_EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, Overflow])
_FEE_UNIT = Decimal("1E-8")


class InvalidFill(EngineError, ValueError):
    """A fill that cannot belong to the position or portfolio it was given to."""


def to_quote(value: Fraction | int, unit: Decimal) -> Decimal:
    """An exact tick*lot amount (int or Fraction with a terminating decimal) in quote currency.

    Raises:
        decimal.Inexact: when ``value`` has no exact decimal form (never for PnL from this module).
    """
    if isinstance(value, int):  # the same Decimal as over a denominator of 1, without the Fraction
        with localcontext(_EXACT):
            return Decimal(value) * unit
    frac = Fraction(value)
    with localcontext(_EXACT):
        return Decimal(frac.numerator) * unit / Decimal(frac.denominator)


def fees_to_quote(fee_units: int) -> Decimal:
    """Fee units (10**-8 of the quote currency) as an exact quote-currency Decimal."""
    with localcontext(_EXACT):
        return Decimal(fee_units) * _FEE_UNIT


class Position:
    """One instrument's position, built from fills (first in, first out).

    Args:
        instrument: the instrument; its tick and lot sizes convert PnL to quote currency.
    """

    __slots__ = ("_lots", "_seen", "cost", "fees", "instrument", "net", "realised", "unit")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.unit: Decimal = instrument.price_grid().step * instrument.size_grid().step
        """Quote currency per tick*lot."""
        self.net = 0
        """Net size in lots: positive long, negative short."""
        self.cost = 0
        """Cost basis of the open lots in tick*lot units, signed like ``net``."""
        self.realised = 0
        """Realised trading PnL in tick*lot units, before fees."""
        self.fees = 0
        """Fees paid in fee units (10**-8 quote); negative for net rebates."""
        self._lots: deque[list[int]] = (
            deque()
        )  # open lots as [price_ticks, size_lots], oldest first
        self._seen: set[tuple[str, str]] = set()

    @property
    def avg_entry(self) -> Fraction | None:
        """Average entry price of the open lots in ticks, or None when flat."""
        return Fraction(self.cost, self.net) if self.net else None

    def apply(self, fill: Fill) -> bool:
        """Book one fill; returns False (and changes nothing) when it was already booked.

        A fill against the position closes the oldest lots first; any remainder past zero opens
        a new position at the fill price.

        Raises:
            InvalidFill: when the fill is for another instrument or its size is not positive.
        """
        if fill.instrument != self.instrument.instrument_id:
            raise InvalidFill(
                f"{self.instrument.key}: fill {fill.venue}/{fill.trade_id} is for instrument "
                f"{fill.instrument}, not {self.instrument.instrument_id}"
            )
        if fill.size <= 0:
            raise InvalidFill(f"{self.instrument.key}: fill {fill.trade_id} has size {fill.size}")
        key = (fill.venue, fill.trade_id)
        if key in self._seen:
            return False
        self._seen.add(key)
        self.fees += fill.fee
        sign = 1 if fill.side == Side.BUY else -1
        remaining = fill.size
        lots = self._lots
        while remaining and self.net * sign < 0:
            lot = lots[0]
            take = min(remaining, lot[1])
            # closing a long (sign -1) earns price - entry; closing a short earns entry - price
            self.realised += take * (lot[0] - fill.price) * sign
            self.cost += take * lot[0] * sign
            self.net += take * sign
            remaining -= take
            lot[1] -= take
            if not lot[1]:
                lots.popleft()
        if remaining:
            lots.append([fill.price, remaining])
            self.cost += remaining * fill.price * sign
            self.net += remaining * sign
        return True

    def unrealised(self, mid_x2: int) -> Fraction:
        """Unrealised PnL in tick*lot units, marked to mid (``mid_x2`` = bid + ask in ticks)."""
        return Fraction(self.net * mid_x2 - 2 * self.cost, 2)

    def worst_case(self, pending_buys_lots: int, pending_sells_lots: int) -> tuple[int, int]:
        """The position if every pending buy filled, and if every pending sell filled, in lots."""
        return self.net + pending_buys_lots, self.net - pending_sells_lots

    def realised_quote(self) -> Decimal:
        """Realised trading PnL in quote currency, before fees."""
        return to_quote(self.realised, self.unit)

    def unrealised_quote(self, mid_x2: int) -> Decimal:
        """Unrealised PnL in quote currency, marked to mid."""
        return to_quote(self.unrealised(mid_x2), self.unit)

    def fees_quote(self) -> Decimal:
        """Fees paid in quote currency (negative for net rebates)."""
        return fees_to_quote(self.fees)


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    """One position for the UI and the journal; exact figures plus quote-currency Decimals."""

    instrument: int
    """Dense instrument id."""
    key: str
    """``venue:symbol``."""
    net_lots: int
    cost: int
    """Cost basis in tick*lot units, signed like ``net_lots`` (entry: ``cost / net_lots``)."""
    avg_entry: Decimal | None
    """Average entry price in quote currency for display, rounded to 12 significant digits."""
    realised: Decimal
    unrealised: Decimal
    """Zero when the instrument has no mark yet."""
    fees: Decimal
    mid_x2: int | None
    """The mark used (bid + ask ticks), or None when none is known."""


class PnlTotals(msgspec.Struct, frozen=True, kw_only=True):
    """Portfolio PnL in quote currency, summed over every position."""

    realised: Decimal
    unrealised: Decimal
    """Positions without a mark count zero."""
    fees: Decimal
    net: Decimal
    """``realised + unrealised - fees``."""


class PortfolioView(msgspec.Struct, frozen=True, kw_only=True):
    """Every position and the portfolio totals in quote currency, at one instant."""

    ts_ns: int
    positions: tuple[PositionView, ...]
    realised: Decimal
    unrealised: Decimal
    fees: Decimal
    net: Decimal
    """``realised + unrealised - fees``."""
    daily: Decimal
    """Net PnL since 00:00 UTC; see :meth:`Portfolio.daily_pnl`."""


class Portfolio:
    """Positions over many instruments with marks, totals and a daily PnL that rolls at 00:00 UTC.

    Args:
        instruments: every instrument that can trade; fills for others raise :class:`InvalidFill`.
        clock: the wall clock that decides the trading day.
    """

    def __init__(self, instruments: Iterable[Instrument], clock: Clock) -> None:
        self._clock = clock
        self._positions = {i.instrument_id: Position(i) for i in instruments}
        self._marks: dict[int, int] = {}
        self._seen: set[tuple[str, str]] = set()
        self._day = clock.time_ns() // DAY_NS
        self._day_start_net = Decimal(0)
        self._last: tuple[list[tuple[int, int, int, int, int | None]], PnlTotals] | None = None
        """The last totals and the positions and marks they were made from."""

    def position(self, instrument_id: int) -> Position:
        """The position of one instrument.

        Raises:
            InvalidFill: when the instrument is not in this portfolio.
        """
        try:
            return self._positions[instrument_id]
        except KeyError:
            raise InvalidFill(f"instrument {instrument_id} is not in the portfolio") from None

    def apply(self, fill: Fill) -> bool:
        """Book a fill; returns False when ``(venue, trade_id)`` was already booked anywhere.

        Raises:
            InvalidFill: for an instrument not in the portfolio or a size that is not positive.
        """
        self._roll()
        key = (fill.venue, fill.trade_id)
        if key in self._seen:
            return False
        booked = self.position(fill.instrument).apply(fill)
        self._seen.add(key)
        return booked

    def mark(self, instrument_id: int, mid_x2: int) -> None:
        """Set an instrument's mark: best bid + best ask in ticks.

        Raises:
            InvalidFill: when the instrument is not in this portfolio.
        """
        self._roll()
        self.position(instrument_id)
        self._marks[instrument_id] = mid_x2

    def totals(self) -> PnlTotals:
        """Realised, unrealised, fees and net PnL in quote currency over every position."""
        self._roll()
        return self._totals()

    def daily_pnl(self) -> Decimal:
        """Net PnL since 00:00 UTC today, in quote currency.

        It is the change in ``net`` (realised + unrealised - fees) since the day started, with
        the day-start value taken from the marks known when the day rolled. So it counts today's
        fees, today's realised PnL and the mark-to-market move of everything held today, and an
        instrument without a mark counts at its entry cost (unrealised zero).
        """
        self._roll()
        return self._totals().net - self._day_start_net

    def snapshot(self) -> PortfolioView:
        """Every position and the totals as frozen Structs for the UI and the journal."""
        self._roll()
        views = tuple(self._view(p) for p in self._positions.values())
        totals = self._totals()
        return PortfolioView(
            ts_ns=self._clock.time_ns(),
            positions=views,
            realised=totals.realised,
            unrealised=totals.unrealised,
            fees=totals.fees,
            net=totals.net,
            daily=totals.net - self._day_start_net,
        )

    def _roll(self) -> None:
        day = self._clock.time_ns() // DAY_NS
        if day != self._day:
            self._day = day
            self._day_start_net = self._totals().net

    def _totals(self) -> PnlTotals:
        """The totals; made again only when a position's figures or a mark changed."""
        marks = self._marks
        state = [
            (pos.realised, pos.fees, pos.net, pos.cost, marks.get(iid))
            for iid, pos in self._positions.items()
        ]
        last = self._last
        if last is not None and last[0] == state:
            return last[1]
        totals = self._add_up()
        self._last = (state, totals)
        return totals

    def _add_up(self) -> PnlTotals:
        realised = unrealised = fees = Decimal(0)
        with localcontext(_EXACT):
            for iid, pos in self._positions.items():
                realised += pos.realised_quote()
                fees += pos.fees_quote()
                mid_x2 = self._marks.get(iid)
                if mid_x2 is not None:
                    unrealised += pos.unrealised_quote(mid_x2)
            net = realised + unrealised - fees
        return PnlTotals(realised=realised, unrealised=unrealised, fees=fees, net=net)

    def _view(self, pos: Position) -> PositionView:
        iid = pos.instrument.instrument_id
        mid_x2 = self._marks.get(iid)
        avg = pos.avg_entry
        avg_price = None
        if avg is not None:
            exact = avg * Fraction(pos.instrument.price_grid().step)
            with localcontext(Context(prec=12)):
                avg_price = Decimal(exact.numerator) / Decimal(exact.denominator)
        return PositionView(
            instrument=iid,
            key=pos.instrument.key,
            net_lots=pos.net,
            cost=pos.cost,
            avg_entry=avg_price,
            realised=pos.realised_quote(),
            unrealised=pos.unrealised_quote(mid_x2) if mid_x2 is not None else Decimal(0),
            fees=pos.fees_quote(),
            mid_x2=mid_x2,
        )
