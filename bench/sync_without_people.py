"""``celery`` as bench/sync.py --people starts it: the same worker, except that the integrations
named "... (no foundation)" write no person sightings, so one run times the sync with and without
the user-count data foundation on the same workers and database."""

from __future__ import annotations

import sys

WITHOUT = "(no foundation)"


def main() -> int:
    import django

    django.setup()  # DJANGO_SETTINGS_MODULE comes from bench/sync.py's environment
    from celery.__main__ import main as celery

    from integrations.engine import counters

    sight_persons = counters.sight_persons

    def only_with_foundation(processor, today, batch=None) -> None:
        if not processor.integration.name.endswith(WITHOUT):
            sight_persons(processor, today, batch)

    counters.sight_persons = only_with_foundation
    sys.argv[0] = "celery"
    return celery()


if __name__ == "__main__":
    sys.exit(main())
