"""The doctor's check of the dashboard's Keycloak client, against the admin-API stand-in."""

import dataclasses

import pytest

from press_selfhost.identity.checks import (
	KEYCLOAK_BOOTSTRAP_FIX,
	dashboard_callback_url,
	keycloak_client_check,
)
from press_selfhost.identity.keycloak_admin import (
	AdminCredentials,
	DashboardClient,
	KeycloakAdmin,
	RealmPolicy,
	ensure_realm,
)
from press_selfhost.setup.doctor import configured_checks, results_json, results_text, run_checks
from tests.standins.keycloak_admin import KeycloakAdminStandIn

CALLBACK = dashboard_callback_url("example.com")
DASHBOARD = DashboardClient(
	client_id="press-dashboard",
	secret="dashboard-secret",
	redirect_uris=(CALLBACK,),
	post_logout_redirect_uris=("https://cloud.example.com/dashboard/login",),
	web_origins=("https://cloud.example.com",),
	backchannel_logout_url="https://cloud.example.com/auth/keycloak/backchannel_logout",
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
def credentials(keycloak):
	return AdminCredentials(keycloak.url, keycloak.username, keycloak.password, timeout=3)


def bootstrapped(credentials, dashboard=DASHBOARD):
	ensure_realm(KeycloakAdmin(credentials), RealmPolicy(dashboard=dashboard))


def result_of(check, secrets=()):
	[result] = run_checks([check], secrets)
	return result


def test_client_made_by_bootstrap_passes_and_changes_nothing(keycloak, credentials):
	bootstrapped(credentials)
	written = len(keycloak.writes())

	result = result_of(keycloak_client_check(credentials, "cloud", "press-dashboard", CALLBACK))

	assert result.ok, result.detail
	assert CALLBACK in result.detail
	assert len(keycloak.writes()) == written


def test_missing_realm_or_client_says_to_run_the_bootstrap(keycloak, credentials):
	no_realm = result_of(keycloak_client_check(credentials, "cloud", "press-dashboard", CALLBACK))
	assert not no_realm.ok and "no realm 'cloud'" in no_realm.detail
	assert no_realm.fix == KEYCLOAK_BOOTSTRAP_FIX

	bootstrapped(credentials)
	no_client = result_of(keycloak_client_check(credentials, "cloud", "other-client", CALLBACK))
	assert not no_client.ok and "has no client 'other-client'" in no_client.detail
	assert no_client.fix == KEYCLOAK_BOOTSTRAP_FIX


def test_a_redirect_uri_of_another_host_fails_naming_ours(credentials):
	other_host = dataclasses.replace(
		DASHBOARD, redirect_uris=("https://old.example.com/auth/keycloak/callback",)
	)
	bootstrapped(credentials, other_host)

	result = result_of(keycloak_client_check(credentials, "cloud", "press-dashboard", CALLBACK))

	assert not result.ok
	assert result.detail == f"client 'press-dashboard' does not allow the redirect URI {CALLBACK}"


def test_a_wildcard_redirect_uri_counts_as_keycloak_reads_it(credentials):
	bootstrapped(credentials, dataclasses.replace(DASHBOARD, redirect_uris=("https://cloud.example.com/*",)))
	assert result_of(keycloak_client_check(credentials, "cloud", "press-dashboard", CALLBACK)).ok


def test_a_disabled_public_client_fails(keycloak, credentials):
	bootstrapped(credentials)
	keycloak.client("cloud", "press-dashboard").update(enabled=False, publicClient=True)

	result = result_of(keycloak_client_check(credentials, "cloud", "press-dashboard", CALLBACK))

	assert not result.ok
	assert "is disabled and is public, not confidential" in result.detail


def test_wrong_admin_password_fails_without_showing_it(keycloak):
	wrong = AdminCredentials(keycloak.url, keycloak.username, "wrong-admin-password-7f3a", timeout=3)
	result = result_of(keycloak_client_check(wrong, "cloud", "press-dashboard", CALLBACK), [wrong.password])
	assert not result.ok and "keycloak_admin_password" in result.fix
	assert wrong.password not in results_text([result]) + results_json([result])


def test_keycloak_down_says_to_start_it(keycloak):
	with KeycloakAdminStandIn() as stopped:
		url = stopped.url
	down = AdminCredentials(url, "admin", "admin-password", timeout=2)
	result = result_of(keycloak_client_check(down, "cloud", "press-dashboard", CALLBACK))
	assert not result.ok and "keycloak_url" in result.fix


def test_settings_with_a_keycloak_admin_add_the_check_and_scrub_its_password(keycloak, credentials):
	bootstrapped(credentials)
	values = {
		"domain": "example.com",
		"keycloak_url": keycloak.url,
		"keycloak_realm": "cloud",
		"keycloak_client_id": "press-dashboard",
		"keycloak_admin_username": keycloak.username,
		"keycloak_admin_password": keycloak.password,
	}
	checks, secrets = configured_checks(values)
	results = {result.name: result for result in run_checks(checks, secrets)}
	assert results["Keycloak dashboard client"].ok
	assert keycloak.password in secrets

	checks, _ = configured_checks({**values, "keycloak_callback_url": "https://elsewhere.example/cb"})
	moved = {result.name: result for result in run_checks(checks)}["Keycloak dashboard client"]
	assert not moved.ok and "https://elsewhere.example/cb" in moved.detail

	checks, _ = configured_checks({**values, "keycloak_admin_password": ""})
	unset = {result.name: result for result in run_checks(checks)}["Keycloak dashboard client"]
	assert unset.detail == "keycloak_admin_password not set"


def test_without_a_keycloak_admin_there_is_no_client_check():
	checks, _ = configured_checks({"keycloak_url": "http://keycloak:8080", "keycloak_realm": "cloud"})
	assert "Keycloak dashboard client" not in [check.name for check in checks]
