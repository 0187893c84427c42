"""Configured strategies, built by kind: ``[strategies.<name>]`` to a ready :class:`Strategy`.

The config names a kind, the symbol traded and the parameters; the parameters are checked against
the strategy's own ``Params`` ranges here, before anything runs, and a refusal names the strategy,
the field, the value and the allowed range.

A kind is one of the reference strategies (:data:`REFERENCE`) or ``file:Class``, the class
``Class`` in ``file.py`` of one of the ``[strategy] paths`` directories
(:func:`engine.strategy.reload.load_strategy_file`; a broken file is refused with its file and
line). Only files directly in those directories load; a link to a file elsewhere is refused.

Instruments are named by symbol in the config and by dense id in the parameters: ``symbol``
fills the strategy's ``instrument`` (for ``cross_venue`` its ``follower``), and a parameter
``instrument``, ``leader`` or ``follower`` given as a symbol's text becomes that instrument's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from engine.core.config import StrategySection
from engine.core.instruments import Instrument
from engine.strategy.base import Params, ParamsError, Strategy, decode_params
from engine.strategy.cross_venue import CrossVenue
from engine.strategy.grid import Grid
from engine.strategy.imbalance import Imbalance
from engine.strategy.ma_cross import MaCross
from engine.strategy.market_maker import MarketMaker
from engine.strategy.reload import ReloadError, load_strategy_file
from engine.strategy.rsi_revert import RsiRevert
from engine.strategy.twap import Twap
from engine.strategy.vwap import Vwap

REFERENCE: dict[str, type[Strategy[Any]]] = {
    "market_maker": MarketMaker,
    "imbalance": Imbalance,
    "cross_venue": CrossVenue,
    "twap": Twap,
    "vwap": Vwap,
    "ma_cross": MaCross,
    "rsi_revert": RsiRevert,
    "grid": Grid,
}
"""Reference strategies by kind."""
INSTRUMENT_FIELDS = ("instrument", "leader", "follower")


def user_strategy_class(kind: str, paths: Sequence[str]) -> type[Strategy[Any]]:
    """The class a ``file:Class`` kind names, loaded from the first directory holding the file.

    Raises:
        ReloadError: no configured directory holds the file, it is a link to a file outside
            its directory, or it is refused (file and line).
    """
    stem, _, class_name = kind.partition(":")
    for folder in paths:
        home = Path(folder).expanduser().resolve()
        path = home / f"{stem}.py"
        if path.is_file():
            real = path.resolve()
            if real.parent != home:
                raise ReloadError(str(path), 0, f"a link to {real}, outside {home}; not loaded")
            return load_strategy_file(real, class_name)
    where = ", ".join(paths) or "no directory"
    raise ReloadError(f"{stem}.py", 0, f"not found in the [strategy] paths ({where})")


def build_strategy(
    name: str,
    section: StrategySection,
    instruments: Iterable[Instrument],
    paths: Sequence[str] = (),
) -> Strategy[Any]:
    """The strategy a config section asks for.

    Args:
        name: the strategy's name.
        section: its config section.
        instruments: the engine's instruments.
        paths: the ``[strategy] paths`` directories user strategies load from.

    Raises:
        ParamsError: a parameter is unknown, of the wrong type or out of its range.
        ReloadError: a user strategy's file is missing or refused (file and line).
        KeyError: the symbol is not one of the instruments (the config refuses that first).
    """
    known = list(instruments)
    by_symbol = {i.symbol: i.instrument_id for i in known}
    instrument = next(i for i in known if i.symbol == section.symbol)
    if ":" in section.kind:
        cls = user_strategy_class(section.kind, paths)
    else:
        cls = REFERENCE[section.kind]  # the config refuses any other kind
    params_type: type[Params] = cls.params_type
    fields = params_type.__struct_fields__
    doc: dict[str, Any] = dict(section.params)
    for field in INSTRUMENT_FIELDS:
        value = doc.get(field)
        if isinstance(value, str):
            if value not in by_symbol:
                raise ParamsError(name, field, value, " | ".join(by_symbol), "not an instrument")
            doc[field] = by_symbol[value]
    own = "follower" if cls is CrossVenue else "instrument"
    if own in fields:
        doc[own] = instrument.instrument_id
    return cls(name, decode_params(params_type, doc, name))
