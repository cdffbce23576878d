"""Each tenant site's own Keycloak client: confidential, redirecting to that site only, with client
roles that become Frappe roles on the site (single sign-on into customer sites). Framework-free."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from press_selfhost.errors import ConfigurationError, ServiceRejectedError
from press_selfhost.identity.keycloak_admin import (
	SERVICE,
	KeycloakAdmin,
	confidential_client,
	differs,
	ensure_client,
	find_client,
)


@dataclass(frozen=True)
class SiteClient:
	client_id: str
	secret: str = field(repr=False)


# Client roles a new site client offers: named like the Frappe roles they become on the site.
DEFAULT_SITE_ROLES = ("System Manager",)
SITE_ROLES_MAPPER = "site roles in ID token"
# The routes of the tenant app (tenant/press_selfhost_tenant/www/auth/keycloak/) on every site.
SITE_CALLBACK_PATH = "/auth/keycloak/callback"
SITE_BACKCHANNEL_LOGOUT_PATH = "/auth/keycloak/backchannel_logout"


def ensure_site_client(
	admin: KeycloakAdmin,
	realm: str,
	site_host: str,
	roles: Sequence[str] = DEFAULT_SITE_ROLES,
	origin: str | None = None,
) -> SiteClient:
	"""The confidential client of one tenant site, allowed to redirect to that site only, with its
	client roles and a mapper that puts them into the ID token (Keycloak puts them in access tokens only).
	`origin` is the site's URL as browsers reach it (default https://<site_host>)."""
	client_id = site_client_id(site_host)
	origin = (origin or f"https://{site_host}").rstrip("/")
	existing = find_client(admin, realm, client_id)
	secret = secrets.token_urlsafe(32) if existing is None else _client_secret(admin, realm, existing["id"])
	desired = confidential_client(
		client_id,
		secret,
		name=f"Site {site_host}",
		redirect_uris=(f"{origin}{SITE_CALLBACK_PATH}",),
		post_logout_redirect_uris=(f"{origin}/",),
		web_origins=(origin,),
		backchannel_logout_url=f"{origin}{SITE_BACKCHANNEL_LOGOUT_PATH}",
	)
	ensure_client(admin, realm, desired, write_secrets=False)
	client_uuid = find_client(admin, realm, client_id)["id"]
	_ensure_protocol_mapper(admin, realm, client_uuid, _site_roles_mapper(client_id))
	for role in roles:
		roles_path = f"/{quote(realm)}/clients/{client_uuid}/roles"
		if admin.get(f"{roles_path}/{quote(role)}") is None:
			admin.create(roles_path, {"name": role, "description": f"Frappe role '{role}' on {site_host}"})
	return SiteClient(client_id, secret)


def grant_site_role(admin: KeycloakAdmin, realm: str, site_host: str, user_id: str, role: str) -> None:
	"""Give Keycloak user `user_id` (the `sub` of its tokens) client role `role` of the site's client."""
	client = find_client(admin, realm, site_client_id(site_host))
	if client is None:
		raise ConfigurationError(f"Keycloak: site {site_host} has no client yet; switch its SSO on first.")
	role_representation = admin.get(f"/{quote(realm)}/clients/{client['id']}/roles/{quote(role)}")
	if role_representation is None:
		raise ConfigurationError(f"Keycloak: the client of {site_host} has no role '{role}'.")
	admin.create(
		f"/{quote(realm)}/users/{quote(user_id)}/role-mappings/clients/{client['id']}",
		[{"id": role_representation["id"], "name": role_representation["name"]}],
	)


def remove_site_client(admin: KeycloakAdmin, realm: str, site_host: str) -> bool:
	"""Delete the site's client (its users can no longer log in to it); False if it was already gone."""
	existing = find_client(admin, realm, site_client_id(site_host))
	return existing is not None and admin.delete(f"/{quote(realm)}/clients/{existing['id']}")


def site_client_id(site_host: str) -> str:
	return f"site-{site_host.lower()}"


def _site_roles_mapper(client_id: str) -> dict:
	"""Keycloak's own client-role mapper, limited to this client and written into the ID token, so the
	site reads roles from the one token it verifies for its own audience."""
	return {
		"name": SITE_ROLES_MAPPER,
		"protocol": "openid-connect",
		"protocolMapper": "oidc-usermodel-client-role-mapper",
		"config": {
			"usermodel.clientRoleMapping.clientId": client_id,
			"claim.name": "resource_access.${client_id}.roles",
			"jsonType.label": "String",
			"multivalued": "true",
			"id.token.claim": "true",
			"access.token.claim": "true",
			"userinfo.token.claim": "false",
		},
	}


def _ensure_protocol_mapper(admin: KeycloakAdmin, realm: str, client_uuid: str, desired: dict) -> None:
	models = f"/{quote(realm)}/clients/{client_uuid}/protocol-mappers/models"
	current = next((m for m in admin.get(models) or [] if m.get("name") == desired["name"]), None)
	if current is None:
		admin.create(models, desired)
	elif differs(desired, current):
		admin.update(f"{models}/{current['id']}", {**current, **desired})


def _client_secret(admin: KeycloakAdmin, realm: str, client_uuid: str) -> str:
	answer = admin.get(f"/{quote(realm)}/clients/{client_uuid}/client-secret")
	if not answer or not answer.get("value"):
		raise ServiceRejectedError(SERVICE, "Keycloak returned no secret for a confidential site client")
	return answer["value"]
