"""GET /site-progress?site=<name>: a customer watches its new site from "waiting for payment" to "ready".

The page polls press.api.selfhost_sites.progress (the only /api/ path Press's auth hook lets a Website
User reach for it) every few seconds until the site is ready or needs the customer: pay, retry, open.
Lago's checkout can send the customer back here (its success URL: https://<cloud>/site-progress); with
no site named, the page shows the team's latest.
"""

import frappe

from press_selfhost.identity.dashboard_login import redirect
from press_selfhost.setup.branding import platform_name

no_cache = 1


def get_context(context):
	if frappe.session.user == "Guest":
		redirect("/dashboard/login")  # its login does not send the customer back here: open the link again
	frappe.sessions.get_csrf_token()  # the Pay and Retry buttons POST; Frappe puts the token in the page
	frappe.db.commit()  # as Press's dashboard does: the session now holds the token
	context.no_breadcrumbs = 1
	context.title = platform_name() or "Your site"
	context.site = frappe.form_dict.get("site") or ""
