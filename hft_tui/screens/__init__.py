"""Screens of the workstation: the trade screen (the default mode) and the engine-lost dialog."""
