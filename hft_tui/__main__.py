"""``python -m hft_tui``: the same as the ``hft-tui`` command."""

from hft_tui.cli import main

main()
