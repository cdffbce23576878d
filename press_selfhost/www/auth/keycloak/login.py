"""GET /auth/keycloak/login?redirect_to=/dashboard/...&provider=google: start a Keycloak login (302)."""

import frappe

from press_selfhost.errors import ConfigurationError, ServiceError
from press_selfhost.identity.dashboard_login import redirect, start_login

no_cache = 1


def get_context(context):
	try:
		url = start_login(frappe.form_dict.get("redirect_to"), frappe.form_dict.get("provider"))
	except (ConfigurationError, ServiceError) as error:
		frappe.log_error("Keycloak login could not start", str(error))
		context.http_status_code = 503
		context.message = "Single sign-on is not available right now. Please try again in a few minutes."
		return context
	redirect(url)
