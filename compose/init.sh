#!/bin/sh
# First start (and any later start) of the platform, from the repository root or anywhere:
#   ./compose/init.sh            → compose/.env from .env.example, missing secrets generated, `up -d`
#   ./compose/init.sh ps         → any other `docker compose` command with the right files
# Secrets are generated once and kept; none is printed. Needs Docker with the compose plugin.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"

if command -v python3 >/dev/null 2>&1; then
	python3 "$here/init_secrets.py" "$here/.env" "$here/.env.example"
else
	# No python3 on the host: run the same script in a pinned Python image.
	docker run --rm --user "$(id -u):$(id -g)" -v "$here:/compose" -w /compose \
		python:3.12.8-slim-bookworm python init_secrets.py .env .env.example
fi

# The agent hands paths under /home/frappe/benches to the host's Docker daemon: same path here.
if [ ! -d /home/frappe/benches ]; then
	mkdir -p /home/frappe/benches 2>/dev/null || sudo mkdir -p /home/frappe/benches
	chown 1000:1000 /home/frappe/benches 2>/dev/null || sudo chown 1000:1000 /home/frappe/benches
fi

if [ "$#" -eq 0 ]; then
	set -- up -d --build
fi
exec docker compose -f "$here/compose.yaml" --env-file "$here/.env" "$@"
