#!/bin/bash
# One-shot at every start (service press-setup): refresh what the image owns in the sites volume,
# write common_site_config.json from the environment, create the Press site on the first start
# (press and press_selfhost installed) and migrate it on later starts.
# Resumable: the site counts as made only once sites/<site>/.press-setup-complete exists; a first
# start that failed half-way leaves a site without it, which the next start drops and makes again.
set -euo pipefail
cd /home/frappe/frappe-bench

cp /home/frappe/image-sites/apps.txt sites/apps.txt
rm -rf sites/assets && cp -a /home/frappe/image-sites/assets sites/assets

bench set-config -g db_host "${DB_HOST}"
bench set-config -gp db_port "${DB_PORT}"
bench set-config -g redis_cache "${REDIS_CACHE}"
bench set-config -g redis_queue "${REDIS_QUEUE}"
bench set-config -g redis_socketio "${REDIS_QUEUE}"
bench set-config -gp socketio_port 9000

complete="sites/${PRESS_SITE}/.press-setup-complete"
if [ -f "sites/${PRESS_SITE}/site_config.json" ] && [ ! -f "$complete" ]; then
	echo "press-setup: ${PRESS_SITE} was left half-made by an earlier start; making it again"
	bench drop-site "${PRESS_SITE}" --force --no-backup --db-root-password "${DATABASE_PASSWORD}" || true
	rm -rf "sites/${PRESS_SITE}"
fi
if [ ! -f "$complete" ]; then
	bench new-site "${PRESS_SITE}" \
		--db-root-password "${DATABASE_PASSWORD}" \
		--admin-password "${ADMIN_PASSWORD}" \
		--mariadb-user-host-login-scope="%" \
		--install-app press \
		--install-app press_selfhost
	bench --site "${PRESS_SITE}" set-config encryption_key "${ENCRYPTION_KEY}"
	bench --site "${PRESS_SITE}" set-config host_name "https://${PRESS_SITE}"
	bench use "${PRESS_SITE}"
	touch "$complete"
else
	bench --site "${PRESS_SITE}" migrate
fi
bench --site "${PRESS_SITE}" enable-scheduler
# Frappe caches the merged hooks in Redis while new-site still installs the apps one by one, and
# `clear-cache` keeps that entry: without this, Press's processes never see press_selfhost's hooks
# (override_whitelisted_methods: Traefik's routing poll and the webhooks answer 417).
bench --site "${PRESS_SITE}" execute frappe.cache.delete_value --args '["app_hooks"]'
