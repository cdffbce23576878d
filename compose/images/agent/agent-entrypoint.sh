#!/bin/sh
# Runs one part of the stock agent:
#   web    = writes config.json, the password hash and the job database from the environment
#            (idempotent; only this part writes them), then gunicorn on 0.0.0.0:25052 (Traefik
#            strips /agent in front of it)
#   worker = waits for the web part's config and database, then RQ workers on the agent's Redis
#            (127.0.0.1:25025, shared network namespace) for every queue the agent enqueues on,
#            `backup` included (upstream runs a dedicated worker for it)
set -eu
cd /home/frappe/agent
case "${1:-web}" in
web)
	agent setup config --name "${AGENT_NAME}" --workers "${AGENT_WORKERS}" --press-url "${AGENT_PRESS_URL}"
	# Stores only a pbkdf2 hash of the password in config.json; the password goes in on stdin
	# (the command's prompt), never on a command line.
	printf '%s\n' "${AGENT_PASSWORD}" | agent setup authentication >/dev/null
	# The job tables (jobmodel, stepmodel, patchlogmodel); without them every job answers 500.
	agent setup database
	exec gunicorn --bind 0.0.0.0:25052 --workers "${AGENT_GUNICORN_WORKERS:-2}" agent.web:application
	;;
worker)
	until [ -s config.json ] && python -c "import redis; redis.Redis(port=25025).ping()" 2>/dev/null; do sleep 1; done
	# shellcheck disable=SC2086
	exec rq worker --url redis://127.0.0.1:25025 ${AGENT_QUEUES:-high default low backup}
	;;
*)
	exec "$@"
	;;
esac
