import statistics

import pytest

from engine.sim.latency import ConstantLatency, LatencyError, LatencyModel, SampledLatency


def draws(model: LatencyModel, count: int = 500) -> tuple[list[int], list[int], list[int]]:
    """``count`` draws of each leg, in entry/response/feed order."""
    return (
        [model.entry_ns() for _ in range(count)],
        [model.response_ns() for _ in range(count)],
        [model.feed_ns() for _ in range(count)],
    )


def test_constant_latency_answers_the_same_per_leg():
    """Each leg of a constant model always gives its own value."""
    model = ConstantLatency(entry=1_000, response=2_000, feed=500)
    assert {model.entry_ns() for _ in range(5)} == {1_000}
    assert (model.response_ns(), model.feed_ns()) == (2_000, 500)


def test_constant_latency_refuses_a_negative_leg():
    """A negative latency is refused naming the leg."""
    with pytest.raises(LatencyError, match="feed=-1"):
        ConstantLatency(feed=-1)


def test_sampled_latency_draws_only_recorded_values():
    """Empirical draws come from each leg's own samples."""
    model = SampledLatency.from_samples([10, 20], [300], [4, 5, 6], seed=1)
    entry, response, feed = draws(model)
    assert set(entry) == {10, 20}
    assert set(response) == {300}
    assert set(feed) == {4, 5, 6}


def test_sampled_latency_is_deterministic_for_a_seed():
    """Two models with the same seed give the same sequence; another seed differs."""
    one = draws(SampledLatency.lognormal(50_000, 80_000, 20_000, sigma=0.5, seed=7))
    two = draws(SampledLatency.lognormal(50_000, 80_000, 20_000, sigma=0.5, seed=7))
    other = draws(SampledLatency.lognormal(50_000, 80_000, 20_000, sigma=0.5, seed=8))
    assert one == two
    assert one != other


def test_feed_draws_do_not_shift_order_latencies():
    """Each leg has its own generator: drawing feed latencies leaves entry draws unchanged."""
    quiet = SampledLatency.from_samples(range(1000), [1], range(1000), seed=3)
    busy = SampledLatency.from_samples(range(1000), [1], range(1000), seed=3)
    for _ in range(10_000):
        busy.feed_ns()
    assert [quiet.entry_ns() for _ in range(100)] == [busy.entry_ns() for _ in range(100)]


def test_lognormal_median_is_near_the_given_median():
    """The sample median of many lognormal draws sits close to the requested median."""
    model = SampledLatency.lognormal(100_000, 100_000, 100_000, sigma=0.3, seed=11)
    entry, _, _ = draws(model, 5_000)
    assert 95_000 < statistics.median(entry) < 105_000
    assert all(isinstance(v, int) and v >= 0 for v in entry)


def test_lognormal_with_zero_sigma_is_constant():
    """Sigma 0 gives the median every time."""
    model = SampledLatency.lognormal(1_000, 2_000, 3_000, sigma=0.0, seed=0)
    assert draws(model, 10) == ([1_000] * 10, [2_000] * 10, [3_000] * 10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"entry": [], "response": [1], "feed": [1]}, "entry: needs at least one sample"),
        ({"entry": [1], "response": [-5], "feed": [1]}, "response: samples must not be negative"),
    ],
)
def test_sampled_latency_refuses_bad_samples(kwargs, match):
    """Empty or negative samples are refused naming the leg."""
    with pytest.raises(LatencyError, match=match):
        SampledLatency.from_samples(**kwargs, seed=0)


def test_lognormal_refuses_bad_parameters():
    """A non-positive median or negative sigma is refused."""
    with pytest.raises(LatencyError, match="medians"):
        SampledLatency.lognormal(0, 1, 1, sigma=0.1, seed=0)
    with pytest.raises(LatencyError, match="sigma"):
        SampledLatency.lognormal(1, 1, 1, sigma=-0.1, seed=0)
