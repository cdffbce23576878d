"""Press side of single sign-on into tenant sites: switched on and off per site, allowed per plan.

Switching on creates the site's own client in realm `cloud` (redirects to that site only), gives the
team owner the site's "System Manager" client role when their Keycloak account is known, and writes
the client into the site's config through Press's own Site.update_site_config (the Agent job "Update
Site Configuration"), where the tenant app (tenant/press_selfhost_tenant) reads it. Switching off
and archiving remove both. The rules are in integrations/keycloak_admin.py and tenant_sso.py.
"""

import frappe

from press_selfhost.errors import ServiceError
from press_selfhost.identity.dashboard_login import _admin
from press_selfhost.identity.site_clients import (
	DEFAULT_SITE_ROLES,
	ensure_site_client,
	grant_site_role,
	remove_site_client,
)
from press_selfhost.identity.tenant_login import SITE_CONFIG_KEY, site_config
from press_selfhost.setup.bootstrap_records import TENANT_APP

PLAN_FIELD = "allow_keycloak_sso"  # Custom Field of Site Plan (fixtures)
SITE_FIELD = "keycloak_sso_enabled"  # Custom Field of Site (fixtures)
OWNER_ROLE = DEFAULT_SITE_ROLES[0]


def plan_allows_sso(plan: str | None) -> bool:
	return bool(plan and frappe.db.get_value("Site Plan", plan, PLAN_FIELD))


def enable(site_name: str) -> dict:
	"""Switch SSO on for an Active site whose plan allows it, installing the tenant app on it when its
	bench has the app and the site not yet; safe to run again (it re-pushes the config)."""
	site = frappe.get_doc("Site", site_name)
	if site.status != "Active":
		frappe.throw(
			f"Single sign-on can be switched on for an active site only; {site.name} is {site.status}."
		)
	if not plan_allows_sso(site.plan):
		frappe.throw(
			f"The plan {site.plan or '(none)'} of {site.name} does not include single sign-on.",
			frappe.PermissionError,
		)
	_refuse_while_a_config_push_is_on_its_way(site.name)
	has_app = any(row.app == TENANT_APP for row in site.apps)
	if not has_app and not frappe.db.exists("Release Group App", {"parent": site.group, "app": TENANT_APP}):
		frappe.throw(
			f"The bench group {site.group} of {site.name} lacks the app {TENANT_APP}, which serves the "
			"login on the site: deploy the bench image that carries it (docs/single-sign-on.md, Tenant sites)."
		)
	settings = _keycloak_settings()
	admin = _admin(settings)
	realm = settings.keycloak_realm or "cloud"
	origin = f"https://{site.name}"
	client = ensure_site_client(admin, realm, site.name, origin=origin)
	owner_granted = _grant_owner(admin, realm, site)
	site.update_site_config({SITE_CONFIG_KEY: site_config(settings.keycloak_url, realm, client, origin)})
	if not has_app:
		site.install_app(TENANT_APP)  # Press's own "Install App on Site" Agent job
	frappe.db.set_value("Site", site.name, SITE_FIELD, 1, update_modified=False)
	return {
		"site": site.name,
		"enabled": True,
		"client_id": client.client_id,
		"owner_granted": owner_granted,
		"installing_app": not has_app,
	}


def disable(site_name: str) -> dict:
	"""Switch SSO off: the config leaves the site, then its client leaves Keycloak."""
	site = frappe.get_doc("Site", site_name)
	_refuse_while_a_config_push_is_on_its_way(site.name)
	if any(row.key == SITE_CONFIG_KEY for row in site.configuration):
		_remove_config_key(site)
	settings = _keycloak_settings()
	remove_site_client(_admin(settings), settings.keycloak_realm or "cloud", site.name)
	frappe.db.set_value("Site", site.name, SITE_FIELD, 0, update_modified=False)
	return {"site": site.name, "enabled": False}


def on_agent_job_insert(job, method=None) -> None:
	"""doc_events Agent Job after_insert: Press's Site.archive sends "Archive Site"; the site's client
	goes with it. A Keycloak failure must not stop the archive, so it is logged for the admin."""
	if job.job_type != "Archive Site" or not job.site:
		return
	if not frappe.db.get_value("Site", job.site, SITE_FIELD):
		return
	settings = frappe.get_cached_doc("Selfhost Settings")
	try:
		remove_site_client(_admin(settings), settings.keycloak_realm or "cloud", job.site)
	except ServiceError as error:
		frappe.log_error(
			"Keycloak client of an archived site not removed",
			f"{job.site}: {error}. Delete client site-{job.site} in realm {settings.keycloak_realm} by hand.",
			reference_doctype="Site",
			reference_name=job.site,
		)
		return
	frappe.db.set_value("Site", job.site, SITE_FIELD, 0, update_modified=False)


def _refuse_while_a_config_push_is_on_its_way(site_name: str) -> None:
	"""Press folds a config push into the site's one still on its way (Agent.create_agent_job's
	deduplication), and that one carries the config of its own time: a switch right after another
	would change Keycloak and never reach the site."""
	if frappe.db.get_single_value("Press Settings", "disable_agent_job_deduplication"):
		return
	job = frappe.db.get_value(
		"Agent Job",
		{
			"site": site_name,
			"job_type": "Update Site Configuration",
			"status": ("not in", ("Success", "Failure", "Delivery Failure")),
		},
	)
	if job:
		frappe.throw(
			f"A configuration change of {site_name} is still on its way to the site (Agent Job {job}); "
			"switch single sign-on once it is done."
		)


def _remove_config_key(site) -> None:
	"""What Site.update_site_config does, minus its list form: that one keeps every internal key
	(ours is internal, so the dashboard never shows the client secret) and so could not drop it."""
	from press.agent import Agent

	site.set("configuration", [row for row in site.configuration if row.key != SITE_CONFIG_KEY])
	site.save()  # Site.validate records the key in _keys_removed_in_last_update
	Agent(site.server).update_site_config(site)


def _grant_owner(admin, realm: str, site) -> bool:
	"""The team owner's Keycloak account (known once they logged in with it) gets System Manager."""
	owner = frappe.db.get_value("Team", site.team, "user")
	subject = frappe.db.get_value("Keycloak Identity", {"user": owner}, "subject") if owner else None
	if not subject:
		return False
	grant_site_role(admin, realm, site.name, subject, OWNER_ROLE)
	return True


def _keycloak_settings():
	settings = frappe.get_cached_doc("Selfhost Settings")
	if not (settings.keycloak_url and settings.keycloak_admin_username):
		frappe.throw("Keycloak is not configured: fill the Keycloak section of Selfhost Settings.")
	return settings
