"""Risk: pre-trade checks, circuit breaker, kill switch and the live limits store."""
