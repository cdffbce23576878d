"""GET /auth/keycloak/login?redirect_to=/app/...: start a Keycloak login for this site (302)."""

import frappe

from press_selfhost.errors import ConfigurationError, ServiceError
from press_selfhost_tenant.sso import redirect, start_login

no_cache = 1


def get_context(context):
	try:
		url = start_login(frappe.form_dict.get("redirect_to"))
	except (ConfigurationError, ServiceError) as error:
		frappe.log_error("Keycloak login could not start", str(error))
		context.http_status_code = 503
		context.message = "Single sign-on is not available on this site right now."
		return context
	redirect(url)
