"""Data tools: captures read, replayed through the venues' books, imported and validated."""
