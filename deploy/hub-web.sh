#!/bin/sh
# Serves the console over HTTPS where hub.properties says (server.address, server.port,
# server.ssl.certificate/-key, server.web.workers), like `manage.py runhub` does; HUB_* variables
# (/etc/default/hub) override the file. Without a certificate Hub makes a self-signed one.
# Used by deploy/systemd/hub-web.service, after hub-prepare.service ran `manage.py prepare_hub`.
set -eu
umask 077  # the data directory is for the user running Hub only (hub.filemodes)
cd "$(dirname "$0")/.."
exec .venv/bin/python manage.py serve web
