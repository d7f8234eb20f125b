"""The JSON API under /api/v1/: the configuration screens' operations with the same validation,
authenticated by per-user API tokens (viewers' tokens read only)."""
