"""POST /auth/keycloak/backchannel_logout (guest): Keycloak's back-channel logout ends Frappe sessions."""

import frappe

from press_selfhost.errors import AuthenticationError, ServiceError
from press_selfhost.identity.dashboard_login import backchannel_logout

no_cache = 1


def get_context(context):
	if frappe.request.method != "POST":
		context.http_status_code = 405
		return context
	try:
		backchannel_logout(frappe.form_dict.get("logout_token") or "")
	except AuthenticationError as error:
		frappe.log_error("Keycloak back-channel logout refused", error.reason)
		context.http_status_code = 400
	except ServiceError as error:
		frappe.log_error("Keycloak back-channel logout failed", str(error))
		context.http_status_code = 503
	return context
