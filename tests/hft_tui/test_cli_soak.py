"""``hft-tui soak`` and ``hft-tui reliability-report`` as the command line sees them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from hft_tui.cli import cli


def test_soak_refuses_a_run_of_no_length():
    """A zero-length soak is refused before any engine starts, with exit code 2."""
    result = CliRunner().invoke(cli, ["soak", "--seconds", "0"])
    assert result.exit_code == 2
    assert "must be positive" in result.output


@pytest.mark.integration
def test_reliability_report_runs_the_suite_and_says_when_nothing_ran():
    """With every test deselected pytest exits 5 and the command says no row was recorded."""
    result = CliRunner().invoke(cli, ["reliability-report", "-k", "no_such_fault_test"])
    assert result.exit_code == 5
    assert "no fault rows were recorded" in result.output


def test_both_commands_are_registered():
    """Both commands show in the help."""
    result = CliRunner().invoke(cli, ["--help"])
    assert "soak" in result.output
    assert "reliability-report" in result.output
