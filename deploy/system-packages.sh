#!/bin/sh
# Installs the few system packages Hub itself cannot do without, when they are missing:
#   libmariadb-dev + pkg-config  — mysqlclient compiles against them
# (What only the tests need is in deploy/test-requirements.sh.)
# As root it installs them with apt-get; otherwise it says what to install.
set -e
missing=""
pkg-config --exists mariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || missing="$missing libmariadb-dev pkg-config"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Hub: installing system packages:$missing"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing >/dev/null
else
    echo "Hub needs these system packages:$missing"
    echo "Install them with: sudo apt-get install$missing"
    exit 1
fi
