"""Backtests: replaying recorded markets through the same engine."""
