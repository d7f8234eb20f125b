"""The sync engine: change detection, processing of artifact activities, and the pure functions they
share (mapping, comparison, conflicts, filters and routes, persons, retries). See docs/engine.md."""
