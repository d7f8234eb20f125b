"""Acceptance test of the production shape (issue 20): two real Redmines, Hub as deploy/ runs it —
web, two prefork workers, one beat, PostgreSQL, a Redis of its own — configured only through
/api/v1/, loaded through Redmine's REST API with kills, verified from Redmine's REST API and the
ledger API. ``python -m tests.acceptance --form smoke|bounded|long``; see docs/performance.md."""
