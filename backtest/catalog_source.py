"""The Parquet catalog as a backtest data source, and a picklable way to name any source.

:class:`CatalogSource` reads :class:`backtest.catalog.Catalog` for the instruments asked
(``venue:SYMBOL`` or a bare symbol when only one venue has it). Missing hours of the asked range
are reported before the run (:meth:`CatalogSource.missing`); a corrupt file is skipped with a
warning or refuses the run (``on_corrupt``), named either way.

:class:`SourceSpec` names a source by paths (capture files or a catalog root), so sweep workers
on other processes or machines open the same data themselves (:func:`open_source`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

from backtest.capture import CaptureSource, iso
from backtest.catalog import Catalog, CatalogError, CorruptCatalogFile
from backtest.errors import CorruptDataError, DataRangeError
from backtest.source import MarketEvent, OnCorrupt, Source, TimeBase, replay_ts
from engine.core.instruments import Instrument


class CatalogSource:
    """Instruments of a catalog, merged in replay order.

    Args:
        root: the catalog folder.
        symbols: ``venue:SYMBOL`` or ``SYMBOL`` per instrument; empty: every instrument.
        on_corrupt: ``skip`` (warn, go on) or ``refuse`` (:class:`CorruptDataError`).

    Raises:
        DataRangeError: the folder is not a catalog or a symbol is not in it.
    """

    def __init__(self, root: Path | str, symbols: list[str], on_corrupt: OnCorrupt) -> None:
        try:
            self.catalog = Catalog(root)
            held = self.catalog.instruments()
        except CorruptCatalogFile as exc:
            raise CorruptDataError(str(exc.path), exc.reason) from exc
        except CatalogError as exc:
            raise DataRangeError(str(exc), [str(root)]) from exc
        self.root = Path(root)
        self.on_corrupt = on_corrupt
        chosen = []
        for want in symbols or [f"{c.venue}:{c.symbol}" for c in held]:
            venue, _, symbol = want.rpartition(":")
            found = [c for c in held if c.symbol == symbol and (not venue or c.venue == venue)]
            if len(found) != 1:
                have = ", ".join(f"{c.venue}:{c.symbol}" for c in held) or "nothing"
                what = "ambiguous (name the venue)" if found else "not in the catalog"
                raise DataRangeError(f"{want} is {what} at {root} (it holds {have})", [want])
            chosen.append(found[0])
        self._held = chosen
        self._instruments = [c.instrument(n) for n, c in enumerate(chosen)]

    @property
    def instruments(self) -> list[Instrument]:
        """The instruments asked, ids in order."""
        return list(self._instruments)

    @property
    def name(self) -> str:
        """The catalog root and instruments."""
        return f"catalog {self.root} ({', '.join(i.key for i in self._instruments)})"

    def span(self) -> tuple[int, int]:
        """First and last receive time over the instruments."""
        return min(c.first_ts for c in self._held), max(c.last_ts for c in self._held)

    def missing(self, start_ns: int, end_ns: int) -> list[str]:
        """Hours of the range without files, and the parts before or after the data."""
        out: list[str] = []
        for held in self._held:
            key = f"{held.venue}:{held.symbol}"
            if start_ns < held.first_ts:
                out.append(f"{key} before {iso(held.first_ts)} (from {iso(start_ns)})")
            if end_ns > held.last_ts + 1:
                out.append(f"{key} after {iso(held.last_ts)} (to {iso(end_ns)})")
            lo, hi = max(start_ns, held.first_ts), min(end_ns, held.last_ts + 1)
            if lo < hi:
                cover = self.catalog.coverage(held.venue, held.symbol, lo, hi)
                out += [f"{key} hour {hour}" for hour in cover.hours_missing]
        return out

    def events(self, end_ns: int, time: TimeBase) -> Iterator[tuple[int, MarketEvent]]:
        """Every event from the data's start to ``end_ns``, merged by the catalog."""
        first, _ = self.span()
        try:
            for event in self.catalog.events(
                self._instruments, first, end_ns, time=time, on_corrupt=self.on_corrupt
            ):
                yield replay_ts(event, time), event
        except CorruptCatalogFile as exc:
            raise CorruptDataError(str(exc.path), exc.reason) from exc


class SourceSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Where a run's data is: capture files or a catalog (picklable, for workers)."""

    kind: Literal["capture", "catalog"]
    paths: list[str] = msgspec.field(default_factory=list)
    """Captures: one day file or ``<folder>/<symbol>`` stem each."""
    root: str = ""
    """Catalog: its folder."""
    symbols: list[str] = msgspec.field(default_factory=list)
    """Catalog: ``venue:SYMBOL`` or ``SYMBOL`` per instrument; empty: all."""
    on_corrupt: Literal["skip", "refuse"] = "refuse"


def open_source(spec: SourceSpec) -> Source:
    """The source a spec names.

    Raises:
        DataRangeError: no such captures or catalog instruments.
        CorruptDataError: the catalog cannot be listed.
    """
    if spec.kind == "capture":
        return CaptureSource(spec.paths)
    return CatalogSource(spec.root, spec.symbols, spec.on_corrupt)
