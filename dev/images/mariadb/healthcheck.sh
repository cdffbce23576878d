#!/bin/bash
# The official image's healthcheck.sh for the two tests compose uses, over TCP (so the socket-only
# server of the first initialisation never counts as healthy), as root with the container's password.
set -eu
export MYSQL_PWD="${MARIADB_ROOT_PASSWORD:-}"
sql() { mariadb -uroot -h127.0.0.1 --protocol=tcp -Nse "$1"; }
for test in "$@"; do
	case "$test" in
	--connect) sql 'SELECT 1' >/dev/null ;;
	--innodb_initialized)
		[ "$(sql "SELECT 1 FROM information_schema.ENGINES WHERE engine = 'innodb' AND support IN ('YES', 'DEFAULT', 'ENABLED')")" = 1 ]
		;;
	*) echo "healthcheck.sh: $test is not supported here" >&2; exit 1 ;;
	esac
done
