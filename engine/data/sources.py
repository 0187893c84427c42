"""What a capture holds: its venue, its instruments and their grids (given, or inferred).

Given ``--tick``/``--lot`` win; without them a Binance capture's grids are inferred per symbol
(:mod:`engine.data.grid`) and the result says so, so the operator can check them. Venues that
plug in their own replayer need the symbols and grids given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from engine.core.instruments import DecimalGrid, Instrument
from engine.data.binance import COINM, SPOT, USDM, scan_symbols
from engine.data.captures import CaptureRecord
from engine.data.venues import entry, is_binance
from engine.errors import EngineError, InstrumentError


class DataToolError(EngineError, ValueError):
    """A data tool cannot run as asked (missing grid, no symbol, bad option)."""


class CaptureInstruments(msgspec.Struct, frozen=True, kw_only=True):
    """The instruments of a capture and where their grids came from."""

    venue: str
    instruments: list[Instrument]
    inferred: list[str]
    """One line per grid that was inferred rather than given."""


def guess_venue(source: str, paths: Sequence[Path], records: Sequence[CaptureRecord]) -> str:
    """The Binance venue a capture most likely comes from (its file names, then its frames)."""
    names = " ".join(str(p) for p in paths).upper()
    if "BINANCE_DELIVERY" in names or "/CM/" in names:
        return COINM
    if "BINANCE_FUTURES" in names or "/USDM/" in names:
        return USDM
    for rec in records[:2000]:
        if b'"pu":' in rec.payload[:400]:
            return COINM if b'_PERP"' in rec.payload[:400] else USDM
    return SPOT


def _checked(step: str, what: str) -> str:
    try:
        DecimalGrid(step, what)
    except InstrumentError as exc:
        raise DataToolError(f"--{what} {step!r}: {exc}") from None
    return step


def parse_symbol(spec: str) -> tuple[str, str | None, str | None]:
    """``SYMBOL`` or ``SYMBOL:TICK:LOT`` (a grid of its own) as (symbol, tick, lot).

    Raises:
        DataToolError: a step is not a positive decimal.
    """
    if spec.count(":") >= 2:
        symbol, tick, lot = spec.rsplit(":", 2)
        return symbol, _checked(tick, "tick"), _checked(lot, "lot")
    return spec, None, None


def capture_instruments(
    venue: str,
    records: Sequence[CaptureRecord],
    *,
    symbols: Sequence[str] = (),
    tick: str | None = None,
    lot: str | None = None,
) -> CaptureInstruments:
    """The instruments to replay or import a capture with.

    ``symbols`` are ``SYMBOL`` or ``SYMBOL:TICK:LOT``; a symbol's own grid wins over ``tick`` and
    ``lot``, which win over the grid inferred from the capture (Binance).

    Raises:
        DataToolError: a venue that needs them has no symbols or grid given, a symbol asked for
            is not in the capture, or a step is not a positive decimal.
    """
    if tick is not None:
        tick = _checked(tick, "tick")
    if lot is not None:
        lot = _checked(lot, "lot")
    specs = [parse_symbol(s) for s in symbols]
    if is_binance(venue):
        specs = [(s.upper(), t, lo) for s, t, lo in specs]
    own = {s: (t or tick, lo or lot) for s, t, lo in specs}
    wanted = [s for s, _, _ in specs]
    if entry(venue).needs_grid:
        if not wanted or any(t is None or lo is None for t, lo in own.values()):
            raise DataToolError(
                f"venue {venue} needs --symbol and a grid: --tick and --lot, "
                "or --symbol SYMBOL:TICK:LOT"
            )
        return CaptureInstruments(
            venue=venue,
            instruments=[
                Instrument(
                    venue=venue,
                    symbol=s,
                    tick_size=own[s][0] or "",
                    lot_size=own[s][1] or "",
                    instrument_id=n,
                )
                for n, s in enumerate(wanted)
            ],
            inferred=[],
        )
    found = scan_symbols(records)
    if wanted:
        missing = [s for s in wanted if s not in found]
        if missing:
            raise DataToolError(
                f"symbol {', '.join(missing)} is not in the capture (it has {', '.join(found)})"
            )
        found = {s: found[s] for s in wanted}
    if not found:
        raise DataToolError(
            f"the capture has no {venue} depth or trade frames of any symbol "
            "(another venue's capture needs --venue)"
        )
    instruments: list[Instrument] = []
    inferred: list[str] = []
    for n, (symbol, scans) in enumerate(found.items()):
        given_tick, given_lot = own.get(symbol, (tick, lot))
        tick_size = given_tick or scans.price.step()
        lot_size = given_lot or scans.size.step()
        if given_tick is None:
            inferred.append(
                f"{venue}:{symbol} tick_size {tick_size} inferred from "
                f"{scans.price.values} distinct prices"
            )
        if given_lot is None:
            inferred.append(
                f"{venue}:{symbol} lot_size {lot_size} inferred from "
                f"{scans.size.values} distinct sizes"
            )
        instruments.append(
            Instrument(
                venue=venue,
                symbol=symbol,
                tick_size=tick_size,
                lot_size=lot_size,
                instrument_id=n,
            )
        )
    return CaptureInstruments(venue=venue, instruments=instruments, inferred=inferred)
