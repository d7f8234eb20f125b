"""The real peer servers these tests use are session fixtures of ``tests/conftest.py``."""
