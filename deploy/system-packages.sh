#!/bin/sh
# Installs the few system packages Hub cannot do without, when they are missing:
#   libmariadb-dev + pkg-config  — mysqlclient compiles against them
#   chromium                     — the browser tests drive Debian's Chromium
#   slapd + ldap-utils           — the extension ldap API is tested against a real OpenLDAP
# As root it installs them with apt-get; otherwise it says what to install.
set -e
missing=""
pkg-config --exists mariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || missing="$missing libmariadb-dev pkg-config"
command -v chromium >/dev/null 2>&1 || [ -n "$HUB_SKIP_BROWSER" ] || missing="$missing chromium"
[ -x /usr/sbin/slapd ] && command -v ldapsearch >/dev/null 2>&1 || missing="$missing slapd ldap-utils"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Hub: installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
    echo "Hub needs these system packages:$missing"
    echo "Install them with: sudo apt-get install$missing"
    exit 1
fi
