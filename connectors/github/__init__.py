"""GitHub issues (REST API)."""
