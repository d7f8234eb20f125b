#!/usr/bin/env bash
# Installs the real peer servers that tests/peers/servers.py starts:
#   * Redmine from Debian's packages (redmine, redmine-sqlite, thin), in /usr/share/redmine.
#     dbconfig-common is preseeded to set Debian's "default" instance up on SQLite without
#     asking anything: the sqlite3 gem only enters Redmine's bundle (Gemfile.lock) when a
#     system instance's database.yml uses sqlite3, and the tests' private instances need it.
#     The default instance is never served or touched by the tests.
#   * Roundup from PyPI into its own venv, /opt/hub-peers/roundup-venv (Debian's python3).
# Idempotent: when everything is in place it only checks and prints (well under a second).
# `install-peers.sh --check` only checks, silently: exit 0 when everything is in place
# (deploy/test-requirements.sh asks it so on every `make test`).
# Needs root for apt-get. Environment overrides:
#   HUB_PEERS_ROOT (default /opt/hub-peers), HUB_ROUNDUP_VERSION (default 2.6.0),
#   HUB_PEERS_PYTHON (default /usr/bin/python3 when present).
set -euo pipefail

PEERS_ROOT=${HUB_PEERS_ROOT:-/opt/hub-peers}
VENV="$PEERS_ROOT/roundup-venv"
ROUNDUP_VERSION=${HUB_ROUNDUP_VERSION:-2.6.0}
PY=${HUB_PEERS_PYTHON:-/usr/bin/python3}   # Debian's; installed below if missing
LOCK=/var/lib/redmine/Gemfile.lock
start=$(date +%s)

say() { echo "install-peers: $*"; }

pkg_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

redmine_ready() {  # one dpkg-query for the three packages
    [ "$(dpkg-query -W -f='${db:Status-Status} ' redmine redmine-sqlite thin 2>/dev/null || true)" \
        = "installed installed installed " ] \
        && [ -f "$LOCK" ] && grep -qE '^    sqlite3 ' "$LOCK" && grep -qE '^    thin ' "$LOCK"
}

# Files only, no Python started: this runs on every `make test`.
venv_ok() {
    [ -x "$VENV/bin/roundup-server" ] && [ -x "$VENV/bin/roundup-admin" ] \
        && [ "$(readlink -f "$VENV/bin/python3")" = "$(readlink -f "$PY")" ] \
        && compgen -G "$VENV/lib/python3*/site-packages/roundup-$ROUNDUP_VERSION.dist-info" >/dev/null
}

if [ "${1:-}" = "--check" ]; then
    redmine_ready && venv_ok
    exit
fi

venv_tool_ready() {
    [ -x "$PY" ] && "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1
}

# ---------------------------------------------------------------- Debian packages
apt_pkgs=()
redmine_ready || apt_pkgs+=(redmine redmine-sqlite thin)
venv_tool_ready || apt_pkgs+=(python3 python3-venv)

if [ ${#apt_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        say "need root to install: ${apt_pkgs[*]} (sudo bash $0)" >&2
        exit 1
    fi
    say "preseeding debconf: Redmine instance 'default' on SQLite, language en"
    debconf-set-selections <<'EOF'
redmine redmine/current-instances string default
redmine redmine/instances/default/dbconfig-install boolean true
redmine redmine/instances/default/database-type select sqlite3
redmine redmine/instances/default/default-language select en
EOF
    say "apt-get update"
    apt-get update -qq
    say "apt-get install ${apt_pkgs[*]}"
    # thin must be installed when redmine's postinst runs `bundle install --local`, so that
    # it lands in Gemfile.lock; one transaction does that (and the trigger re-runs it).
    # No recommends: they would pull in passenger, which the tests do not use.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${apt_pkgs[@]}" >/tmp/hub-install-peers-apt.log 2>&1 \
        || { tail -40 /tmp/hub-install-peers-apt.log >&2; say "apt-get install failed" >&2; exit 1; }
fi

if ! redmine_ready && [ -f "$LOCK" ] && ! grep -qE '^    thin ' "$LOCK" && pkg_installed thin; then
    # thin was installed after Redmine was configured: regenerate the lock like the postinst.
    say "regenerating $LOCK to include thin"
    (cd /usr/share/redmine && rm -f "$LOCK" && bundle install --local --quiet)
    chown www-data:www-data "$LOCK"
fi
if ! redmine_ready; then
    say "Redmine is installed but its bundle lacks sqlite3 or thin ($LOCK)." >&2
    say "Debian's 'default' Redmine instance must use SQLite: dpkg-reconfigure redmine" >&2
    exit 1
fi
say "redmine $(dpkg-query -W -f='${Version}' redmine) + thin $(dpkg-query -W -f='${Version}' thin): ready"

# ---------------------------------------------------------------- Roundup venv
if venv_ok; then
    say "roundup $ROUNDUP_VERSION in $VENV: ready"
else
    if [ -d "$VENV" ] && [ "$(readlink -f "$VENV/bin/python3" 2>/dev/null)" != "$(readlink -f "$PY")" ]; then
        say "recreating $VENV on $PY"
        rm -rf "$VENV"
    fi
    mkdir -p "$PEERS_ROOT"
    [ -x "$VENV/bin/python" ] || { say "python venv $VENV ($("$PY" --version))"; "$PY" -m venv "$VENV"; }
    say "pip install roundup==$ROUNDUP_VERSION into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "roundup==$ROUNDUP_VERSION"
    venv_ok || { say "roundup did not install correctly in $VENV" >&2; exit 1; }
    say "roundup $ROUNDUP_VERSION in $VENV: installed"
fi

say "done in $(( $(date +%s) - start ))s"
