#!/bin/sh
# Stop a Hub started with start-hub.sh or `make run`: SIGTERM lets web requests and sync work
# finish (server.shutdown.timeout) before the processes end.
set -eu
pids=$(pgrep -f "manage.py runhub" || true)
[ -z "$pids" ] && { echo "Hub is not running."; exit 0; }
kill -TERM $pids
echo "Asked Hub to stop (pid $pids)."
