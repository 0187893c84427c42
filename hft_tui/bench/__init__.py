"""Benchmark subjects that measure the workstation itself; run by ``hft-tui bench`` like the rest.

They live with the UI, not in :mod:`engine.bench`, because the engine runs without the UI.
"""
