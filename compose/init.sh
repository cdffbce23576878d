#!/bin/sh
# First start (and any later start) of the platform, from the repository root or anywhere:
#   ./compose/init.sh            → compose/.env from .env.example, missing secrets generated, `up -d`
#   ./compose/init.sh ps         → any other `docker compose` command with the right files
#   ./compose/init.sh -f extra.yaml up -d   → the same with an override file after compose.yaml
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

# The group of the host's Docker socket (the agent starts benches through it): detected and kept
# in compose/.env when it names none, so later `docker compose … up` without init.sh has it too.
if [ -S /var/run/docker.sock ] && grep -q '^DOCKER_GID=$' "$here/.env"; then
	sed -i "s/^DOCKER_GID=\$/DOCKER_GID=$(stat -c %g /var/run/docker.sock)/" "$here/.env"
fi

# Leading `-f FILE` arguments are override files, read after compose.yaml.
overrides=""
while [ "$#" -ge 2 ] && [ "$1" = "-f" ]; do
	overrides="$overrides -f $2"
	shift 2
done
if [ "$#" -eq 0 ]; then
	set -- up -d --build
fi
# shellcheck disable=SC2086 # one word per override path
exec docker compose -f "$here/compose.yaml" $overrides --env-file "$here/.env" "$@"
