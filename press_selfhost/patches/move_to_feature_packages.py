"""Stored dotted paths follow the modules into their feature packages (issue 13).

A site installed before the move keeps dotted paths in its records: each Webhook Event's processor
(replayed and retried by path) and each Scheduled Job Type's method. Rewriting them in place, before
Frappe syncs the scheduler from hooks.py, keeps every job's last run, so nothing runs twice or is
skipped, and lets old inbox events be retried.
"""

MOVED_MODULES = {
	"press_selfhost.integrations.storage": "press_selfhost.backups.s3",
	"press_selfhost.backup_encryption": "press_selfhost.backups.encryption",
	"press_selfhost.backup_schedule": "press_selfhost.backups.schedule",
	"press_selfhost.scheduled_backups": "press_selfhost.backups.scheduler",
	"press_selfhost.backup_shipper": "press_selfhost.backups.shipper",
	"press_selfhost.backup_download": "press_selfhost.backups.download",
	"press_selfhost.restore_links": "press_selfhost.backups.restore_links",
	"press_selfhost.retention": "press_selfhost.backups.retention",
	"press_selfhost.integrations.lago": "press_selfhost.billing.lago",
	"press_selfhost.lifecycle": "press_selfhost.billing.lifecycle",
	"press_selfhost.jobs": "press_selfhost.billing.jobs",
	"press_selfhost.lago_billing": "press_selfhost.billing.invoices",
	"press_selfhost.billing_format": "press_selfhost.billing.format",
	"press_selfhost.integrations.keycloak": "press_selfhost.identity.keycloak",
	"press_selfhost.integrations.keycloak_admin": "press_selfhost.identity.keycloak_admin",
	"press_selfhost.keycloak_login": "press_selfhost.identity.dashboard_login",
	"press_selfhost.sso": "press_selfhost.identity.rules",
	"press_selfhost.site_sso": "press_selfhost.identity.site_sso",
	"press_selfhost.tenant_sso": "press_selfhost.identity.tenant_login",
	"press_selfhost.overrides": "press_selfhost.identity.overrides",
	"press_selfhost.integrations.postal": "press_selfhost.mail.postal",
	"press_selfhost.mail": "press_selfhost.mail.send",
	"press_selfhost.mail_context": "press_selfhost.mail.context",
	"press_selfhost.mail_status": "press_selfhost.mail.status",
	"press_selfhost.mail_templates": "press_selfhost.mail.templates",
	"press_selfhost.bootstrap": "press_selfhost.setup.bootstrap",
	"press_selfhost.bootstrap_plan": "press_selfhost.setup.bootstrap_plan",
	"press_selfhost.bootstrap_records": "press_selfhost.setup.bootstrap_records",
	"press_selfhost.doctor": "press_selfhost.setup.doctor",
	"press_selfhost.service_checks": "press_selfhost.setup.service_checks",
	"press_selfhost.settings": "press_selfhost.setup.settings",
	"press_selfhost.integrations.traefik": "press_selfhost.routing.traefik",
	"press_selfhost.integrations.agent": "press_selfhost.routing.agent",
	"press_selfhost.bench_gateway": "press_selfhost.routing.bench_gateway",
	"press_selfhost.proxy_agent": "press_selfhost.routing.proxy_agent",
	"press_selfhost.inbox": "press_selfhost.webhooks.inbox",
	"press_selfhost.delivery": "press_selfhost.webhooks.delivery",
}

STORED_PATHS = (("Webhook Event", "processor"), ("Scheduled Job Type", "method"))


def execute():
	import frappe

	for doctype, field in STORED_PATHS:
		if not frappe.db.table_exists(doctype):
			continue
		for name, path in frappe.get_all(doctype, fields=["name", field], as_list=True):
			moved = moved_path(path)
			if moved != path:
				frappe.db.set_value(doctype, name, field, moved, update_modified=False)


def moved_path(path: str | None) -> str | None:
	"""`press_selfhost.jobs.report_usage` → `press_selfhost.billing.jobs.report_usage`; others unchanged."""
	if not path:
		return path
	module, _, function = path.rpartition(".")
	return f"{MOVED_MODULES[module]}.{function}" if module in MOVED_MODULES else path
