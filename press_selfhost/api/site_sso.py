"""Single sign-on into a tenant site, switched on and off from the dashboard or the desk.

Only the site's own team (as Press resolves it for the request) or a System Manager may switch it or
see its state. Anyone else gets the answer a missing site gets, so no customer learns which site
names exist.
"""

import frappe

from press_selfhost.identity import site_sso


@frappe.whitelist(methods=["POST"])
def enable(site: str) -> dict:
	"""Switch single sign-on on for `site` (its plan must allow it)."""
	_check_permission(site)
	return site_sso.enable(site)


@frappe.whitelist(methods=["POST"])
def disable(site: str) -> dict:
	"""Switch single sign-on off for `site`."""
	_check_permission(site)
	return site_sso.disable(site)


@frappe.whitelist()
def status(site: str) -> dict:
	"""Whether SSO is on for `site` and whether its plan allows it (for the dashboard's switch)."""
	_check_permission(site)
	enabled, plan = frappe.db.get_value("Site", site, [site_sso.SITE_FIELD, "plan"])
	return {"site": site, "enabled": bool(enabled), "allowed": site_sso.plan_allows_sso(plan)}


def _check_permission(site: str) -> None:
	"""Refuse with "No site X." (404) when the caller may not see `site`, whether it exists or not."""
	if "System Manager" in frappe.get_roles():
		if not frappe.db.exists("Site", site):
			frappe.throw(f"No site {site}.", frappe.DoesNotExistError)
		return
	from press.utils import get_current_team

	team = get_current_team()
	if not team or not site or frappe.db.get_value("Site", site, "team") != team:
		frappe.throw(f"No site {site}.", frappe.DoesNotExistError)
