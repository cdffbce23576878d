"""The platform's name (Selfhost Settings → Platform Name) where Press lets it be set, instead of Frappe's.

What can be renamed without patching Press: Frappe's own pages and mails (Website Settings and System
Settings `app_name`: /login, the desk, "Login to ..." mails), the dashboard's page title (the HTML of
/dashboard is rendered by Frappe, so `after_request` can rename it), this app's pages and mails.
What cannot: the words "Frappe Cloud" compiled into the dashboard's JavaScript (sign-up box, sidebar,
"Powered by"), which Frappe or nginx serve as static files, and the subject of Press's sign-up code mail
(AccountRequest.send_verification_email). docs/front-door.md lists them.
"""

import html

import frappe

DASHBOARD_TITLE = b"<title>Frappe Cloud</title>"


def platform_name() -> str:
	settings = frappe.get_cached_doc("Selfhost Settings")
	return settings.platform_name or (f"cloud.{settings.domain}" if settings.domain else "")


def apply_platform_name(settings) -> None:
	"""Selfhost Settings.on_update: Frappe's pages and mails carry the platform's name."""
	if not settings.platform_name:
		return
	for doctype in ("Website Settings", "System Settings"):
		if frappe.db.get_single_value(doctype, "app_name") != settings.platform_name:
			frappe.db.set_single_value(doctype, "app_name", settings.platform_name)


def rename_dashboard_title(response, request) -> None:
	"""after_request: the dashboard's HTML page (Press's built index.html) titled with the platform's name."""
	path = request.path
	if not (path == "/dashboard" or path.startswith("/dashboard/")):
		return
	if response.status_code != 200 or response.mimetype != "text/html" or response.direct_passthrough:
		return
	body = response.get_data()
	if DASHBOARD_TITLE not in body:
		return
	name = platform_name()
	if name:
		title = f"<title>{html.escape(name)}</title>".encode()
		response.set_data(body.replace(DASHBOARD_TITLE, title, 1))
