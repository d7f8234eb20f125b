"""Shared by the provisioning commands: reading a secret without putting it on the command line
(where ``ps`` and shell history would show it), and the command's identity in history."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import CommandError

SOURCE = "command"


def add_secret_arguments(parser, name: str, what: str, required: bool = True) -> None:
    group = parser.add_mutually_exclusive_group(required=required)
    group.add_argument(f"--{name}-file", metavar="PATH", help=f"Read the {what} from this file (first line).")
    group.add_argument(f"--{name}-stdin", action="store_true", help=f"Read the {what} from standard input.")


def read_secret(options: dict, name: str, what: str) -> str | None:
    key = name.replace("-", "_")
    path, from_stdin = options.get(f"{key}_file"), options.get(f"{key}_stdin")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read the {what} from {path}: {exc.__class__.__name__}.") from None
    elif from_stdin:
        text = sys.stdin.readline()
    else:
        return None
    value = text.splitlines()[0] if text.splitlines() else ""
    if not value:
        raise CommandError(f"The {what} is empty.")
    return value
