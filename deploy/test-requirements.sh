#!/usr/bin/env bash
# What Hub's tests need from the machine besides .venv (Python packages are pyproject.toml's
# [dev] extra). `make test` runs this first. When everything is in place it only checks, in
# milliseconds, and prints nothing. As root it installs what is missing (idempotently); as
# another user it prints the one command that does, and fails.
#
# To add a need, add a line to DEBIAN_PACKAGES below with the tests that need it.
set -euo pipefail
cd "$(dirname "$0")"

DEBIAN_PACKAGES=(
    chromium          # tests/browser, tests/activity/test_browser.py: Playwright drives Debian's Chromium
    redis-server      # tests/engine/test_crash.py starts Redis servers of its own
    redis-tools       # ... and asks them with redis-cli
    slapd             # tests/extensions/test_host_apis.py starts a real OpenLDAP for the ldap API
    ldap-utils        # ... (slappasswd and the schemas it loads come with slapd; ldapsearch to look by hand)
    iproute2          # tests/engine/test_scaleout_hosts.py, bench/scaleout.py: hosts as network namespaces (ip netns, veth)
    rabbitmq-server   # ... and RabbitMQ as the broker (a vhost of each run's own; rabbitmqctl)
)

installed=" $({ dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${DEBIAN_PACKAGES[@]}" 2>/dev/null || true; } \
    | awk '$1 == "installed" { printf "%s ", $2 }') "
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    [[ "$installed" == *" $package "* ]] || missing+=("$package")
done
peers_ready=yes
bash ci/install-peers.sh --check || peers_ready=no

if [ ${#missing[@]} -eq 0 ] && [ "$peers_ready" = yes ]; then
    exit 0
fi

what="${missing[*]:-}"
[ "$peers_ready" = yes ] || what="${what:+$what, }the peer servers (Redmine, Roundup)"
if [ "$(id -u)" != 0 ]; then
    echo "Hub's tests need $what. Install them with:" >&2
    echo "    sudo $(pwd)/$(basename "$0")" >&2
    exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "test-requirements: apt-get install ${missing[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/tmp/hub-test-requirements-apt.log 2>&1 \
        || { tail -40 /tmp/hub-test-requirements-apt.log >&2; echo "apt-get install failed" >&2; exit 1; }
fi
[ "$peers_ready" = yes ] || bash ci/install-peers.sh
