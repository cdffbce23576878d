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

# Each hook is assigned once: a second assignment would silently replace the first
# (tests/test_frappe_shell.py refuses it).
doc_events = {
	# Lago billing: Press → Lago sync.
	"Team": {"after_insert": "press_selfhost.billing.jobs.on_team_created"},
	"Site Plan Change": {
		"before_insert": "press_selfhost.billing.jobs.before_site_plan_change",
		"after_insert": "press_selfhost.billing.jobs.on_site_plan_change",
	},
	# Tenant-site SSO: Site.archive sends "Archive Site"; the site's Keycloak client goes with it.
	"Agent Job": {"after_insert": "press_selfhost.identity.site_sso.on_agent_job_insert"},
}

# Tenant-site SSO: the per-plan switch, the per-site flag, and the internal site config key.
fixtures = [
	{
		"dt": "Custom Field",
		"filters": [["name", "in", ["Site Plan-allow_keycloak_sso", "Site-keycloak_sso_enabled"]]],
	},
	{"dt": "Site Config Key", "filters": [["name", "=", "press_selfhost_sso"]]},
]

# Tenant-site SSO: the desk's Site form gets "Single sign-on" buttons.
doctype_js = {"Site": "public/js/site_sso.js"}

scheduler_events = {
	"cron": {
		# Lago billing: inbox retries and the tenant lifecycle clock.
		"*/5 * * * *": [
			"press_selfhost.webhooks.inbox.retry_failed_events",
			"press_selfhost.billing.jobs.advance_tenants",
		],
		# Backups: Press takes them without offsite (the stock Agent cannot reach MinIO); we ship them, encrypted.
		"*/10 * * * *": ["press_selfhost.backups.shipper.ship_pending_backups"],
		# Backups: take each site's backups on its plan's schedule (Backup Policy), retrying failures.
		"*/15 * * * *": ["press_selfhost.backups.scheduler.take_scheduled_backups"],
	},
	# Doctor: the Selfhost workspace shows each service's state from the last run (no test mail).
	"hourly_long": [
		"press_selfhost.setup.service_checks.run_scheduled_doctor",
		# Lago billing: Site Plans priced as Lago's plans, and offered to customers.
		"press_selfhost.billing.site_plans.sync_site_plans",
	],
	"daily": [
		"press_selfhost.billing.jobs.report_usage",
		"press_selfhost.backups.shipper.abort_stale_uploads",
	],
}

# Restore links (Remote File URLs) are served decrypted at /press-selfhost-backup/<file name>.
page_renderer = ["press_selfhost.backups.download.BackupDownloadPage"]

# Keycloak SSO: a Frappe logout from anywhere also ends the Keycloak session.
on_logout = "press_selfhost.identity.dashboard_login.forget_session"

# Press's auth hook (press/auth.py) answers 401 to every caller who is not a System User on /api/
# paths outside its allow-list, which takes any `press.api.` name. So each endpoint called from outside
# the desk has a `press.api.` name here, which Frappe resolves before it imports anything; the
# `press_selfhost.api.` names keep working for System Users. tests/test_endpoint_callers.py holds each
# endpoint's name to the auth hook's rules for its caller.
override_whitelisted_methods = {
	# Keycloak SSO: the dashboard's "Log in with <realm>" and "Google" buttons lead to our verified
	# login (/auth/keycloak/login), not to Frappe's Social Login Key callback; Press stays unpatched.
	"press.api.account.signup_settings": "press_selfhost.api.dashboard_login.signup_settings",
	"press.api.oauth.oauth_authorize_url": "press_selfhost.api.dashboard_login.oauth_authorize_url",
	"press.api.google.login": "press_selfhost.api.dashboard_login.google_login",
	# Tenant-site SSO, switched by the site's team in the dashboard (Website Users).
	"press.api.selfhost_sso.enable": "press_selfhost.api.site_sso.enable",
	"press.api.selfhost_sso.disable": "press_selfhost.api.site_sso.disable",
	"press.api.selfhost_sso.status": "press_selfhost.api.site_sso.status",
	# Webhooks: Lago and Postal deliver as Guest.
	"press.api.selfhost_lago.webhook": "press_selfhost.api.lago.webhook",
	"press.api.selfhost_postal.webhook": "press_selfhost.api.postal.webhook",
	# Routing: Traefik's HTTP provider polls as Guest, with its token.
	"press.api.selfhost_traefik.config": "press_selfhost.api.traefik.config",
	# Billing in the dashboard, for the team's members (Website Users).
	"press.api.selfhost_billing.checkout_url": "press_selfhost.api.billing.checkout_url",
	"press.api.selfhost_billing.invoices": "press_selfhost.api.billing.invoices",
	"press.api.selfhost_billing.invoice_pdf_url": "press_selfhost.api.billing.invoice_pdf_url",
	"press.api.selfhost_billing.invoice_payment_url": "press_selfhost.api.billing.invoice_payment_url",
	# The customer's front door. Sign-up: the e-mailed code's page must not ask ip-api.com (Guest).
	"press.api.account.validate_request_key": "press_selfhost.api.signup.validate_request_key",
	# New site: pay through Lago's checkout first when needed, then watch it being built (Website Users).
	"press.api.site.new": "press_selfhost.api.sites.new",
	"press.api.selfhost_sites.create": "press_selfhost.api.sites.create",
	"press.api.selfhost_sites.progress": "press_selfhost.api.sites.progress",
	"press.api.selfhost_sites.retry": "press_selfhost.api.sites.retry",
}

# Lago billing: "Lago" among Team's payment modes; then bootstrap creates Press's self-hosting records
# right after install when settings allow.
after_install = [
	"press_selfhost.billing.team.add_lago_payment_mode",
	"press_selfhost.setup.bootstrap.after_install",
]
after_migrate = ["press_selfhost.billing.team.add_lago_payment_mode"]

override_doctype_class = {
	# Keycloak SSO: a signup (and so a first Keycloak login) must not depend on ip-api.com.
	"Account Request": "press_selfhost.identity.overrides.SelfhostAccountRequest",
	# Lago billing: a new team is a Lago customer, not a Stripe one, and Press never bills it.
	"Team": "press_selfhost.billing.team.SelfhostTeam",
}

# Branding: the dashboard's page title is Press's built index.html ("Frappe Cloud"); it gets the
# platform's name on the way out (setup/branding.py says what else can and cannot be renamed).
after_request = ["press_selfhost.setup.branding.rename_dashboard_title"]
