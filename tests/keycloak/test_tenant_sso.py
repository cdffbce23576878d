"""SSO into tenant sites: role mapping, the site's config, and the tenant callback's flow against a real
OpenID provider with two site clients. The key property: a site only accepts what was issued to its
own client, so neither a code nor a token nor the roles of another site open it."""

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from press_selfhost.errors import AuthenticationError, ConfigurationError
from press_selfhost.identity.keycloak import Identity, KeycloakLogin, LoginRequest, client_roles
from press_selfhost.identity.rules import LoginOutcome
from press_selfhost.identity.site_clients import SiteClient, site_client_id
from press_selfhost.identity.tenant_login import (
	AUTOMATIC_ROLES,
	SITE_CONFIG_KEY,
	decide_tenant_login,
	map_client_roles,
	read_site_config,
	role_changes,
	site_config,
)
from tests.support.oidc_provider import OIDCProvider
from tests.support.processes import MissingBinaryError

SITE_A, SITE_B = "a.example.test", "b.example.test"
CLIENT_A, CLIENT_B = site_client_id(SITE_A), site_client_id(SITE_B)
CALLBACK_A = f"http://{SITE_A}/auth/keycloak/callback"
CALLBACK_B = f"http://{SITE_B}/auth/keycloak/callback"
# name → desk access, as the tenant app reads them from the site's Role records
SITE_ROLES = {
	"System Manager": True,
	"Accounts User": True,
	"Customer": False,
	"Administrator": True,
	"Guest": False,
	"All": False,
	"Desk User": False,
}


def site_client(client_id, callback):
	return {
		"client_id": client_id,
		"client_secret": f"{client_id}-secret",
		"redirect_uris": [callback],
		"grant_types": ["authorization_code", "refresh_token"],
		"token_endpoint_auth_method": "client_secret_post",
	}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
	def roles(**by_client):
		return {client: {"roles": names} for client, names in by_client.items()}

	provider = OIDCProvider(
		tmp_path_factory.mktemp("oidc-tenant"),
		clients=[site_client(CLIENT_A, CALLBACK_A), site_client(CLIENT_B, CALLBACK_B)],
		accounts=[
			{
				"sub": "owner-sub",
				"email": "owner@example.test",
				"email_verified": True,
				"given_name": "Olga",
				"resource_access": {
					**roles(**{CLIENT_A: ["system-manager", "Accounts User", "no-such-role"]}),
					**roles(**{CLIENT_B: ["Customer"]}),
				},
			},
			{
				"sub": "customer-sub",
				"email": "customer@example.test",
				"email_verified": True,
				"resource_access": roles(**{CLIENT_A: ["Customer"]}),
			},
			{
				"sub": "b-only-sub",
				"email": "b-only@example.test",
				"email_verified": True,
				"resource_access": roles(**{CLIENT_B: ["System Manager"]}),
			},
			{
				"sub": "unverified-sub",
				"email": "owner@example.test",
				"email_verified": False,
				"resource_access": roles(**{CLIENT_A: ["System Manager"]}),
			},
		],
	)
	try:
		provider.start()
	except MissingBinaryError as error:
		pytest.fail(str(error), pytrace=False)
	yield provider
	provider.stop()


def login_for(provider, client_id):
	"""The tenant app's relying party, built the way it builds it: from the config Press pushed."""
	site = SITE_A if client_id == CLIENT_A else SITE_B
	config = site_config(
		provider.server_url, "cloud", SiteClient(client_id, f"{client_id}-secret"), f"http://{site}"
	)
	return KeycloakLogin(read_site_config(config).client)


def log_in(provider, login, callback, account):
	request = login.start_login(callback, login_hint=account)
	url = provider.browse_to_callback(requests.Session(), request.url, callback)
	return request, {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def identity(roles=(), email_verified=True):
	return Identity(
		subject="s",
		email="x@example.test",
		email_verified=email_verified,
		name=None,
		given_name=None,
		family_name=None,
		username=None,
		session_id=None,
		client_roles=tuple(roles),
	)


# -- role mapping ----------------------------------------------------------------------------------
def test_client_roles_map_onto_the_sites_roles_by_name():
	mapped = map_client_roles(["system-manager", "accounts_user", "Customer", "Nope"], SITE_ROLES)
	assert mapped.roles == {"System Manager", "Accounts User", "Customer"}
	assert mapped.user_type == "System User" and mapped.unknown == ("Nope",)


def test_roles_without_desk_access_make_a_website_user():
	assert map_client_roles(["customer"], SITE_ROLES).user_type == "Website User"
	assert map_client_roles([], SITE_ROLES).roles == frozenset()


def test_automatic_roles_are_never_granted_from_keycloak():
	mapped = map_client_roles(["Administrator", "administrator", "Guest", "All", "desk-user"], SITE_ROLES)
	assert mapped.roles == frozenset() and len(mapped.unknown) == 5


@given(st.lists(st.sampled_from([*SITE_ROLES, "system-manager", "ADMINISTRATOR", "x", "all"])))
def test_mapped_roles_always_exist_on_the_site_and_are_never_automatic(keycloak_roles):
	mapped = map_client_roles(keycloak_roles, SITE_ROLES)
	assert mapped.roles <= set(SITE_ROLES) - AUTOMATIC_ROLES
	assert len(mapped.roles) + len(mapped.unknown) <= len(keycloak_roles)


def test_roles_taken_away_in_keycloak_are_removed_and_automatic_ones_kept():
	wanted = map_client_roles(["Customer", "Accounts User"], SITE_ROLES)
	add, remove = role_changes(["System Manager", "Customer", "All", "Desk User"], wanted)
	assert add == ["Accounts User"] and remove == ["System Manager"]
	assert role_changes(["Customer", "Accounts User", "Guest"], wanted) == ([], [])


def test_client_roles_are_read_for_the_own_client_only():
	claims = {"resource_access": {CLIENT_A: {"roles": ["a", "a", 3]}, CLIENT_B: {"roles": ["b"]}}}
	assert client_roles(claims, CLIENT_A) == ("a",)
	assert client_roles(claims, "site-c") == ()
	assert client_roles({"resource_access": {CLIENT_A: {"roles": "a"}}}, CLIENT_A) == ()
	assert client_roles({"resource_access": ["x"]}, CLIENT_A) == ()


# -- the site's config -----------------------------------------------------------------------------
def test_site_config_round_trips_into_the_sites_client():
	config = site_config(
		"https://auth.example.com/", "cloud", SiteClient(CLIENT_A, "s3cret"), f"https://{SITE_A}/"
	)
	assert config == {
		"server_url": "https://auth.example.com",
		"realm": "cloud",
		"client_id": CLIENT_A,
		"client_secret": "s3cret",
		"site_url": f"https://{SITE_A}",
	}
	tenant = read_site_config(config)
	assert tenant.client.issuer == "https://auth.example.com/realms/cloud"
	assert tenant.client.client_id == CLIENT_A and "s3cret" not in repr(tenant)
	assert tenant.callback_url == f"https://{SITE_A}/auth/keycloak/callback"
	assert tenant.logged_out_url == f"https://{SITE_A}/"


@pytest.mark.parametrize(
	("config", "message"),
	[
		(None, "not switched on"),
		({}, "not switched on"),
		("x", "not switched on"),
		(
			{"server_url": "https://k", "realm": "cloud", "client_id": CLIENT_A, "site_url": "https://a"},
			"client_secret",
		),
		(
			{
				"server_url": "",
				"realm": "cloud",
				"client_id": 1,
				"client_secret": "s",
				"site_url": "https://a",
			},
			"server_url, client_id",
		),
	],
)
def test_incomplete_site_config_is_refused(config, message):
	with pytest.raises(ConfigurationError, match=message) as refused:
		read_site_config(config)
	assert SITE_CONFIG_KEY in str(refused.value)


# -- login decisions -------------------------------------------------------------------------------
def test_a_user_without_a_role_on_the_site_is_refused():
	with pytest.raises(AuthenticationError, match=r"no role on this site.*unknown roles: Nope"):
		decide_tenant_login(identity(["Nope"]), None, None, SITE_ROLES)
	with pytest.raises(AuthenticationError, match="no role on this site"):
		decide_tenant_login(identity([]), "known@example.test", None, SITE_ROLES)


def test_linked_users_log_in_by_subject_and_administrator_never():
	login = decide_tenant_login(identity(["Customer"], email_verified=False), "k@x.test", None, SITE_ROLES)
	assert login.decision.outcome is LoginOutcome.KNOWN and login.decision.user == "k@x.test"
	with pytest.raises(AuthenticationError, match="Administrator"):
		decide_tenant_login(identity(["Customer"]), "Administrator", None, SITE_ROLES)


# -- the tenant callback's flow against the real provider ------------------------------------------
def test_first_login_on_a_site_gives_its_roles_from_its_own_client(provider):
	login = login_for(provider, CLIENT_A)
	request, callback = log_in(provider, login, CALLBACK_A, "owner-sub")
	tokens = login.finish_login(request, callback)

	assert tokens.identity.client_roles == ("system-manager", "Accounts User", "no-such-role")
	decided = decide_tenant_login(tokens.identity, None, None, SITE_ROLES)
	assert decided.decision.outcome is LoginOutcome.CREATE
	assert decided.decision.user == "owner@example.test"
	assert decided.roles.roles == {"System Manager", "Accounts User"}
	assert decided.roles.user_type == "System User"

	# The same person on site B gets B's roles only.
	login_b = login_for(provider, CLIENT_B)
	request, callback = log_in(provider, login_b, CALLBACK_B, "owner-sub")
	on_b = login_b.finish_login(request, callback).identity
	assert decide_tenant_login(on_b, None, None, SITE_ROLES).roles.roles == {"Customer"}


def test_a_customer_role_makes_a_website_user(provider):
	login = login_for(provider, CLIENT_A)
	request, callback = log_in(provider, login, CALLBACK_A, "customer-sub")
	decided = decide_tenant_login(login.finish_login(request, callback).identity, None, None, SITE_ROLES)
	assert decided.roles.user_type == "Website User" and decided.roles.roles == {"Customer"}


def test_an_account_with_roles_on_another_site_only_is_refused(provider):
	login = login_for(provider, CLIENT_A)
	request, callback = log_in(provider, login, CALLBACK_A, "b-only-sub")
	tokens = login.finish_login(request, callback)
	assert tokens.identity.client_roles == ()
	with pytest.raises(AuthenticationError, match="no role on this site"):
		decide_tenant_login(tokens.identity, None, None, SITE_ROLES)


def test_wrong_state_is_refused(provider):
	login = login_for(provider, CLIENT_A)
	request, callback = log_in(provider, login, CALLBACK_A, "owner-sub")
	with pytest.raises(AuthenticationError, match="state"):
		login.finish_login(request, {**callback, "state": "someone-elses"})


def test_unverified_email_is_refused_even_with_a_role(provider):
	login = login_for(provider, CLIENT_A)
	request, callback = log_in(provider, login, CALLBACK_A, "unverified-sub")
	tokens = login.finish_login(request, callback)
	with pytest.raises(AuthenticationError, match="not verified"):
		decide_tenant_login(tokens.identity, None, "owner@example.test", SITE_ROLES)


def test_a_code_issued_to_another_sites_client_is_refused(provider):
	"""An attacker logs in to site B and feeds B's code to site A's callback, in a login A started."""
	login_a, login_b = login_for(provider, CLIENT_A), login_for(provider, CLIENT_B)
	_, callback_b = log_in(provider, login_b, CALLBACK_B, "owner-sub")
	started_on_a = login_a.start_login(CALLBACK_A)
	with pytest.raises(AuthenticationError, match="refused the code"):
		login_a.finish_login(started_on_a, {**callback_b, "state": started_on_a.state})


def test_an_id_token_of_another_sites_client_is_refused(provider):
	login_a, login_b = login_for(provider, CLIENT_A), login_for(provider, CLIENT_B)
	request, callback = log_in(provider, login_b, CALLBACK_B, "owner-sub")
	token_for_b = login_b.finish_login(request, callback).id_token
	with pytest.raises(AuthenticationError, match="another client"):
		login_a.verify_id_token(token_for_b, nonce=request.nonce)


def test_a_token_for_both_sites_but_issued_to_the_other_is_refused(provider):
	"""Signed with the realm's own key: only `azp` tells that site B's client asked for it."""
	now = int(time.time())
	token = jwt.encode(
		{
			"iss": provider.issuer,
			"aud": [CLIENT_A, CLIENT_B],
			"azp": CLIENT_B,
			"sub": "owner-sub",
			"iat": now,
			"exp": now + 300,
			"resource_access": {CLIENT_A: {"roles": ["System Manager"]}},
		},
		provider.signing_key,
		algorithm="RS256",
		headers={"kid": provider.kid},
	)
	with pytest.raises(AuthenticationError, match="azp"):
		login_for(provider, CLIENT_A).verify_id_token(token, nonce=None)


def test_a_login_started_for_another_sites_callback_is_refused_by_the_provider(provider):
	"""Site A's client cannot be made to send codes to site B: the provider only knows A's callback."""
	login_a = login_for(provider, CLIENT_A)
	request: LoginRequest = login_a.start_login(CALLBACK_B)
	answer = requests.get(request.url, allow_redirects=False, timeout=10)
	assert answer.status_code == 400 or CALLBACK_B not in answer.headers.get("Location", "")
