"""Order management: the order state machine, positions and PnL, the journal."""
