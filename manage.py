#!/usr/bin/env python
"""Hub's command-line entry point (Django's manage.py)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    from hub.config import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        # A configuration mistake is the operator's to fix: say what, not where in our code.
        print(exc, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
