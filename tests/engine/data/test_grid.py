from __future__ import annotations

import pytest

from engine.data.grid import StepScan


@pytest.mark.parametrize(
    ("values", "step"),
    [
        (["61837.63000000", "61837.60000000"], "0.01"),
        (["0.132", "0.4", "0.00000000"], "0.001"),
        (["9680", "9690", "10000"], "10"),
        (["1", "2.5"], "0.1"),
        (["0"], "1"),
        ([], "1"),
    ],
)
def test_the_coarsest_power_of_ten_every_value_fits(values, step):
    """The step is the coarsest power of ten; zeros fit every step."""
    scan = StepScan()
    for v in values:
        scan.add(v)
    assert scan.step() == step


def test_text_that_is_not_a_number_is_refused():
    """A value that is not a decimal is named."""
    with pytest.raises(ValueError, match="'abc' is not a decimal"):
        StepScan().add("abc")
