"""GitLab issues (REST API v4)."""
