"""Shared-memory IPC between the engine and its UIs: rings, state pages, segments, protocol."""
