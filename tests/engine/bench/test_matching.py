from engine.bench import SUBJECTS, runner
from engine.bench.matching import check_workloads, run


def test_matching_is_a_registered_subject():
    """``hft-tui bench matching`` finds the subject's run function."""
    assert SUBJECTS["matching"] == "engine.bench.matching"
    assert runner("matching") is run


def test_workloads_measure_what_they_claim():
    """A sweep takes three levels and expires; a passive order rests and cancels."""
    check_workloads()
