#!/bin/bash
# The official image's contract: `--options` are mariadbd's; an empty data directory is initialised
# with MARIADB_ROOT_PASSWORD (root@% and root@localhost), MARIADB_DATABASE and the scripts in
# /docker-entrypoint-initdb.d, on a server reachable only by its socket until that is done.
set -euo pipefail
if [ "${1:0:1}" = "-" ]; then
	set -- mariadbd "$@"
fi
if [ "$1" != "mariadbd" ] && [ "$1" != "mysqld" ]; then
	exec "$@"
fi
if [ "$(id -u)" = "0" ]; then
	chown mysql:mysql /var/lib/mysql /run/mysqld
	exec gosu mysql "$0" "$@"
fi
if [ ! -d /var/lib/mysql/mysql ]; then
	: "${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required to initialise the database}"
	mariadb-install-db --datadir=/var/lib/mysql --skip-test-db --auth-root-authentication-method=normal >/dev/null
	# On the default socket (the init scripts' clients find it) and no TCP (the TCP healthcheck
	# fails until the real start).
	"$@" --skip-networking &
	pid=$!
	# A failed initialisation is undone whole, so the next start makes it again from scratch.
	trap 'kill "$pid"; wait "$pid"; rm -rf /var/lib/mysql/*; echo "database initialisation failed" >&2' ERR
	for _ in $(seq 60); do
		mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1 && break
		sleep 1
	done
	mariadb -uroot <<-SQL
		-- install-db's other root accounts (127.0.0.1, ::1, the hostname) have no password and
		-- would match TCP logins before root@%.
		DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1', 'root'@'$(hostname)';
		ALTER USER 'root'@'localhost' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}';
		CREATE USER 'root'@'%' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}';
		GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
		${MARIADB_DATABASE:+CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\`;}
		FLUSH PRIVILEGES;
	SQL
	for script in /docker-entrypoint-initdb.d/*; do
		case "$script" in
		*.sh) bash "$script" ;;
		*.sql) MYSQL_PWD="$MARIADB_ROOT_PASSWORD" mariadb -uroot <"$script" ;;
		esac
	done
	trap - ERR
	# A clean shutdown: the privilege tables (Aria) are lost if the server is killed.
	kill "$pid"
	wait "$pid" || true
fi
exec "$@"
