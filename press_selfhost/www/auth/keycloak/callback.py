"""GET /auth/keycloak/callback: Keycloak sends the browser back here; verify, log in, 302 onwards."""

import frappe

from press_selfhost.errors import AuthenticationError, ConfigurationError, ServiceError
from press_selfhost.identity.dashboard_login import finish_login, redirect

no_cache = 1


def get_context(context):
	try:
		next_url = finish_login(dict(frappe.form_dict))
	except AuthenticationError as error:
		frappe.db.rollback()
		frappe.log_error("Keycloak login refused", error.reason)
		context.http_status_code = 400
		context.message = "This login could not be completed. Please start again from the login page."
		return context
	except (ConfigurationError, ServiceError) as error:
		frappe.db.rollback()
		frappe.log_error("Keycloak login failed", str(error))
		context.http_status_code = 503
		context.message = "Single sign-on is not available right now. Please try again in a few minutes."
		return context
	redirect(next_url)
