#!/bin/sh
# Start Hub in the foreground from an installed checkout (what `make run` does, without installing).
#   deploy/start-hub.sh [--safe-mode | --troubleshooting]
set -eu
umask 077  # the data directory is for the user running Hub only (hub.filemodes)
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py runhub "$@"
