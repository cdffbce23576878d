"""The doctor's checks of identity: the realm's OpenID discovery and the dashboard's Keycloak client.
Framework-free."""

from collections.abc import Mapping
from urllib.parse import quote

import requests

from press_selfhost.errors import ConfigurationError
from press_selfhost.identity.keycloak_admin import AdminCredentials, KeycloakAdmin
from press_selfhost.setup.health import Check, CheckFailed, dashboard_host

KEYCLOAK_CALLBACK_PATH = "/auth/keycloak/callback"  # dashboard_login.CALLBACK_PATH (that module needs frappe)
KEYCLOAK_BOOTSTRAP_FIX = (
	"Run: bench --site <site> execute press_selfhost.identity.dashboard_login.bootstrap_realm"
)


def oidc_discovery_check(keycloak_url: str, realm: str, *, timeout: float = 5.0) -> Check:
	"""The dashboard's login goes through the realm's OpenID Connect endpoints."""
	url = f"{keycloak_url.rstrip('/')}/realms/{realm}/.well-known/openid-configuration"

	def probe() -> str:
		try:
			response = requests.get(url, timeout=timeout)
		except requests.RequestException as error:
			raise CheckFailed(
				f"{url} is unreachable ({type(error).__name__})",
				"Start Keycloak and check keycloak_url in Selfhost Settings.",
			) from None
		if response.status_code == 404:
			raise CheckFailed(
				f"Keycloak has no realm '{realm}' (HTTP 404)",
				"Create the realm or correct keycloak_realm in Selfhost Settings.",
			)
		if response.status_code != 200:
			raise CheckFailed(
				f"{url} answered HTTP {response.status_code}",
				"Check Keycloak's logs; the discovery document must be public.",
			)
		try:
			document = response.json()
		except ValueError:
			document = None
		missing = [
			key
			for key in ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint")
			if not isinstance(document, Mapping) or not document.get(key)
		]
		if missing:
			raise CheckFailed(
				f"{url} is not an OpenID discovery document (missing {', '.join(missing)})",
				"Point keycloak_url at Keycloak itself, not at a proxy page.",
			)
		return f"realm '{realm}' publishes its OpenID endpoints (issuer {document['issuer']})"

	return Check("Keycloak realm discovery", probe, timeout=timeout * 2)


def keycloak_client_check(
	credentials: AdminCredentials, realm: str, client_id: str, callback_url: str
) -> Check:
	"""Keycloak sends the browser back only to a redirect URI registered on the dashboard's client,
	so a missing client or URI breaks every login; read through the admin API, nothing is changed."""

	def probe() -> str:
		try:
			found = KeycloakAdmin(credentials).get(f"/{quote(realm)}/clients?clientId={quote(client_id)}")
		except ConfigurationError as error:
			raise CheckFailed(
				str(error), "Check keycloak_admin_username and keycloak_admin_password."
			) from None
		if found is None:
			raise CheckFailed(f"Keycloak has no realm '{realm}'", KEYCLOAK_BOOTSTRAP_FIX)
		client = next((c for c in found if c.get("clientId") == client_id), None)
		if client is None:
			raise CheckFailed(f"realm '{realm}' has no client '{client_id}'", KEYCLOAK_BOOTSTRAP_FIX)
		problems = []
		if client.get("enabled") is False:
			problems.append("is disabled")
		if client.get("publicClient"):
			problems.append("is public, not confidential")
		if not _redirect_allowed(callback_url, client.get("redirectUris") or []):
			problems.append(f"does not allow the redirect URI {callback_url}")
		if problems:
			raise CheckFailed(f"client '{client_id}' {' and '.join(problems)}", KEYCLOAK_BOOTSTRAP_FIX)
		return f"client '{client_id}' of realm '{realm}' redirects to {callback_url}"

	return Check(
		"Keycloak dashboard client",
		probe,
		timeout=credentials.timeout * 3,
		fix_on_error="Start Keycloak and check keycloak_url in Selfhost Settings.",
	)


def _redirect_allowed(url: str, registered: list[str]) -> bool:
	"""Keycloak's own rule: an exact URI, or one ending in '*' that matches as a prefix."""
	return any(url == uri or (uri.endswith("*") and url.startswith(uri[:-1])) for uri in registered)


def dashboard_callback_url(domain: str) -> str:
	"""Where Keycloak sends the browser back after a dashboard login."""
	return f"https://{dashboard_host(domain)}{KEYCLOAK_CALLBACK_PATH}"
