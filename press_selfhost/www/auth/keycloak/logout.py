"""GET /auth/keycloak/logout: end the Frappe session, then 302 to Keycloak to end its session too."""

from press_selfhost.identity.dashboard_login import logout, redirect

no_cache = 1


def get_context(context):
	redirect(logout())
