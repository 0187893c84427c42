"""Latency models: how long orders, reports and market data take between us and the venue.

Three legs, each in integer nanoseconds, drawn once per message:

* ``entry_ns()``: our order (or cancel, replace) from us to the matching engine;
* ``response_ns()``: a report (ack, fill, cancel) from the matching engine back to us;
* ``feed_ns()``: market data from the venue to us.

The order round trip is ``entry + response``; the feed is a separate leg, as it is a separate
connection on a real venue. :class:`ConstantLatency` always answers the same numbers.
:class:`SampledLatency` draws from empirical samples (recorded round trips split into legs) or from
a lognormal with a given median and sigma, through one seeded :class:`numpy.random.Generator` per
leg, so the same seed gives the same latencies in the same order, and drawing more feed latencies
never shifts the order latencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.sim import SimError

_BLOCK = 4096
"""Latencies drawn per refill of a leg's buffer."""


class LatencyError(SimError):
    """A latency model was given negative, empty or non-finite parameters."""


class LatencyModel(Protocol):
    """Draws the three legs' latencies in integer nanoseconds."""

    def entry_ns(self) -> int:
        """Our order to the matching engine."""
        ...

    def response_ns(self) -> int:
        """A matching-engine report back to us."""
        ...

    def feed_ns(self) -> int:
        """Market data from the venue to us."""
        ...


class ConstantLatency:
    """The same latency every time, per leg.

    Args:
        entry: ns from us to the matching engine.
        response: ns from the matching engine back to us.
        feed: ns for market data to reach us.

    Raises:
        LatencyError: a latency is negative.
    """

    __slots__ = ("entry", "feed", "response")

    def __init__(self, entry: int = 0, response: int = 0, feed: int = 0) -> None:
        for name, value in (("entry", entry), ("response", response), ("feed", feed)):
            if value < 0:
                raise LatencyError(f"ConstantLatency {name}={value} ns must not be negative")
        self.entry, self.response, self.feed = int(entry), int(response), int(feed)

    def entry_ns(self) -> int:
        """The entry latency."""
        return self.entry

    def response_ns(self) -> int:
        """The response latency."""
        return self.response

    def feed_ns(self) -> int:
        """The feed latency."""
        return self.feed

    def __repr__(self) -> str:
        return f"ConstantLatency(entry={self.entry}, response={self.response}, feed={self.feed})"


class _Draw(Protocol):
    def __call__(self, count: int) -> list[int]: ...


class _Leg:
    """One leg's draws: refilled a block at a time from its own generator."""

    __slots__ = ("_buffer", "_draw", "_next")

    def __init__(self, draw: _Draw) -> None:
        self._draw = draw
        self._buffer: list[int] = []
        self._next = 0

    def take(self) -> int:
        if self._next == len(self._buffer):
            self._buffer = self._draw(_BLOCK)
            self._next = 0
        value = self._buffer[self._next]
        self._next += 1
        return value


def _samples(name: str, values: Sequence[int]) -> npt.NDArray[np.int64]:
    array = np.asarray(values, dtype=np.int64)
    if array.ndim != 1 or array.size == 0:
        raise LatencyError(f"SampledLatency {name}: needs at least one sample")
    if (array < 0).any():
        raise LatencyError(f"SampledLatency {name}: samples must not be negative")
    return array


def _generators(seed: int) -> list[np.random.Generator]:
    """One independent generator per leg (entry, response, feed) from one seed."""
    return [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(3)]


class SampledLatency:
    """Latencies drawn at random per leg, reproducibly for a seed.

    Build one with :meth:`from_samples` or :meth:`lognormal`.
    """

    __slots__ = ("_entry", "_feed", "_response", "description")

    def __init__(self, entry: _Draw, response: _Draw, feed: _Draw, description: str) -> None:
        self._entry, self._response, self._feed = _Leg(entry), _Leg(response), _Leg(feed)
        self.description = description

    @classmethod
    def from_samples(
        cls,
        entry: Sequence[int],
        response: Sequence[int],
        feed: Sequence[int],
        *,
        seed: int,
    ) -> SampledLatency:
        """Draw each leg uniformly, with replacement, from recorded latencies in ns.

        Raises:
            LatencyError: a leg has no samples or a negative one.
        """
        legs = [
            _samples(n, v) for n, v in (("entry", entry), ("response", response), ("feed", feed))
        ]
        gens = _generators(seed)

        def sampler(samples: npt.NDArray[np.int64], gen: np.random.Generator) -> _Draw:
            def draw(count: int) -> list[int]:
                picks: list[int] = samples[gen.integers(0, samples.size, count)].tolist()
                return picks

            return draw

        entry_d, response_d, feed_d = (sampler(s, g) for s, g in zip(legs, gens, strict=True))
        sizes = "/".join(str(s.size) for s in legs)
        return cls(entry_d, response_d, feed_d, f"samples {sizes}, seed {seed}")

    @classmethod
    def lognormal(
        cls,
        entry_median_ns: float,
        response_median_ns: float,
        feed_median_ns: float,
        *,
        sigma: float,
        seed: int,
    ) -> SampledLatency:
        """Draw each leg as ``median * exp(sigma * Z)``, ``Z`` standard normal, rounded to ns.

        Raises:
            LatencyError: a median is not positive or sigma is negative (or either not finite).
        """
        medians = (entry_median_ns, response_median_ns, feed_median_ns)
        if not all(np.isfinite(m) and m > 0 for m in medians):
            raise LatencyError(f"SampledLatency.lognormal: medians {medians} must be positive")
        if not (np.isfinite(sigma) and sigma >= 0):
            raise LatencyError(f"SampledLatency.lognormal: sigma {sigma} must be >= 0")
        gens = _generators(seed)

        def sampler(median: float, gen: np.random.Generator) -> _Draw:
            mu = float(np.log(median))

            def draw(count: int) -> list[int]:
                values = np.rint(gen.lognormal(mu, sigma, count)).astype(np.int64)
                drawn: list[int] = values.tolist()
                return drawn

            return draw

        entry_d, response_d, feed_d = (sampler(m, g) for m, g in zip(medians, gens, strict=True))
        return cls(
            entry_d,
            response_d,
            feed_d,
            f"lognormal medians {entry_median_ns}/{response_median_ns}/{feed_median_ns} ns, "
            f"sigma {sigma}, seed {seed}",
        )

    def entry_ns(self) -> int:
        """The next entry latency."""
        return self._entry.take()

    def response_ns(self) -> int:
        """The next response latency."""
        return self._response.take()

    def feed_ns(self) -> int:
        """The next feed latency."""
        return self._feed.take()

    def __repr__(self) -> str:
        return f"SampledLatency({self.description})"
