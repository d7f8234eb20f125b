"""Run in a separate process by the rate limit tests: take as many event tokens as it can.

Usage: python -m tests.support.ratelimit_worker KEY EVENTS_PER_MINUTE ATTEMPTS
Prints the number of tokens granted. The database comes from HUB_HOME / HUB_DATABASE_URL.
"""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
django.setup()

from connectors.ratelimit import try_acquire  # noqa: E402

key, per_minute, attempts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(sum(1 for _ in range(attempts) if try_acquire(key, per_minute) == 0))
