"""A backtest's exact configuration: strategy, parameters, data range, fill model and seed.

Everything a run depends on is here, so the results folder can keep it and the same config over
the same data gives byte-identical results. Prices and sizes in the strategy's parameters are
ticks and lots; fee rates are exact decimal text; latencies are integer microseconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from engine.core.config import DecimalText, PaperSection
from engine.risk.limits import RiskLimits
from engine.strategy.registry import REFERENCE

ParamValue = str | int | float | bool


class VenueFees(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One venue's maker and taker rates (negative for a rebate)."""

    maker: DecimalText
    taker: DecimalText


class BacktestConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One backtest run."""

    strategy: str = "market_maker"
    """The strategy kind, one of :data:`engine.strategy.registry.REFERENCE`."""
    symbol: str = ""
    """The instrument it trades; empty: the source's first."""
    params: dict[str, ParamValue] = msgspec.field(default_factory=dict)
    """The strategy's parameters, checked against its ranges before the run."""
    start_ns: int = 0
    """First instant the strategy runs (earlier data only builds the books); 0: the data's start."""
    end_ns: int = 0
    """Where the replay stops (exclusive); 0: the data's end."""
    time: Literal["recv", "exch"] = "recv"
    """Replay by receive time (default) or exchange time."""
    maker_fee: DecimalText = "0.0001"
    taker_fee: DecimalText = "0.0002"
    venue_fees: dict[str, VenueFees] = msgspec.field(default_factory=dict)
    """Per venue, rates replacing ``maker_fee``/``taker_fee``."""
    queue_model: Literal["conservative", "power"] = "conservative"
    queue_power: Annotated[float, msgspec.Meta(gt=0, le=10)] = 2.0
    latency_model: Literal["constant", "lognormal"] = "constant"
    """``lognormal`` draws every leg around its median with ``latency_sigma``, seeded."""
    entry_latency_us: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 500
    """Our order to the matching engine."""
    response_latency_us: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 500
    """A report back to us."""
    feed_latency_us: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0
    """Added to the recorded stamp before the strategy sees an event."""
    extra_latency_us: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0
    """Added to both order legs (entry and response): the latency sweep's knob."""
    latency_sigma: Annotated[float, msgspec.Meta(ge=0, le=5)] = 0.5
    seed: int = 0
    """Seeds every random draw of the run (sampled latencies)."""
    sample_ms: Annotated[int, msgspec.Meta(ge=1, le=86_400_000)] = 1000
    """Equity sampling interval: the series and the Sharpe and Sortino ratios use it."""
    housekeeping_ms: Annotated[int, msgspec.Meta(ge=1, le=60_000)] = 10
    """How often positions are marked and loss limits checked (the live engine's cadence)."""
    on_corrupt: Literal["skip", "refuse"] = "refuse"
    """A corrupt data file: skipped with a warning, or the run refused."""
    risk: RiskLimits = msgspec.field(default_factory=RiskLimits)

    def __post_init__(self) -> None:
        if self.strategy not in REFERENCE:
            kinds = ", ".join(REFERENCE)
            raise ValueError(f"strategy {self.strategy!r} is not one of the kinds: {kinds}")

    def paper(self) -> PaperSection:
        """The fee, queue and latency part as the paper section the matching is built from."""
        return PaperSection(
            maker_fee=self.maker_fee,
            taker_fee=self.taker_fee,
            queue_model=self.queue_model,
            queue_power=self.queue_power,
            entry_latency_us=self.entry_latency_us + self.extra_latency_us,
            response_latency_us=self.response_latency_us + self.extra_latency_us,
        )


def parse_params(pairs: list[str]) -> dict[str, ParamValue]:
    """``k=v`` pairs as typed values: integers, then floats, then true/false, else text.

    Raises:
        ValueError: a pair has no ``=`` or an empty key.
    """
    out: dict[str, ParamValue] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"parameter {pair!r} is not key=value")
        out[key.strip()] = parse_value(text.strip())
    return out


def parse_value(text: str) -> ParamValue:
    """One parameter value from text (see :func:`parse_params`)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text
