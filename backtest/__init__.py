"""Backtests: replaying recorded markets through the same engine (catalog, replay, runner, reports)."""
