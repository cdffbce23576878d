#!/bin/sh
# Configure the stock agent from the environment on every start (idempotent), then run one part:
#   web    = gunicorn on 0.0.0.0:25052 (Traefik strips /agent in front of it)
#   worker = RQ workers on the agent's Redis (127.0.0.1:25025, shared network namespace)
set -eu
cd /home/frappe/agent
agent setup config --name "${AGENT_NAME}" --workers "${AGENT_WORKERS}" --press-url "${AGENT_PRESS_URL}"
# Stores only a pbkdf2 hash of the password in config.json.
agent setup authentication --password "${AGENT_PASSWORD}"
case "${1:-web}" in
web)
	exec gunicorn --bind 0.0.0.0:25052 --workers "${AGENT_GUNICORN_WORKERS:-2}" agent.web:application
	;;
worker)
	until python -c "import redis; redis.Redis(port=25025).ping()" 2>/dev/null; do sleep 1; done
	exec rq worker --url redis://127.0.0.1:25025 high default low
	;;
*)
	exec "$@"
	;;
esac
