"""The tenant app on a real customer site: browser (requests) → the site's /auth/keycloak/ routes →
a real OpenID provider → callback → Frappe session with the roles of the site's client.

Opt-in (skipped unless configured), because it needs a Frappe site with press_selfhost_tenant
installed and served over HTTP, and write access to that site's site_config.json, where this test
puts the `press_selfhost_sso` config Press would push:

    PRESS_SELFHOST_TENANT_SITE_URL=http://tenant.test:8001
    PRESS_SELFHOST_TENANT_SITE_CONFIG=/path/to/frappe-bench/sites/tenant.test/site_config.json
"""

import json
import os
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from press_selfhost.identity.site_clients import SiteClient, site_client_id
from press_selfhost.identity.tenant_login import SITE_CONFIG_KEY, site_config
from tests.support.oidc_provider import OIDCProvider

SITE_URL = os.environ.get("PRESS_SELFHOST_TENANT_SITE_URL", "").rstrip("/")
SITE_CONFIG = os.environ.get("PRESS_SELFHOST_TENANT_SITE_CONFIG", "")
pytestmark = pytest.mark.skipif(
	not (SITE_URL and SITE_CONFIG),
	reason="needs a site with press_selfhost_tenant: set PRESS_SELFHOST_TENANT_SITE_URL and _SITE_CONFIG",
)

RUN = uuid.uuid4().hex[:8]
HOST = urlsplit(SITE_URL).hostname or "tenant.test"
CLIENT_ID = site_client_id(HOST)
SECRET = f"tenant-secret-{RUN}"
CALLBACK = f"{SITE_URL}/auth/keycloak/callback"
DANA = f"dana-{RUN}@example.com"


def provider_for(tmp_path, roles_of_dana):
	return OIDCProvider(
		tmp_path,
		clients=[
			{
				"client_id": CLIENT_ID,
				"client_secret": SECRET,
				"redirect_uris": [CALLBACK],
				"post_logout_redirect_uris": [f"{SITE_URL}/"],
				"grant_types": ["authorization_code", "refresh_token"],
				"token_endpoint_auth_method": "client_secret_post",
				"backchannel_logout_uri": f"{SITE_URL}/auth/keycloak/backchannel_logout",
				"backchannel_logout_session_required": True,
			},
			{
				"client_id": "site-other.test",
				"client_secret": "other-secret",
				"redirect_uris": ["http://other.test/auth/keycloak/callback"],
				"token_endpoint_auth_method": "client_secret_post",
			},
		],
		accounts=[
			{
				"sub": f"dana-{RUN}",
				"email": DANA,
				"email_verified": True,
				"given_name": "Dana",
				"resource_access": {CLIENT_ID: {"roles": roles_of_dana}},
			},
			{
				"sub": f"eve-{RUN}",
				"email": f"eve-{RUN}@example.com",
				"email_verified": True,
				"resource_access": {"site-other.test": {"roles": ["System Manager"]}},
			},
			{
				"sub": f"mallory-{RUN}",
				"email": DANA,
				"email_verified": False,
				"resource_access": {CLIENT_ID: {"roles": ["System Manager"]}},
			},
		],
	).start()


def point_site_at(provider):
	path = Path(SITE_CONFIG)
	config = json.loads(path.read_text())
	config[SITE_CONFIG_KEY] = site_config(
		provider.server_url, "cloud", SiteClient(CLIENT_ID, SECRET), SITE_URL
	)
	path.write_text(json.dumps(config, indent=1))
	# Frappe's web workers cache site_config.json for 60 s: wait until the site logs in with `provider`.
	deadline = time.monotonic() + 90
	while time.monotonic() < deadline:
		answer = requests.get(f"{SITE_URL}/auth/keycloak/login", allow_redirects=False, timeout=10)
		if answer.status_code == 302 and answer.headers["Location"].startswith(provider.issuer):
			return
		time.sleep(2)
	raise AssertionError(f"{SITE_URL} did not pick up the new {SITE_CONFIG_KEY} within 90 s")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
	original = Path(SITE_CONFIG).read_text()
	provider = provider_for(tmp_path_factory.mktemp("tenant-oidc"), ["System Manager", "website-manager"])
	point_site_at(provider)
	yield provider
	provider.stop()
	Path(SITE_CONFIG).write_text(original)


def log_in(provider, browser, account):
	answer = browser.get(f"{SITE_URL}/auth/keycloak/login", allow_redirects=False, timeout=10)
	assert answer.status_code == 302, answer.text[:300]
	callback = provider.browse_to_callback(
		browser, answer.headers["Location"] + f"&login_hint={account}", CALLBACK
	)
	return browser.get(callback, allow_redirects=False, timeout=30)


def logged_in_user(browser):
	answer = browser.get(f"{SITE_URL}/api/method/frappe.auth.get_logged_user", timeout=10)
	return answer.json().get("message") if answer.ok else None


def roles_of(browser, user):
	answer = browser.get(f"{SITE_URL}/api/resource/User/{user}", timeout=10)
	assert answer.ok, answer.text[:300]
	return {row["role"] for row in answer.json()["data"]["roles"]}


def test_first_login_creates_a_system_user_with_the_clients_roles(site):
	browser = requests.Session()
	answer = log_in(site, browser, f"dana-{RUN}")
	assert answer.status_code == 302 and answer.headers["Location"].endswith("/app"), answer.text[:300]
	assert logged_in_user(browser) == DANA
	assert {"System Manager", "Website Manager"} <= roles_of(browser, DANA)


def test_roles_taken_away_in_keycloak_go_at_the_next_login(site, tmp_path):
	log_in(site, requests.Session(), f"dana-{RUN}")
	changed = provider_for(tmp_path, ["System Manager"])  # Website Manager removed in Keycloak
	try:
		point_site_at(changed)
		browser = requests.Session()
		assert log_in(changed, browser, f"dana-{RUN}").status_code == 302
		roles = roles_of(browser, DANA)
		assert "System Manager" in roles and "Website Manager" not in roles
	finally:
		changed.stop()
		point_site_at(site)


def test_an_account_with_roles_on_another_site_only_is_refused(site):
	browser = requests.Session()
	assert log_in(site, browser, f"eve-{RUN}").status_code == 400
	assert logged_in_user(browser) in (None, "Guest")


def test_an_unverified_email_of_an_existing_user_is_refused(site):
	log_in(site, requests.Session(), f"dana-{RUN}")  # dana exists and is linked
	browser = requests.Session()
	assert log_in(site, browser, f"mallory-{RUN}").status_code == 400
	assert logged_in_user(browser) in (None, "Guest")


def test_a_callback_from_another_browser_is_refused(site):
	attacker = requests.Session()
	answer = attacker.get(f"{SITE_URL}/auth/keycloak/login", allow_redirects=False, timeout=10)
	callback = site.browse_to_callback(
		attacker, answer.headers["Location"] + f"&login_hint=dana-{RUN}", CALLBACK
	)
	victim = requests.Session()
	assert victim.get(callback, allow_redirects=False, timeout=30).status_code == 400
	assert logged_in_user(victim) in (None, "Guest")


def test_logout_ends_the_site_session_and_goes_to_keycloak(site):
	browser = requests.Session()
	log_in(site, browser, f"dana-{RUN}")
	assert logged_in_user(browser) == DANA
	answer = browser.get(f"{SITE_URL}/auth/keycloak/logout", allow_redirects=False, timeout=10)
	assert answer.status_code == 302
	assert answer.headers["Location"].startswith(f"{site.issuer}/protocol/openid-connect/logout?")
	assert logged_in_user(browser) in (None, "Guest")
	assert site.confirm_logout(browser, answer.headers["Location"]).status_code in (302, 303)


def test_back_channel_logout_from_keycloak_ends_the_site_session(site):
	browser = requests.Session()
	log_in(site, browser, f"dana-{RUN}")
	assert logged_in_user(browser) == DANA
	# Logging out at Keycloak itself makes it POST a logout token to the site.
	end_session = f"{site.issuer}/protocol/openid-connect/logout?client_id={CLIENT_ID}"
	site.confirm_logout(browser, end_session)
	assert logged_in_user(browser) in (None, "Guest")
