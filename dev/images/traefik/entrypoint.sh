#!/bin/sh
set -e
case "$1" in
-*) set -- traefik "$@" ;;
esac
exec "$@"
