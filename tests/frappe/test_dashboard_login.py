"""The dashboard's login page asks Press for its login options; in a real bench, over HTTP as the
dashboard does (dashboard/src2/pages/LoginSignup.vue), those answers lead to our verified Keycloak
login and never to Frappe's Social Login Key callback.

Needs the bench's web server running (`bench start`) at the site's URL.
"""

import uuid
from urllib.parse import parse_qs, urlsplit

import frappe
import requests

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

from press_selfhost.identity.rules import DASHBOARD_PROVIDER
from tests.standins.keycloak_discovery import KeycloakDiscoveryStandIn
from tests.support.frappe_fixtures import running_site_url

DOMAIN = f"corp-{uuid.uuid4().hex[:8]}.example"
SETTINGS = (
	"keycloak_url",
	"keycloak_realm",
	"keycloak_client_id",
	"keycloak_client_secret",
	"keycloak_admin_username",
	"keycloak_display_name",
	"keycloak_login_domains",
	"keycloak_google_client_id",
	"keycloak_google_client_secret",
)


class TestDashboardLogin(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site_url = running_site_url()
		cls.keycloak = KeycloakDiscoveryStandIn().start()
		settings = frappe.get_single("Selfhost Settings")
		cls.saved_settings = {field: settings.get(field) for field in SETTINGS}
		cls.configure(keycloak_google_client_id="", keycloak_google_client_secret="")

	@classmethod
	def tearDownClass(cls):
		cls.keycloak.stop()
		settings = frappe.get_single("Selfhost Settings")
		settings.update(cls.saved_settings)
		settings.save()
		frappe.db.commit()
		super().tearDownClass()

	@classmethod
	def configure(cls, **changes):
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{
				"keycloak_url": cls.keycloak.url,
				"keycloak_realm": "cloud",
				"keycloak_client_id": "dashboard",
				"keycloak_client_secret": "dashboard-secret",
				"keycloak_display_name": "Acme Cloud",
				"keycloak_login_domains": f"{DOMAIN}\nother.{DOMAIN}",
				**changes,
			}
		)
		settings.save()
		frappe.db.commit()  # the web server reads the settings

	def call(self, method, **params):
		"""A guest's call of a whitelisted method, as the dashboard's frappe-ui resources make it."""
		answer = requests.post(f"{self.site_url}/api/method/{method}", json=params, timeout=10)
		self.assertEqual(answer.status_code, 200, answer.text[:500])
		return answer.json()["message"]

	def follow(self, url):
		"""GET one of our URLs on the test's web server; the 302 it answers."""
		parts = urlsplit(url)
		answer = requests.get(f"{self.site_url}{parts.path}?{parts.query}", allow_redirects=False, timeout=10)
		self.assertEqual(answer.status_code, 302, answer.text[:500])
		return answer.headers["Location"]

	def test_login_page_offers_the_realm_for_the_listed_domains(self):
		settings = self.call("press.api.account.signup_settings")

		ours = [
			entry for entry in settings["oauth_domains"] if entry["social_login_key"] == DASHBOARD_PROVIDER
		]
		self.assertEqual(
			sorted(ours, key=lambda entry: entry["email_domain"]),
			[
				{
					"email_domain": DOMAIN,
					"social_login_key": DASHBOARD_PROVIDER,
					"provider_name": "Acme Cloud",
				},
				{
					"email_domain": f"other.{DOMAIN}",
					"social_login_key": DASHBOARD_PROVIDER,
					"provider_name": "Acme Cloud",
				},
			],
		)
		self.assertIn("enable_google_oauth", settings)  # the rest of Press's answer is kept

	def test_the_button_leads_to_our_login_and_on_to_keycloak(self):
		url = self.call("press.api.oauth.oauth_authorize_url", provider=DASHBOARD_PROVIDER)

		self.assertEqual(urlsplit(url).path, "/auth/keycloak/login")
		location = self.follow(url)
		self.assertTrue(
			location.startswith(f"{self.keycloak.url}/realms/cloud/protocol/openid-connect/auth?"), location
		)
		query = parse_qs(urlsplit(location).query)
		self.assertEqual(urlsplit(query["redirect_uri"][0]).path, "/auth/keycloak/callback")
		self.assertEqual(query["code_challenge_method"], ["S256"])
		self.assertNotIn("oauth2_logins", location)  # not Frappe's Social Login Key callback

	def test_google_button_goes_to_google_through_keycloak_when_the_realm_offers_it(self):
		self.configure(
			keycloak_google_client_id="google-client", keycloak_google_client_secret="google-secret"
		)
		try:
			url = self.call("press.api.google.login")
		finally:
			self.configure(keycloak_google_client_id="", keycloak_google_client_secret="")

		self.assertEqual(urlsplit(url).path, "/auth/keycloak/login")
		self.assertEqual(parse_qs(urlsplit(url).query), {"provider": ["google"]})
		query = parse_qs(urlsplit(self.follow(url)).query)
		self.assertEqual(query["kc_idp_hint"], ["google"])

	def test_without_keycloak_the_login_page_is_presss_own(self):
		self.configure(keycloak_url="", keycloak_admin_username="")
		try:
			settings = self.call("press.api.account.signup_settings")
		finally:
			self.configure()
		self.assertFalse(
			[entry for entry in settings["oauth_domains"] if entry["social_login_key"] == DASHBOARD_PROVIDER]
		)
