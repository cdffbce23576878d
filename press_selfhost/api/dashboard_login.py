"""Press's dashboard login page, led to our verified Keycloak login without patching Press.

The dashboard (dashboard/src2/pages/LoginSignup.vue) shows "Log in with <provider_name>" in place of
the password field when the typed e-mail's domain is among `signup_settings().oauth_domains`, and
then sends the browser to whatever `press.api.oauth.oauth_authorize_url` returns; its "Google"
button goes to what `press.api.google.login` returns. hooks.py points these three methods here
(override_whitelisted_methods): our entries carry our provider key, whose URL is /auth/keycloak/login,
never Frappe's Social Login Key callback. Everything else is passed on to Press unchanged.
"""

import frappe
from frappe.utils import get_url

from press_selfhost.errors import ConfigurationError
from press_selfhost.identity.dashboard_login import DEFAULT_DISPLAY_NAME, LOGIN_PATH
from press_selfhost.identity.rules import DASHBOARD_PROVIDER, dashboard_oauth_domains, login_domains


@frappe.whitelist(allow_guest=True)
def signup_settings(**kwargs):
	"""Press's signup settings, with "Log in with <realm display name>" for keycloak_login_domains."""
	from press.api.account import signup_settings as press_signup_settings

	data = frappe.call(press_signup_settings, **kwargs)
	settings = frappe.get_cached_doc("Selfhost Settings")
	if not _keycloak_configured(settings):
		return data
	try:
		domains = login_domains(settings.get("keycloak_login_domains"))
	except ConfigurationError as error:  # saved before validation existed: keep the page working
		frappe.log_error("Keycloak login domains ignored", str(error))
		return data
	data["oauth_domains"] = dashboard_oauth_domains(
		data.get("oauth_domains") or [],
		domains,
		settings.get("keycloak_display_name") or DEFAULT_DISPLAY_NAME,
	)
	return data


@frappe.whitelist(allow_guest=True)
def oauth_authorize_url(provider=None, **kwargs):
	"""Our login route for our provider key; Press's (Frappe's Social Login Key) for any other."""
	if provider == DASHBOARD_PROVIDER:
		return get_url(LOGIN_PATH)
	from press.api.oauth import oauth_authorize_url as press_oauth_authorize_url

	return frappe.call(press_oauth_authorize_url, provider=provider, **kwargs)


@frappe.whitelist(allow_guest=True)
def google_login(**kwargs):
	"""The dashboard's "Google" button: Google through Keycloak's broker when the realm offers it,
	verified by our callback; otherwise Press's own Google login (configured in Press)."""
	settings = frappe.get_cached_doc("Selfhost Settings")
	if _keycloak_configured(settings) and settings.get("keycloak_google_client_id"):
		return get_url(f"{LOGIN_PATH}?provider=google")
	from press.api.google import login as press_google_login

	return frappe.call(press_google_login, **kwargs)


def _keycloak_configured(settings) -> bool:
	return bool(settings.keycloak_url and settings.keycloak_realm and settings.keycloak_client_id)
