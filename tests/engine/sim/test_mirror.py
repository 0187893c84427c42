"""The mirror's book side against a plain dict model: levels, best, walks, taken and traded.

With only a few levels kept in order next to the best, wide price ranges move levels between the
near list and the far set all the time (spills, refills, walks past the near levels); none of it
may show in what the side answers.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import engine.sim.mirror as mirror
from engine.core.events import Side
from engine.sim.mirror import BookSide

Op = tuple[str, int, int]


class Model:
    """The side as a dict of live levels."""

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.sizes: dict[int, int] = {}
        self.taken: dict[int, int] = {}
        self.traded: dict[int, int] = {}

    def set(self, price: int, size: int) -> tuple[int, int]:
        """One level report; (previous size, traded since)."""
        prev = self.sizes.pop(price, 0)
        if size:
            self.sizes[price] = size
        self.taken.pop(price, None)
        return prev, self.traded.pop(price, 0)

    def best_first(self) -> list[int]:
        """Live prices, best first."""
        return sorted(self.sizes, reverse=self.is_bid)

    def walk(self, limit: int | None) -> list[int]:
        """Prices with lots left to take, best first, up to ``limit``."""
        out = []
        for price in self.best_first():
            if limit is not None and (price < limit if self.is_bid else price > limit):
                break
            if self.sizes[price] > self.taken.get(price, 0):
                out.append(price)
        return out


ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "batch", "take", "trade", "reset"]),
        st.integers(1, 400),
        st.integers(0, 5),
    ),
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(is_bid=st.booleans(), script=ops, limit=st.integers(1, 400))
def test_the_side_answers_as_the_dict_model_does(is_bid: bool, script: list[Op], limit: int):
    """After every step: the levels best first, the best, walks with and without a limit."""
    near, mirror.NEAR_LEVELS = mirror.NEAR_LEVELS, 3
    try:
        _check(is_bid, script, limit)
    finally:
        mirror.NEAR_LEVELS = near


def _check(is_bid: bool, script: list[Op], limit: int) -> None:
    side, model = BookSide(Side.BUY if is_bid else Side.SELL), Model(is_bid)
    for n, (op, price, size) in enumerate(script):
        if op == "set":
            assert side.set(price, size) == model.set(price, size)
        elif op == "batch":  # a run of levels far and near, mostly deletions
            prices = [(price + 37 * k) % 400 + 1 for k in range(12)]
            sizes = [size if k % 3 == 0 else 0 for k in range(12)]
            side.update(prices, sizes)
            for p, s in zip(prices, sizes, strict=True):
                model.set(p, s)
        elif op == "take" and model.sizes.get(price, 0) > model.taken.get(price, 0):
            side.take(price, 1)
            model.taken[price] = model.taken.get(price, 0) + 1
            model.traded[price] = model.traded.get(price, 0) + 1
        elif op == "trade":
            side.add_traded(price, size + 1)
            model.traded[price] = model.traded.get(price, 0) + size + 1
        elif op == "reset" and n % 25 == 0:
            levels = [(p, (p + size) % 4) for p in range(price, price + 30)]
            side.reset([p for p, _ in levels], [s for _, s in levels])
            model.sizes = {p: s for p, s in levels if s}
            model.taken.clear()
            model.traded.clear()
        best = model.best_first()
        assert side.levels() == [(p, model.sizes[p]) for p in best]
        assert side.best() == (best[0] if best else None)
        assert list(side.walk()) == model.walk(None)
        assert list(side.walk(limit)) == model.walk(limit)
        assert side.best_available() == next(iter(model.walk(None)), None)
        assert (side.taken, side.traded) == (model.taken, model.traded)
        for p in (price, limit):
            assert side.size(p) == model.sizes.get(p, 0)
            assert side.available(p) == model.sizes.get(p, 0) - model.taken.get(p, 0) * (
                p in model.sizes
            )


def test_far_levels_come_and_go_without_disturbing_the_near_ones():
    """A thousand far levels come and go around ten live ones; a walk reaches into them."""
    side = BookSide(Side.SELL)
    side.update(list(range(100, 110)), [1] * 10)
    for rnd in range(5):
        far = list(range(1000 + rnd, 3000, 2))
        side.update(far, [2] * len(far))
        assert len(side._near) <= 2 * mirror.NEAR_LEVELS
        assert list(side.walk(1004))[-1] == 1000 + rnd + 2 * ((1004 - 1000 - rnd) // 2)
        side.update(far, [0] * len(far))
    assert side.levels() == [(p, 1) for p in range(100, 110)]
    side.update(list(range(100, 110)), [0] * 10)
    assert side.best() is None
    assert side.levels() == []
