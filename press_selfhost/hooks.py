app_name = "press_selfhost"
app_title = "Press Selfhost"
app_publisher = "press_selfhost developers"
app_description = (
	"Self-hosted Frappe Press: Lago billing, Keycloak SSO, Postal mail, MinIO backups and Traefik routing"
)
app_email = "admin@localhost"
app_license = "AGPL-3.0-or-later"

# Press must be installed first: we extend its doctypes and drive sites through its methods.
required_apps = ["frappe/press"]

# -- Lago billing (issue 3): Press → Lago sync, inbox retries, tenant lifecycle clock, usage ------
doc_events = {
	"Team": {"after_insert": "press_selfhost.jobs.on_team_created"},
	"Site Plan Change": {"after_insert": "press_selfhost.jobs.on_site_plan_change"},
}
scheduler_events = {
	"cron": {
		"*/5 * * * *": [
			"press_selfhost.inbox.retry_failed_events",
			"press_selfhost.jobs.advance_tenants",
		],
	},
	"daily": ["press_selfhost.jobs.report_usage"],
}
