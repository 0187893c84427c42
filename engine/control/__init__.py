"""The engine's control plane: HTTP endpoints for health, status and the kill switch."""
