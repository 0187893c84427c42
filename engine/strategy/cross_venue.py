"""``cross_venue``: the same asset on two instruments (two venues): lead-lag quoting or arbitrage.

The ``leader`` is the instrument whose price moves first (the deeper, faster venue); the
``follower`` is the one quoted or traded against it. Prices and sizes are converted between
the two grids exactly (tick and lot sizes from the instruments); a follower size that is not a
whole number of leader lots is refused at start.

- ``mode = "lead_lag"``: it rests one post-only bid and ask on the follower ``half_spread_ticks``
  (follower ticks) around the leader's mid, so when the leader moves first its quotes are
  already where the follower's price is going; a quote moves once it is more than
  ``requote_ticks`` away. Each follower fill is hedged on the leader with a marketable IOC
  order (``hedge``), so the net exposure across both stays near zero.
- ``mode = "arbitrage"``: when one instrument's best bid is at least ``edge_ticks`` above the
  other's best ask (converted), it buys the cheap one and sells the dear one at once, both IOC,
  for the smaller of ``size_lots`` and what both touches show.

Both legs' risk is checked: both orders are buffered in one callback and each passes the whole
risk pipeline (position, notional, price band, rate) when the callback returns. If one leg is
refused, the other is canceled at once if it is still open, and whatever exposure is left (one
leg filled, the other not, or filled in part) is flattened on the leader before anything new is
tried; ``max_position_lots`` bounds the follower position either way.

The engine trades one venue per process today (``[venue]``), so both instruments of a live
engine are on that venue; the strategy itself needs only two instrument ids in one runner, which
a backtest or paper run over two venues' data provides.

What to watch: legged trades (``legged`` in its status), the residual hedged, and in lead-lag
the follower fills that come just before the leader moves (the latency it is racing).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

import msgspec

from engine.core.commands import TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.errors import EngineError
from engine.strategy.base import Params, Strategy, relation
from engine.strategy.context import BookReader
from engine.strategy.orders import PositionTarget, marketable_price, work_both_sides


class GridMismatch(EngineError, ValueError):
    """Raised when the follower's size cannot be hedged in whole leader lots."""


class CrossVenueParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The cross-venue strategy's parameters."""

    leader: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument whose price leads."""
    follower: Annotated[int, msgspec.Meta(ge=0)] = 1
    """Dense id of the instrument quoted (lead-lag) or traded against the leader."""
    mode: Literal["lead_lag", "arbitrage"] = "lead_lag"
    """Quote the follower around the leader, or take crossed prices on both."""
    size_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 1
    """Follower lots per quote or per arbitrage."""
    max_position_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 10
    """The follower position it never goes past."""
    half_spread_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 5
    """Lead-lag: follower ticks from the leader's mid to each quote."""
    requote_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1
    """Lead-lag: a quote moves once it is further than this from where it should be."""
    hedge: bool = True
    """Lead-lag: hedge follower fills on the leader (arbitrage always flattens a leg)."""
    edge_ticks: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 5
    """Arbitrage: follower ticks one bid must be above the other ask."""
    slippage_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    """How far through the touch its IOC orders may take (in each one's ticks)."""

    def __post_init__(self) -> None:
        relation(self.leader != self.follower, "follower", "must differ from the leader")


class CrossVenue(Strategy[CrossVenueParams]):
    """Lead-lag quoting or two-legged arbitrage; see the module docstring."""

    params_type = CrossVenueParams

    def __init__(self, name: str, params: CrossVenueParams) -> None:
        super().__init__(name, params)
        self.instruments = (params.leader, params.follower)
        self.price_ratio = Fraction(1)
        """Follower ticks per leader tick."""
        self.lot_ratio = Fraction(1)
        """Leader lots per follower lot."""
        self.arbitrages = 0
        self.legged = 0
        """Arbitrages where one leg was refused (the other canceled, any fill hedged)."""
        self.hedges = 0
        self._pair: set[str] = set()
        self._hedger: PositionTarget | None = None

    def on_start(self) -> None:
        """Read both grids.

        Raises:
            GridMismatch: ``size_lots`` follower lots are not whole leader lots.
        """
        p = self.params
        lead, follow = self.ctx.instrument(p.leader), self.ctx.instrument(p.follower)
        self.price_ratio = Fraction(Decimal(lead.tick_size)) / Fraction(Decimal(follow.tick_size))
        self.lot_ratio = Fraction(Decimal(follow.lot_size)) / Fraction(Decimal(lead.lot_size))
        if (p.size_lots * self.lot_ratio).denominator != 1:
            raise GridMismatch(
                f"strategy {self.name}: {p.size_lots} lots of {follow.key} are "
                f"{p.size_lots * self.lot_ratio} lots of {lead.key}, not a whole number"
            )
        self._hedger = PositionTarget(self.ctx, p.leader, 10**12, p.slippage_ticks)

    def on_params(self, old: CrossVenueParams, new: CrossVenueParams) -> None:
        """New instruments cancel the orders and read the grids again."""
        if (old.leader, old.follower, old.mode) != (new.leader, new.follower, new.mode):
            self.ctx.cancel_all()
            self.instruments = (new.leader, new.follower)
            self.on_start()

    @property
    def hedger(self) -> PositionTarget:
        """Flattens the exposure on the leader."""
        if self._hedger is None:
            self.on_start()
        assert self._hedger is not None
        return self._hedger

    def exposure(self) -> Fraction:
        """Net position across both, in leader lots (positive long)."""
        ctx, p = self.ctx, self.params
        return ctx.position(p.leader).net_lots + ctx.position(p.follower).net_lots * self.lot_ratio

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Hedge what is left over, then quote or look for an arbitrage."""
        ctx = self.ctx
        if ctx.halted:
            ctx.cancel_all()
            return
        if self._hedge():
            return
        if self.params.mode == "lead_lag":
            self._quote()
        else:
            self._arbitrage()

    def _hedge(self) -> bool:
        """Flatten the exposure on the leader; True while a hedge is working or due."""
        p = self.params
        if p.mode == "lead_lag" and not p.hedge:
            return False
        if self.ctx.open_orders(p.leader):
            return True
        want = -self.ctx.position(p.follower).net_lots * self.lot_ratio
        hedger = self.hedger
        hedger.target = int(want)  # whole leader lots; any fraction stays with the follower
        if hedger.gap() == 0:
            return False
        if p.mode == "arbitrage" and self.ctx.open_orders(p.follower):
            return True  # the other leg is still working
        if hedger.step() is not None:
            self.hedges += 1
        return True

    def _quote(self) -> None:
        ctx, p = self.ctx, self.params
        lead, follow = ctx.book(p.leader), ctx.book(p.follower)
        mid_x2 = lead.mid_x2()
        if mid_x2 is None or lead.is_crossed():
            return
        fair = Fraction(mid_x2, 2) * self.price_ratio
        bid = math.floor(fair - p.half_spread_ticks)
        ask = math.ceil(fair + p.half_spread_ticks)
        f_bid, f_ask = follow.best_bid(), follow.best_ask()
        if f_ask is not None:
            bid = min(bid, f_ask[0] - 1)
        if f_bid is not None:
            ask = max(ask, f_bid[0] + 1)
        held = ctx.position(p.follower).net_lots
        size = p.size_lots
        bids = [(bid, size)] if bid > 0 and held + size <= p.max_position_lots else []
        asks = [(ask, size)] if held - size >= -p.max_position_lots else []
        work_both_sides(ctx, p.follower, bids, asks, p.requote_ticks)

    def _arbitrage(self) -> None:
        ctx, p = self.ctx, self.params
        if ctx.open_orders(p.leader) or ctx.open_orders(p.follower):
            return
        lead, follow = ctx.book(p.leader), ctx.book(p.follower)
        lb, la, fb, fa = lead.best_bid(), lead.best_ask(), follow.best_bid(), follow.best_ask()
        if lb is None or la is None or fb is None or fa is None:
            return
        if lb[0] >= la[0] or fb[0] >= fa[0]:
            return
        held = ctx.position(p.follower).net_lots
        r = self.price_ratio
        if fb[0] - la[0] * r >= p.edge_ticks and held - p.size_lots >= -p.max_position_lots:
            # follower dear: sell it, buy the leader
            self._send_pair(Side.SELL, fb[1], la[1], lead, follow)
        elif lb[0] * r - fa[0] >= p.edge_ticks and held + p.size_lots <= p.max_position_lots:
            self._send_pair(Side.BUY, fa[1], lb[1], lead, follow)

    def _send_pair(
        self,
        follower_side: Side,
        follower_shown: int,
        leader_shown: int,
        lead: BookReader,
        follow: BookReader,
    ) -> None:
        ctx, p = self.ctx, self.params
        size = min(p.size_lots, follower_shown, int(leader_shown / self.lot_ratio))
        hedge = size * self.lot_ratio
        if size < 1 or hedge.denominator != 1:
            return
        leader_side = Side.BUY if follower_side is Side.SELL else Side.SELL
        f_price = marketable_price(follow, follower_side, p.slippage_ticks)
        l_price = marketable_price(lead, leader_side, p.slippage_ticks)
        if f_price is None or l_price is None:
            return
        ioc = TimeInForce.IOC
        self._pair = {
            ctx.submit(p.follower, follower_side, size, f_price, time_in_force=ioc),
            ctx.submit(p.leader, leader_side, int(hedge), l_price, time_in_force=ioc),
        }
        self.arbitrages += 1

    def on_order(self, update: OrderUpdate) -> None:
        """A leg refused: cancel the other at once; the exposure left is hedged next."""
        cid = update.client_order_id
        if update.kind is OrderUpdateKind.REJECTED and cid in self._pair:
            self.legged += 1
            for other in self._pair - {cid}:
                self.ctx.cancel(other)
            self._pair = set()
        elif self._hedger is not None:
            self._hedger.on_order(update)

    def on_fill(self, fill: Fill) -> None:
        """Hedge a follower fill at once (lead-lag), or the leftover of a pair."""
        if not self.ctx.halted:
            self._hedge()

    def status(self) -> dict[str, object]:
        """Arbitrages, legged ones, hedges and the exposure."""
        return {
            "arbitrages": self.arbitrages,
            "legged": self.legged,
            "hedges": self.hedges,
            "exposure_leader_lots": float(self.exposure()),
        }
