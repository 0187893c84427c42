"""The engine's vocabulary: instruments, events, commands, clocks and configuration."""
