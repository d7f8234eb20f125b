"""Counters of synchronized artifacts and seen persons, their daily rollups, user counting for
the license, and the Metrics dashboard."""
