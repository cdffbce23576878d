"""Single sign-on into tenant sites, the rules that do not depend on Frappe.

Press switches SSO on for a site by creating the site's own client in realm `cloud` and writing
`site_config()` into the site's config; the tenant app (tenant/, installed on customer sites) reads
it back with `realm_client()` and logs users in with `decide_tenant_login()`. A user gets into a site
only with at least one client role of that site's client, so an account of realm `cloud` (every
customer of the platform has one) does not open every site that has SSO on.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from press_selfhost.errors import AuthenticationError, ConfigurationError
from press_selfhost.identity.keycloak import Identity, RealmClient
from press_selfhost.identity.rules import LoginDecision, decide_login
from press_selfhost.identity.site_clients import SITE_CALLBACK_PATH, SiteClient

SITE_CONFIG_KEY = "press_selfhost_sso"
CONFIG_FIELDS = ("server_url", "realm", "client_id", "client_secret", "site_url")
CALLBACK_PATH = SITE_CALLBACK_PATH
# Frappe gives these by itself (or never to a person): SSO neither grants nor removes them.
AUTOMATIC_ROLES = frozenset({"Administrator", "Guest", "All", "Desk User"})
SYSTEM_USER = "System User"
WEBSITE_USER = "Website User"


def site_config(server_url: str, realm: str, client: SiteClient, site_url: str) -> dict:
	"""The value of `press_selfhost_sso` in the site's site_config.json. `site_url` is the origin the
	client's redirect URI was registered with, so the site never builds it from a proxied request."""
	return {
		"server_url": server_url.rstrip("/"),
		"realm": realm,
		"client_id": client.client_id,
		"client_secret": client.secret,
		"site_url": site_url.rstrip("/"),
	}


@dataclass(frozen=True)
class TenantConfig:
	client: RealmClient
	site_url: str

	@property
	def callback_url(self) -> str:
		return f"{self.site_url}{CALLBACK_PATH}"

	@property
	def logged_out_url(self) -> str:
		return f"{self.site_url}/"


def read_site_config(config: object) -> TenantConfig:
	"""The site's Keycloak client from its `press_selfhost_sso` config; refuses an incomplete one."""
	if not isinstance(config, Mapping) or not config:
		raise ConfigurationError(
			f"Single sign-on is not switched on for this site (no '{SITE_CONFIG_KEY}' in site_config.json)."
		)
	missing = [name for name in CONFIG_FIELDS if not isinstance(config.get(name), str) or not config[name]]
	if missing:
		raise ConfigurationError(
			f"'{SITE_CONFIG_KEY}' in site_config.json lacks {', '.join(missing)}; switch SSO off and on in Press."
		)
	client = RealmClient(config["server_url"], config["realm"], config["client_id"], config["client_secret"])
	return TenantConfig(client, config["site_url"])


@dataclass(frozen=True)
class TenantRoles:
	"""The Frappe roles a user gets from their Keycloak client roles, and the user type they imply."""

	roles: frozenset[str]
	user_type: str
	unknown: tuple[str, ...] = ()  # Keycloak roles with no Frappe role of that name on the site


def map_client_roles(keycloak_roles: Iterable[str], site_roles: Mapping[str, bool]) -> TenantRoles:
	"""Keycloak client roles → the site's Frappe roles (`site_roles`: role name → desk access).

	A client role matches the Frappe role of the same name, or of the same words in another case or
	with - or _ for spaces ("system-manager" is "System Manager"). Automatic roles are never granted.
	"""
	by_key = {_role_key(name): name for name in site_roles if name not in AUTOMATIC_ROLES}
	roles, unknown = set(), []
	for keycloak_role in keycloak_roles:
		name = keycloak_role if keycloak_role in site_roles else by_key.get(_role_key(keycloak_role))
		if name is None or name in AUTOMATIC_ROLES:
			unknown.append(keycloak_role)
		else:
			roles.add(name)
	desk = any(site_roles[name] for name in roles)
	return TenantRoles(frozenset(roles), SYSTEM_USER if desk else WEBSITE_USER, tuple(unknown))


def role_changes(current_roles: Iterable[str], wanted: TenantRoles) -> tuple[list[str], list[str]]:
	"""(to add, to remove): Keycloak decides every role of an SSO user except the automatic ones, so a
	role taken away in Keycloak goes at the next login."""
	current = set(current_roles) - AUTOMATIC_ROLES
	return sorted(wanted.roles - current), sorted(current - wanted.roles)


@dataclass(frozen=True)
class TenantLogin:
	decision: LoginDecision
	roles: TenantRoles


def decide_tenant_login(
	identity: Identity,
	user_for_subject: str | None,
	user_for_email: str | None,
	site_roles: Mapping[str, bool],
) -> TenantLogin:
	"""Who `identity` logs in as on this site, and with which roles; refused without a role here."""
	decision = decide_login(identity, user_for_subject, user_for_email)
	if decision.user in ("Administrator", "Guest"):
		raise AuthenticationError(f"{decision.user} cannot log in through Keycloak")
	roles = map_client_roles(identity.client_roles, site_roles)
	if not roles.roles:
		raise AuthenticationError(
			f"{identity.email or identity.subject} has no role on this site in Keycloak"
			+ (f" (unknown roles: {', '.join(roles.unknown)})" if roles.unknown else "")
		)
	return TenantLogin(decision, roles)


def _role_key(name: str) -> str:
	return re.sub(r"[\s_-]+", " ", name).strip().casefold()
