"""The idempotent bootstrap of realm `cloud` and per-site clients, against the admin-API stand-in."""

import dataclasses

import pytest

from press_selfhost.errors import ConfigurationError, ServiceUnavailableError
from press_selfhost.identity.keycloak_admin import (
	ADMIN_OTP_FLOW,
	POST_BROKER_FLOW,
	AdminCredentials,
	DashboardClient,
	IdentityProvider,
	KeycloakAdmin,
	RealmMail,
	RealmPolicy,
	TwoFactor,
	admin_otp_flow,
	end_user_session,
	ensure_realm,
)
from press_selfhost.identity.site_clients import ensure_site_client, grant_site_role, remove_site_client
from tests.standins.keycloak_admin import KeycloakAdminStandIn

DASHBOARD = DashboardClient(
	client_id="dashboard",
	secret="dashboard-secret",
	redirect_uris=("https://cloud.example.com/auth/keycloak/callback",),
	post_logout_redirect_uris=("https://cloud.example.com/dashboard/login",),
	web_origins=("https://cloud.example.com",),
	backchannel_logout_url="https://cloud.example.com/auth/keycloak/backchannel_logout",
)
POLICY = RealmPolicy(
	dashboard=DASHBOARD,
	identity_providers=(IdentityProvider("google", "google-client", "google-secret"),),
	mail=RealmMail("postal", 25, "noreply@example.com", "postal-user", "smtp-secret"),
)


@pytest.fixture(scope="module")
def keycloak_server():
	with KeycloakAdminStandIn() as stand_in:
		yield stand_in


@pytest.fixture
def keycloak(keycloak_server):
	keycloak_server.reset()
	return keycloak_server


@pytest.fixture
def admin(keycloak):
	return KeycloakAdmin(AdminCredentials(keycloak.url, keycloak.username, keycloak.password))


def test_first_run_creates_the_realm_as_the_policy_says(keycloak, admin):
	changes = ensure_realm(admin, POLICY)

	assert {(change.action, change.kind, change.name) for change in changes} == {
		("created", "realm", "cloud"),
		("created", "realm role", "press-admin"),
		("created", "realm role", "press-member"),
		("created", "client", "dashboard"),
		("created", "authentication flow", POST_BROKER_FLOW),
		("created", "identity provider", "google"),
	}
	realm = keycloak.realms["cloud"]["representation"]
	assert realm["bruteForceProtected"] is True and realm["verifyEmail"] is True
	assert realm["smtpServer"]["host"] == "postal" and realm["smtpServer"]["password"] == "smtp-secret"
	client = keycloak.client("cloud", "dashboard")
	assert client["publicClient"] is False and client["secret"] == "dashboard-secret"
	assert client["redirectUris"] == ["https://cloud.example.com/auth/keycloak/callback"]
	assert client["attributes"]["pkce.code.challenge.method"] == "S256"
	assert client["attributes"]["backchannel.logout.url"] == DASHBOARD.backchannel_logout_url
	assert client["attributes"]["backchannel.logout.session.required"] == "true"
	assert keycloak.stored_secret("cloud", "google") == "google-secret"
	otp = keycloak.realms["cloud"]["required_actions"]["CONFIGURE_TOTP"]
	assert otp["enabled"] is True and otp["defaultAction"] is False
	# OTP, for those who set one up, after a Google login too (Keycloak skips the browser flow then)
	assert keycloak.realms["cloud"]["idps"]["google"]["postBrokerLoginFlowAlias"] == POST_BROKER_FLOW
	assert keycloak.flow_rows("cloud", POST_BROKER_FLOW) == POST_BROKER_FLOWS[TwoFactor.OPTIONAL]


def test_second_run_only_reads(keycloak, admin):
	ensure_realm(admin, POLICY)
	written = len(keycloak.writes())

	assert ensure_realm(admin, POLICY) == []
	assert len(keycloak.writes()) == written
	assert keycloak.requests_to("GET", "/admin/realms/cloud")


def test_a_changed_setting_updates_only_that(keycloak, admin):
	ensure_realm(admin, POLICY)
	written = len(keycloak.writes())

	more_uris = dataclasses.replace(
		DASHBOARD, redirect_uris=(*DASHBOARD.redirect_uris, "https://cloud.example.com/other/callback")
	)
	changes = ensure_realm(admin, dataclasses.replace(POLICY, dashboard=more_uris))

	assert [(c.action, c.kind, c.name) for c in changes] == [("updated", "client", "dashboard")]
	new_writes = keycloak.writes()[written:]
	assert [(r.method, r.path) for r in new_writes] == [
		("PUT", f"/admin/realms/cloud/clients/{keycloak.client('cloud', 'dashboard')['id']}")
	]
	assert "secret" not in new_writes[0].json()  # not compared, so not rewritten either
	assert len(keycloak.client("cloud", "dashboard")["redirectUris"]) == 2


def test_two_factor_policy(keycloak, admin):
	ensure_realm(admin, POLICY)
	changes = ensure_realm(admin, dataclasses.replace(POLICY, two_factor=TwoFactor.REQUIRED))
	assert [(c.action, c.kind, c.name) for c in changes] == [
		("updated", "required action", "CONFIGURE_TOTP"),
		("updated", "identity provider", "google"),  # lets go of the flow, which Keycloak then deletes
		("deleted", "authentication flow", POST_BROKER_FLOW),
		("created", "authentication flow", POST_BROKER_FLOW),
		("updated", "identity provider", "google"),  # bound to the new one
	]
	otp = keycloak.realms["cloud"]["required_actions"]["CONFIGURE_TOTP"]
	assert otp["enabled"] is True and otp["defaultAction"] is True
	assert keycloak.flow_rows("cloud", POST_BROKER_FLOW) == POST_BROKER_FLOWS[TwoFactor.REQUIRED]

	ensure_realm(admin, dataclasses.replace(POLICY, two_factor=TwoFactor.OFF))
	assert keycloak.realms["cloud"]["required_actions"]["CONFIGURE_TOTP"]["enabled"] is False
	assert "postBrokerLoginFlowAlias" not in keycloak.realms["cloud"]["idps"]["google"]
	assert keycloak.flow("cloud", POST_BROKER_FLOW) is None


def browser_flow(keycloak):
	return keycloak.realms["cloud"]["representation"]["browserFlow"]


ADMINS_ONLY = dataclasses.replace(POLICY, two_factor=TwoFactor.ADMINS)
FORMS, ADMIN_OTP, OPTIONAL_OTP = (
	f"{ADMIN_OTP_FLOW}-{part}" for part in ("forms", "admin-otp", "optional-otp")
)
ADMINS_ONLY_FLOW = [
	(0, "auth-cookie", "ALTERNATIVE", None),
	(0, "identity-provider-redirector", "ALTERNATIVE", None),
	(0, FORMS, "ALTERNATIVE", None),
	(1, "auth-username-password-form", "REQUIRED", None),
	(1, ADMIN_OTP, "CONDITIONAL", None),
	(2, "conditional-user-role", "REQUIRED", {"condUserRole": "press-admin", "negate": "false"}),
	(2, "auth-otp-form", "REQUIRED", None),
	(1, OPTIONAL_OTP, "CONDITIONAL", None),
	(2, "conditional-user-configured", "REQUIRED", None),
	(2, "conditional-user-role", "REQUIRED", {"condUserRole": "press-admin", "negate": "true"}),
	(2, "auth-otp-form", "REQUIRED", None),
]

PB_ADMIN_OTP, PB_OPTIONAL_OTP = (f"{POST_BROKER_FLOW}-{part}" for part in ("admin-otp", "optional-otp"))
# The post-login flow of each identity provider, per keycloak_two_factor (none when OFF).
POST_BROKER_FLOWS = {
	TwoFactor.OPTIONAL: [
		(0, f"{POST_BROKER_FLOW}-otp", "CONDITIONAL", None),
		(1, "conditional-user-configured", "REQUIRED", None),
		(1, "auth-otp-form", "REQUIRED", None),
		(0, "allow-access-authenticator", "REQUIRED", None),  # the login succeeds when no OTP applies
	],
	TwoFactor.REQUIRED: [(0, "auth-otp-form", "REQUIRED", None)],
	TwoFactor.ADMINS: [
		(0, PB_ADMIN_OTP, "CONDITIONAL", None),
		(1, "conditional-user-role", "REQUIRED", {"condUserRole": "press-admin", "negate": "false"}),
		(1, "auth-otp-form", "REQUIRED", None),
		(0, PB_OPTIONAL_OTP, "CONDITIONAL", None),
		(1, "conditional-user-configured", "REQUIRED", None),
		(1, "conditional-user-role", "REQUIRED", {"condUserRole": "press-admin", "negate": "true"}),
		(1, "auth-otp-form", "REQUIRED", None),
		(0, "allow-access-authenticator", "REQUIRED", None),
	],
}


def test_two_factor_for_admins_only_binds_a_browser_flow_that_forces_otp_on_press_admins(keycloak, admin):
	changes = ensure_realm(admin, ADMINS_ONLY)

	assert [(c.action, c.kind, c.name) for c in changes if "flow" in c.kind] == [
		("created", "authentication flow", ADMIN_OTP_FLOW),
		("updated", "browser flow", ADMIN_OTP_FLOW),
		("created", "authentication flow", POST_BROKER_FLOW),
	]
	assert keycloak.flow_rows("cloud", ADMIN_OTP_FLOW) == ADMINS_ONLY_FLOW
	assert browser_flow(keycloak) == ADMIN_OTP_FLOW
	otp = keycloak.realms["cloud"]["required_actions"]["CONFIGURE_TOTP"]
	assert otp["enabled"] is True and otp["defaultAction"] is False  # others may still set OTP up


def test_two_factor_for_admins_only_is_idempotent(keycloak, admin):
	ensure_realm(admin, ADMINS_ONLY)
	written = len(keycloak.writes())

	assert ensure_realm(admin, ADMINS_ONLY) == []
	assert len(keycloak.writes()) == written


def test_a_changed_admins_only_flow_is_rebuilt(keycloak, admin):
	ensure_realm(admin, ADMINS_ONLY)
	# someone made the admins' OTP sub-flow optional in Keycloak's console
	subflow = next(
		e
		for e in keycloak.realms["cloud"]["executions"].values()
		if e.get("flowId") == keycloak.flow("cloud", ADMIN_OTP)["id"]
	)
	subflow["requirement"] = "DISABLED"

	changes = ensure_realm(admin, ADMINS_ONLY)

	assert [(c.action, c.name) for c in changes] == [
		("updated", "browser"),
		("deleted", ADMIN_OTP_FLOW),
		("created", ADMIN_OTP_FLOW),
		("updated", ADMIN_OTP_FLOW),
	]
	assert keycloak.flow_rows("cloud", ADMIN_OTP_FLOW) == ADMINS_ONLY_FLOW
	assert browser_flow(keycloak) == ADMIN_OTP_FLOW


def test_switching_two_factor_from_required_to_admins_only_to_off_cleans_up(keycloak, admin):
	ensure_realm(admin, dataclasses.replace(POLICY, two_factor=TwoFactor.REQUIRED))
	assert browser_flow(keycloak) == "browser" and keycloak.flow("cloud", ADMIN_OTP_FLOW) is None

	ensure_realm(admin, ADMINS_ONLY)
	otp = keycloak.realms["cloud"]["required_actions"]["CONFIGURE_TOTP"]
	assert otp["defaultAction"] is False and browser_flow(keycloak) == ADMIN_OTP_FLOW

	changes = ensure_realm(admin, dataclasses.replace(POLICY, two_factor=TwoFactor.OFF))

	assert [(c.action, c.kind, c.name) for c in changes] == [
		("updated", "required action", "CONFIGURE_TOTP"),
		("updated", "browser flow", "browser"),
		("deleted", "authentication flow", ADMIN_OTP_FLOW),
		("updated", "identity provider", "google"),
		("deleted", "authentication flow", POST_BROKER_FLOW),
	]
	assert browser_flow(keycloak) == "browser"
	assert keycloak.realms["cloud"]["required_actions"]["CONFIGURE_TOTP"]["enabled"] is False
	state = keycloak.realms["cloud"]
	assert not [f for f in state["flows"].values() if f["alias"].startswith("press-selfhost-")]
	assert not state["executions"] and not state["configs"]  # sub-flows and their configs went too


def test_admin_otp_flow_names_the_role_it_is_given():
	steps = admin_otp_flow("ops")
	configs = [dict(s.config) for step in steps for sub in step.steps for s in sub.steps if s.config]
	assert configs == [{"condUserRole": "ops", "negate": "false"}, {"condUserRole": "ops", "negate": "true"}]


BOTH_PROVIDERS = (
	IdentityProvider("google", "google-client", "google-secret"),
	IdentityProvider("github", "github-client", "github-secret"),
)


def assert_two_factor_state(keycloak, two_factor):
	"""The realm as `two_factor` wants it: the browser flow, and each IdP's post-login flow."""
	state = keycloak.realms["cloud"]
	assert browser_flow(keycloak) == (ADMIN_OTP_FLOW if two_factor is TwoFactor.ADMINS else "browser")
	bound = {alias: idp.get("postBrokerLoginFlowAlias") for alias, idp in state["idps"].items()}
	if two_factor is TwoFactor.OFF:
		assert bound == dict.fromkeys(state["idps"])
		assert not [f for f in state["flows"].values() if f["alias"].startswith("press-selfhost-")]
		assert not state["executions"] and not state["configs"]
	else:
		assert bound == dict.fromkeys(state["idps"], POST_BROKER_FLOW)
		assert keycloak.flow_rows("cloud", POST_BROKER_FLOW) == POST_BROKER_FLOWS[two_factor]


@pytest.mark.parametrize("two_factor", [TwoFactor.OPTIONAL, TwoFactor.REQUIRED, TwoFactor.ADMINS])
def test_logins_through_identity_providers_get_the_otp_of_the_policy(keycloak, admin, two_factor):
	policy = dataclasses.replace(POLICY, two_factor=two_factor, identity_providers=BOTH_PROVIDERS)
	ensure_realm(admin, policy)
	assert_two_factor_state(keycloak, two_factor)
	created = [r.json() for r in keycloak.writes() if r.path.endswith("/identity-provider/instances")]
	assert [body["postBrokerLoginFlowAlias"] for body in created] == [POST_BROKER_FLOW] * 2
	written = len(keycloak.writes())

	assert ensure_realm(admin, policy) == []
	assert len(keycloak.writes()) == written


def test_switching_between_all_two_factor_values_cleans_up(keycloak, admin):
	ensure_realm(admin, dataclasses.replace(POLICY, identity_providers=BOTH_PROVIDERS))
	# every value after every other one, OFF included, from the OPTIONAL of the first run
	sequence = [
		TwoFactor.REQUIRED,
		TwoFactor.ADMINS,
		TwoFactor.OFF,
		TwoFactor.OPTIONAL,
		TwoFactor.ADMINS,
		TwoFactor.REQUIRED,
		TwoFactor.OFF,
		TwoFactor.ADMINS,
		TwoFactor.OPTIONAL,
		TwoFactor.OFF,
		TwoFactor.REQUIRED,
		TwoFactor.OPTIONAL,
	]
	for two_factor in sequence:
		policy = dataclasses.replace(POLICY, two_factor=two_factor, identity_providers=BOTH_PROVIDERS)
		ensure_realm(admin, policy)
		assert_two_factor_state(keycloak, two_factor)
		written = len(keycloak.writes())
		assert ensure_realm(admin, policy) == [], two_factor
		assert len(keycloak.writes()) == written


def test_an_identity_provider_added_later_gets_the_post_login_flow(keycloak, admin):
	ensure_realm(admin, ADMINS_ONLY)
	written = len(keycloak.writes())

	changes = ensure_realm(admin, dataclasses.replace(ADMINS_ONLY, identity_providers=BOTH_PROVIDERS))

	assert [(c.action, c.kind, c.name) for c in changes] == [("created", "identity provider", "github")]
	(write,) = keycloak.writes()[written:]
	assert write.json()["postBrokerLoginFlowAlias"] == POST_BROKER_FLOW
	assert_two_factor_state(keycloak, TwoFactor.ADMINS)


def test_a_post_login_flow_unbound_or_changed_by_hand_is_put_back(keycloak, admin):
	policy = dataclasses.replace(ADMINS_ONLY, identity_providers=BOTH_PROVIDERS)
	ensure_realm(admin, policy)
	del keycloak.realms["cloud"]["idps"]["github"]["postBrokerLoginFlowAlias"]  # unbound in the console
	assert [(c.action, c.name) for c in ensure_realm(admin, policy)] == [("updated", "github")]
	assert_two_factor_state(keycloak, TwoFactor.ADMINS)

	subflow = next(
		e
		for e in keycloak.realms["cloud"]["executions"].values()
		if e.get("flowId") == keycloak.flow("cloud", PB_ADMIN_OTP)["id"]
	)
	subflow["requirement"] = "DISABLED"  # the admins' OTP made optional in the console
	changes = ensure_realm(admin, policy)

	assert [(c.action, c.name) for c in changes] == [
		("updated", "google"),
		("updated", "github"),
		("deleted", POST_BROKER_FLOW),
		("created", POST_BROKER_FLOW),
		("updated", "google"),
		("updated", "github"),
	]
	assert_two_factor_state(keycloak, TwoFactor.ADMINS)


def test_off_unbinds_the_post_login_flow_from_identity_providers_not_in_the_settings(keycloak, admin):
	ensure_realm(admin, POLICY)
	# an IdP someone added in Keycloak's console and gave our flow
	admin.create(
		"/cloud/identity-provider/instances",
		{
			"alias": "corp",
			"providerId": "oidc",
			"enabled": True,
			"postBrokerLoginFlowAlias": POST_BROKER_FLOW,
			"config": {},
		},
	)

	changes = ensure_realm(admin, dataclasses.replace(POLICY, two_factor=TwoFactor.OFF))

	assert {(c.action, c.name) for c in changes if c.kind == "identity provider"} == {
		("updated", "google"),
		("updated", "corp"),
	}
	assert_two_factor_state(keycloak, TwoFactor.OFF)


def test_keycloak_refuses_to_delete_a_flow_an_identity_provider_uses(keycloak, admin):
	ensure_realm(admin, POLICY)
	flow = keycloak.flow("cloud", POST_BROKER_FLOW)
	with pytest.raises(ServiceUnavailableError) as refused:  # a ModelException: Keycloak answers 500
		admin.delete(f"/cloud/authentication/flows/{flow['id']}")
	assert refused.value.status_code == 500
	assert keycloak.flow("cloud", POST_BROKER_FLOW) is not None
	google = admin.get("/cloud/identity-provider/instances/google")
	with pytest.raises(ServiceUnavailableError) as refused:  # nor binds a flow the realm does not have
		admin.update(
			"/cloud/identity-provider/instances/google", {**google, "postBrokerLoginFlowAlias": "nope"}
		)
	assert refused.value.status_code == 500
	assert keycloak.realms["cloud"]["idps"]["google"]["postBrokerLoginFlowAlias"] == POST_BROKER_FLOW


def test_brute_force_and_password_policy_are_realm_settings(keycloak, admin):
	ensure_realm(admin, POLICY)
	changes = ensure_realm(
		admin, dataclasses.replace(POLICY, brute_force_protection=False, password_policy="length(16)")
	)
	assert [(c.action, c.kind) for c in changes] == [("updated", "realm")]
	realm = keycloak.realms["cloud"]["representation"]
	assert realm["bruteForceProtected"] is False and realm["passwordPolicy"] == "length(16)"
	assert realm["smtpServer"]["password"] == "smtp-secret"  # the masked read-back did not overwrite it


@pytest.mark.parametrize(
	"changed",
	[
		{"display_name": "Our Cloud, renamed"},
		{"mail": dataclasses.replace(POLICY.mail, host="postal-smtp", port=587)},
	],
	ids=["realm field", "smtp host"],
)
def test_a_realm_update_without_write_secrets_keeps_the_stored_smtp_password(keycloak, admin, changed):
	"""Keycloak replaces smtpServer wholesale on PUT: the password survives only when sent as its mask."""
	ensure_realm(admin, POLICY)
	written = len(keycloak.writes())

	changes = ensure_realm(admin, dataclasses.replace(POLICY, **changed))

	assert [(c.action, c.kind) for c in changes] == [("updated", "realm")]
	(put,) = keycloak.writes()[written:]
	assert put.json()["smtpServer"]["password"] == "**********"
	stored = keycloak.realms["cloud"]["representation"]["smtpServer"]
	assert stored["password"] == "smtp-secret"
	assert stored["host"] == changed.get("mail", POLICY.mail).host


def test_the_stand_in_drops_the_smtp_password_a_put_leaves_out_as_keycloak_does(keycloak, admin):
	ensure_realm(admin, POLICY)
	realm = admin.get("/cloud")
	assert realm["smtpServer"]["password"] == "**********"
	del realm["smtpServer"]["password"]
	admin.update("/cloud", {"smtpServer": realm["smtpServer"]})
	assert "password" not in admin.get("/cloud")["smtpServer"]
	assert keycloak.realms["cloud"]["representation"]["smtpServer"].get("password") is None


def test_secrets_are_written_only_when_the_caller_says_they_changed(keycloak, admin):
	ensure_realm(admin, POLICY)
	rotated = dataclasses.replace(
		POLICY,
		identity_providers=(IdentityProvider("google", "google-client", "new-google-secret"),),
		mail=dataclasses.replace(POLICY.mail, password="new-smtp-secret"),
	)
	assert ensure_realm(admin, rotated) == []
	assert keycloak.stored_secret("cloud", "google") == "google-secret"

	changes = ensure_realm(admin, rotated, write_secrets=True)

	assert {c.kind for c in changes} == {"realm", "client", "identity provider"}
	assert keycloak.stored_secret("cloud", "google") == "new-google-secret"
	assert keycloak.realms["cloud"]["representation"]["smtpServer"]["password"] == "new-smtp-secret"


def test_identity_provider_switched_off_stays_but_is_disabled(keycloak, admin):
	ensure_realm(admin, POLICY)
	github_added = dataclasses.replace(
		POLICY,
		identity_providers=(
			IdentityProvider("google", "google-client", "google-secret", enabled=False),
			IdentityProvider("github", "github-client", "github-secret"),
		),
	)
	changes = ensure_realm(admin, github_added)
	assert {(c.action, c.name) for c in changes} == {("updated", "google"), ("created", "github")}
	assert keycloak.realms["cloud"]["idps"]["google"]["enabled"] is False
	assert keycloak.realms["cloud"]["idps"]["github"]["config"]["defaultScope"] == "user:email"


def test_unsupported_identity_provider_is_a_configuration_error(admin):
	policy = dataclasses.replace(POLICY, identity_providers=(IdentityProvider("facebook", "id", "secret"),))
	with pytest.raises(ConfigurationError, match="google or github"):
		ensure_realm(admin, policy)


def test_wrong_admin_password_is_a_configuration_error(keycloak):
	admin = KeycloakAdmin(AdminCredentials(keycloak.url, "admin", "wrong-password"))
	with pytest.raises(ConfigurationError, match="keycloak_admin_password") as refused:
		ensure_realm(admin, POLICY)
	assert "wrong-password" not in str(refused.value)


def test_expired_admin_token_logs_in_again(keycloak, admin):
	ensure_realm(admin, POLICY)
	keycloak.expire_tokens()
	assert ensure_realm(admin, POLICY) == []
	assert len(keycloak.requests_to("POST", "/realms/master/protocol/openid-connect/token")) == 2


def test_outage_is_retryable(keycloak, admin):
	keycloak.fail_next(503, path_pattern="^/admin/")
	with pytest.raises(ServiceUnavailableError) as failed:
		ensure_realm(admin, POLICY)
	assert failed.value.retryable


def test_unreachable_keycloak_is_retryable():
	with KeycloakAdminStandIn() as stopped:
		url = stopped.url
	admin = KeycloakAdmin(AdminCredentials(url, "admin", "admin-password", timeout=2))
	with pytest.raises(ServiceUnavailableError, match="cannot reach"):
		ensure_realm(admin, POLICY)


# -- tenant sites -----------------------------------------------------------------------------------
def test_site_client_redirects_to_its_site_only(keycloak, admin):
	ensure_realm(admin, POLICY)
	first = ensure_site_client(admin, "cloud", "acme.example.com")
	written = len(keycloak.writes())

	again = ensure_site_client(admin, "cloud", "acme.example.com")

	assert again == first and len(keycloak.writes()) == written
	client = keycloak.client("cloud", "site-acme.example.com")
	assert client["redirectUris"] == ["https://acme.example.com/auth/keycloak/callback"]
	assert client["webOrigins"] == ["https://acme.example.com"]
	assert client["secret"] == first.secret and len(first.secret) >= 32


def test_site_client_puts_its_own_roles_into_the_id_token(keycloak, admin):
	ensure_realm(admin, POLICY)
	ensure_site_client(
		admin,
		"cloud",
		"acme.example.com",
		roles=("System Manager", "Accounts User"),
		origin="http://acme.test:8000/",
	)
	client = keycloak.client("cloud", "site-acme.example.com")
	assert client["redirectUris"] == ["http://acme.test:8000/auth/keycloak/callback"]
	(mapper,) = client["protocolMappers"]
	assert mapper["protocolMapper"] == "oidc-usermodel-client-role-mapper"
	assert mapper["config"]["usermodel.clientRoleMapping.clientId"] == "site-acme.example.com"
	assert mapper["config"]["claim.name"] == "resource_access.${client_id}.roles"
	assert mapper["config"]["id.token.claim"] == "true"
	roles = keycloak.realms["cloud"]["client_roles"][client["id"]]
	assert set(roles) == {"System Manager", "Accounts User"}

	# A mapper changed by hand is put back; a second run with nothing changed writes nothing.
	mapper_path = f"/admin/realms/cloud/clients/{client['id']}/protocol-mappers/models"
	keycloak.client("cloud", "site-acme.example.com")["protocolMappers"][0]["config"]["id.token.claim"] = (
		"false"
	)
	written = len(keycloak.writes())
	ensure_site_client(admin, "cloud", "acme.example.com", roles=("System Manager", "Accounts User"))
	assert [w.path for w in keycloak.writes()[written:]] == [
		f"/admin/realms/cloud/clients/{client['id']}",  # origin back to https://acme.example.com
		f"{mapper_path}/{mapper['id']}",
	]
	written = len(keycloak.writes())
	ensure_site_client(admin, "cloud", "acme.example.com", roles=("System Manager", "Accounts User"))
	assert len(keycloak.writes()) == written


def test_a_site_role_is_granted_to_a_keycloak_user(keycloak, admin):
	ensure_realm(admin, POLICY)
	user_id = keycloak.add_user("cloud")
	with pytest.raises(ConfigurationError, match="no client yet"):
		grant_site_role(admin, "cloud", "acme.example.com", user_id, "System Manager")
	ensure_site_client(admin, "cloud", "acme.example.com")
	grant_site_role(admin, "cloud", "acme.example.com", user_id, "System Manager")
	assert keycloak.client_roles_of("cloud", user_id, "site-acme.example.com") == {"System Manager"}
	with pytest.raises(ConfigurationError, match="no role 'Owner'"):
		grant_site_role(admin, "cloud", "acme.example.com", user_id, "Owner")


def test_site_client_is_removed_once(keycloak, admin):
	ensure_realm(admin, POLICY)
	ensure_site_client(admin, "cloud", "acme.example.com")
	assert remove_site_client(admin, "cloud", "acme.example.com") is True
	assert keycloak.client("cloud", "site-acme.example.com") is None
	assert remove_site_client(admin, "cloud", "acme.example.com") is False
	assert keycloak.client("cloud", "dashboard") is not None


def test_a_user_session_is_ended_once(keycloak, admin):
	ensure_realm(admin, POLICY)
	session_id = keycloak.open_session("cloud")
	assert end_user_session(admin, "cloud", session_id) is True
	assert session_id not in keycloak.realms["cloud"]["sessions"]
	assert end_user_session(admin, "cloud", session_id) is False
