"""Configured strategies, built by kind: ``[strategies.<name>]`` to a ready :class:`Strategy`.

The config names a kind, the symbol traded and the parameters; the parameters are checked against
the strategy's own ``Params`` ranges here, before anything runs, and a refusal names the strategy,
the field, the value and the allowed range.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.core.config import StrategySection
from engine.core.instruments import Instrument
from engine.strategy.base import Strategy, decode_params
from engine.strategy.market_maker import MarketMaker, MarketMakerParams


def build_strategy(
    name: str, section: StrategySection, instruments: Iterable[Instrument]
) -> Strategy[Any]:
    """The strategy a config section asks for.

    Raises:
        ParamsError: a parameter is unknown, of the wrong type or out of its range.
        KeyError: the symbol is not one of the instruments (the config refuses that first).
    """
    instrument = next(i for i in instruments if i.symbol == section.symbol)
    doc = {**section.params, "instrument": instrument.instrument_id}
    if section.kind == "market_maker":
        return MarketMaker(name, decode_params(MarketMakerParams, doc, name))
    raise KeyError(section.kind)  # the config's Literal admits no other kind
