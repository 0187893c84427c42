"""The hft-tui engine: feeds, books, IPC and control, runnable alone as ``python -m engine``."""
