#!/bin/sh
# Serves the console over HTTPS with the certificate named in hub.properties or the environment.
# Used by deploy/systemd/hub-web.service; `make run` does the same through `manage.py runhub`.
set -eu
umask 077  # the data directory is for the user running Hub only (hub.filemodes)
cd "$(dirname "$0")/.."
: "${HUB_SERVER_PORT:=8443}"
: "${HUB_SERVER_SSL_CERTIFICATE:?set HUB_SERVER_SSL_CERTIFICATE (PEM) in /etc/default/hub}"
: "${HUB_SERVER_SSL_CERTIFICATE_KEY:?set HUB_SERVER_SSL_CERTIFICATE_KEY (PEM) in /etc/default/hub}"
exec .venv/bin/python -m gunicorn hub.wsgi:application \
    --bind "0.0.0.0:${HUB_SERVER_PORT}" \
    --certfile "$HUB_SERVER_SSL_CERTIFICATE" --keyfile "$HUB_SERVER_SSL_CERTIFICATE_KEY" \
    --workers "${HUB_SERVER_WEB_WORKERS:-4}" --threads 4 --graceful-timeout 30 \
    --access-logfile "${HUB_HOME:-/var/lib/hub}/logs/access.log"
