"""The hft-tui workstation: a Textual UI and the ``hft-tui`` command line."""
