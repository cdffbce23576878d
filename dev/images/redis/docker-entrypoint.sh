#!/bin/sh
# As the official image: options alone mean redis-server; root gives /data to `redis` and drops to it.
set -e
case "$1" in
-* | *.conf) set -- redis-server "$@" ;;
esac
if { [ "$1" = redis-server ] || [ "$1" = redis-sentinel ]; } && [ "$(id -u)" = 0 ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec gosu redis "$@"
fi
exec "$@"
