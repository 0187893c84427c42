import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sim.queue import ConservativeQueue, PowerProbQueue, QueueModelError


def test_conservative_queue_keeps_ahead_when_the_level_stays_longer():
    """Cancels come from behind: ahead only drops when the level shrinks below it."""
    model = ConservativeQueue()
    assert model.decreased(ahead=5, prev_size=10, new_size=7, traded=0) == 5
    assert model.decreased(ahead=5, prev_size=10, new_size=3, traded=0) == 3


def test_power_queue_with_n1_splits_cancels_by_lots_ahead_and_behind():
    """With n=1, 4 lots canceled from 3 ahead and 9 behind take 1 from the front (3*4/12)."""
    model = PowerProbQueue(1)
    assert model.decreased(ahead=3, prev_size=12, new_size=8, traded=0) == 2


def test_power_queue_with_larger_n_favours_the_longer_side():
    """With n=2 the same cancel comes (nearly) all from behind: 9/90 of 4 lots rounds to 0."""
    model = PowerProbQueue(2)
    assert model.decreased(ahead=3, prev_size=12, new_size=8, traded=0) == 3


def test_power_queue_rounds_conservatively():
    """The lots moved up are rounded down: 5 of 10 ahead, 3 canceled -> 1.5 -> 1."""
    model = PowerProbQueue(1)
    assert model.decreased(ahead=5, prev_size=10, new_size=7, traded=0) == 4


def test_power_queue_subtracts_trades_already_applied():
    """A decrease fully explained by trades since the last report leaves ahead alone."""
    model = PowerProbQueue(1)
    assert model.decreased(ahead=3, prev_size=10, new_size=8, traded=2) == 3
    # 6 lots gone, 2 traded: 4 canceled, half of them (5 of 10) ahead of us
    assert model.decreased(ahead=5, prev_size=10, new_size=4, traded=2) == 3


def test_power_queue_takes_from_the_front_what_the_back_cannot_hold():
    """A cancel larger than the lots behind us must have come partly from ahead."""
    model = PowerProbQueue(3)
    # 9 canceled, f(8) >> f(2) sends them all behind, but only 8 lots stood there
    assert model.decreased(ahead=2, prev_size=10, new_size=1, traded=0) == 1


def test_power_queue_with_nothing_behind_moves_us_by_the_whole_cancel():
    """When we are last in the queue, every canceled lot was ahead of us."""
    model = PowerProbQueue(2)
    assert model.decreased(ahead=10, prev_size=10, new_size=6, traded=0) == 6


def test_power_queue_accepts_a_fractional_power():
    """A non-integral n is evaluated in floating point and still rounded down."""
    model = PowerProbQueue(0.5)
    # f(4)=2, f(12)=3.46..: share ahead 0.366 of 6 lots = 2.19 -> 2
    assert model.decreased(ahead=4, prev_size=16, new_size=10, traded=0) == 2


@pytest.mark.parametrize("n", [0, -1, float("nan")])
def test_power_queue_refuses_a_non_positive_power(n):
    """The power must be positive."""
    with pytest.raises(QueueModelError, match="must be positive"):
        PowerProbQueue(n)


@settings(max_examples=300, deadline=None)
@given(
    prev=st.integers(0, 10**6),
    data=st.data(),
    n=st.sampled_from([1, 2, 3, 0.5, 1.5]),
)
def test_every_model_keeps_ahead_between_zero_and_the_new_size(prev, data, n):
    """Whatever the decrease, the new ahead lies in [0, new size] and never grows."""
    ahead = data.draw(st.integers(0, prev))
    new = data.draw(st.integers(0, prev))
    traded = data.draw(st.integers(0, prev))
    for model in (ConservativeQueue(), PowerProbQueue(n)):
        result = model.decreased(ahead, prev, new, traded)
        assert 0 <= result <= min(ahead, new)
        assert result >= max(0, ahead - (prev - new))
