"""The Keycloak login end to end in a real bench: browser (requests) → our www routes → a real OpenID
provider (oidc-provider under Keycloak's paths, tests/oidc) → callback → Frappe session.

Needs the bench's web server running (`bench start`, as Frappe's own API tests do) at the site's URL
and Node.js ≥ 20 for the provider. The attacks the SSO notes found in Frappe's own OAuth login are
each a test: login CSRF, open redirect, takeover through an unverified e-mail, replayed callback.
"""

import json
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import frappe
import jwt
import requests

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

from press_selfhost.identity.dashboard_login import STATE_COOKIE, _state_key
from press_selfhost.identity.keycloak import BACKCHANNEL_LOGOUT_EVENT
from tests.support.frappe_fixtures import running_site_url
from tests.support.oidc_provider import OIDCProvider

CLIENT_SECRET = "bench-dashboard-secret"
RUN = uuid.uuid4().hex[:8]
CAROL = f"carol-{RUN}@example.com"


class TestKeycloakLogin(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site_url = running_site_url()
		cls.callback = f"{cls.site_url}/auth/keycloak/callback"
		workdir = Path(frappe.get_site_path("private", "keycloak-test"))
		workdir.mkdir(parents=True, exist_ok=True)
		cls.provider = OIDCProvider(
			workdir,
			clients=[
				{
					"client_id": "dashboard",
					"client_secret": CLIENT_SECRET,
					"redirect_uris": [cls.callback],
					"post_logout_redirect_uris": [f"{cls.site_url}/dashboard/login"],
					"grant_types": ["authorization_code", "refresh_token"],
					"token_endpoint_auth_method": "client_secret_post",
					"backchannel_logout_uri": f"{cls.site_url}/auth/keycloak/backchannel_logout",
					"backchannel_logout_session_required": True,
				}
			],
			accounts=[
				{"sub": f"carol-{RUN}", "email": CAROL, "email_verified": True, "given_name": "Carol"},
				{"sub": f"mallory-{RUN}", "email": CAROL, "email_verified": False, "given_name": "Mallory"},
			],
		).start()
		settings = frappe.get_single("Selfhost Settings")
		cls.saved_settings = {
			field: settings.get(field) for field in ("keycloak_url", "keycloak_realm", "keycloak_client_id")
		}
		settings.update(
			{
				"keycloak_url": cls.provider.server_url,
				"keycloak_realm": "cloud",
				"keycloak_client_id": "dashboard",
				"keycloak_client_secret": CLIENT_SECRET,
			}
		)
		settings.save()
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		cls.provider.stop()
		settings = frappe.get_single("Selfhost Settings")
		settings.update(cls.saved_settings)
		settings.save()
		for doctype, filters in (
			("Keycloak Session", {"user": CAROL}),
			("Keycloak Identity", {"user": CAROL}),
			("Account Request", {"email": CAROL}),
		):
			for name in frappe.get_all(doctype, filters=filters, pluck="name"):
				frappe.delete_doc(doctype, name, ignore_permissions=True, force=True)
		if frappe.db.exists("User", CAROL):
			frappe.delete_doc("User", CAROL, ignore_permissions=True, force=True)
		frappe.db.commit()
		super().tearDownClass()

	# -- helpers --------------------------------------------------------------------------------
	def start(self, browser, account, redirect_to=None):
		"""Our login route, then the provider: the callback URL the provider sends the browser to."""
		params = {"redirect_to": redirect_to} if redirect_to else {}
		answer = browser.get(f"{self.site_url}/auth/keycloak/login", params=params, allow_redirects=False)
		self.assertEqual(answer.status_code, 302, answer.text[:300])
		authorization_url = answer.headers["Location"] + f"&login_hint={account}"
		return self.provider.browse_to_callback(browser, authorization_url, self.callback)

	def log_in(self, browser, account):
		answer = browser.get(self.start(browser, account), allow_redirects=False)
		frappe.db.rollback()  # see what the web server committed
		return answer

	def session_user(self, browser):
		"""The user of the browser's Frappe session; None for a guest (whose sid cookie is "Guest")."""
		sid = browser.cookies.get("sid")
		return self.user_of_session(sid) if sid else None

	@staticmethod
	def user_of_session(sid):
		"""The user of Frappe session `sid`, None once it ended. Not frappe.db.exists: Sessions has no
		`name` column (exists would always say None) and no `creation` (get_value's default order)."""
		return frappe.db.get_value("Sessions", {"sid": sid}, "user", order_by=None)

	# -- the flow -------------------------------------------------------------------------------
	def test_first_login_creates_the_user_and_sends_it_to_press_account_setup(self):
		browser = requests.Session()
		answer = self.log_in(browser, f"carol-{RUN}")

		self.assertEqual(answer.status_code, 302, answer.text[:300])
		self.assertIn("/dashboard/setup-account/", answer.headers["Location"])
		self.assertEqual(self.session_user(browser), CAROL)
		self.assertEqual(frappe.db.get_value("User", CAROL, "user_type"), "Website User")
		self.assertEqual(frappe.db.get_value("Keycloak Identity", {"subject": f"carol-{RUN}"}, "user"), CAROL)
		self.assertTrue(frappe.db.exists("Account Request", {"email": CAROL, "oauth_signup": 1}))
		self.assertNotIn(STATE_COOKIE, browser.cookies)

		again = self.log_in(requests.Session(), f"carol-{RUN}")
		self.assertEqual(again.status_code, 302)
		self.assertEqual(frappe.db.count("Keycloak Identity", {"user": CAROL}), 1)

	def test_unverified_email_of_an_existing_user_is_refused(self):
		self.log_in(requests.Session(), f"carol-{RUN}")  # carol exists and is linked
		browser = requests.Session()
		answer = self.log_in(browser, f"mallory-{RUN}")
		self.assertEqual(answer.status_code, 400)
		self.assertIsNone(self.session_user(browser))
		self.assertFalse(frappe.db.exists("Keycloak Identity", {"subject": f"mallory-{RUN}"}))

	def test_attackers_callback_in_another_browser_is_refused(self):
		attacker_callback = self.start(requests.Session(), f"carol-{RUN}")
		victim = requests.Session()
		victim.get(
			f"{self.site_url}/auth/keycloak/login", allow_redirects=False
		)  # even with a login of its own
		answer = victim.get(attacker_callback, allow_redirects=False)
		frappe.db.rollback()
		self.assertEqual(answer.status_code, 400)
		self.assertIsNone(self.session_user(victim))

	def test_replayed_callback_is_refused(self):
		browser = requests.Session()
		callback = self.start(browser, f"carol-{RUN}")
		self.assertEqual(browser.get(callback, allow_redirects=False).status_code, 302)
		browser.cookies.set(STATE_COOKIE, parse_qs(urlsplit(callback).query)["state"][0])
		self.assertEqual(browser.get(callback, allow_redirects=False).status_code, 400)

	def test_return_path_off_our_hosts_is_replaced_by_the_dashboard(self):
		for target, kept in (
			("https://evil.example/x", "/dashboard"),
			("/dashboard/sites", "/dashboard/sites"),
		):
			browser = requests.Session()
			browser.get(
				f"{self.site_url}/auth/keycloak/login", params={"redirect_to": target}, allow_redirects=False
			)
			entry = frappe.cache.get(_state_key(browser.cookies[STATE_COOKIE]))
			self.assertEqual(json.loads(entry)["return_to"], kept)

	def test_state_cookie_is_http_only_and_lax(self):
		answer = requests.get(f"{self.site_url}/auth/keycloak/login", allow_redirects=False, timeout=10)
		cookie = next(c for c in answer.raw.headers.getlist("Set-Cookie") if c.startswith(f"{STATE_COOKIE}="))
		self.assertIn("HttpOnly", cookie)
		self.assertIn("SameSite=Lax", cookie)

	# -- logout ---------------------------------------------------------------------------------
	def test_logout_ends_the_frappe_session_and_sends_the_browser_to_keycloak(self):
		browser = requests.Session()
		self.log_in(browser, f"carol-{RUN}")
		sid = browser.cookies["sid"]
		self.assertEqual(self.user_of_session(sid), CAROL)

		answer = browser.get(f"{self.site_url}/auth/keycloak/logout", allow_redirects=False)
		frappe.db.rollback()

		self.assertEqual(answer.status_code, 302)
		location = answer.headers["Location"]
		self.assertTrue(location.startswith(f"{self.provider.issuer}/protocol/openid-connect/logout?"))
		self.assertIn("id_token_hint=", location)
		self.assertIsNone(self.user_of_session(sid))
		self.assertFalse(frappe.db.exists("Keycloak Session", {"frappe_session": sid}))
		self.assertIn(self.provider.confirm_logout(browser, location).status_code, (302, 303))

	def test_the_dashboards_own_logout_forgets_the_keycloak_session(self):
		"""The dashboard logs out with an XHR to /api/method/logout (dashboard/src2/data/session.js);
		the on_logout hook drops the record and queues the Keycloak logout (test_keycloak_bootstrap)."""
		browser = requests.Session()
		self.log_in(browser, f"carol-{RUN}")
		sid = browser.cookies["sid"]
		self.assertTrue(frappe.db.exists("Keycloak Session", {"frappe_session": sid}))

		answer = browser.post(f"{self.site_url}/api/method/logout", timeout=10)
		frappe.db.rollback()

		self.assertEqual(answer.status_code, 200, answer.text[:300])
		self.assertIsNone(self.user_of_session(sid))
		self.assertFalse(frappe.db.exists("Keycloak Session", {"frappe_session": sid}))

	def test_back_channel_logout_from_keycloak_ends_the_frappe_session(self):
		browser = requests.Session()
		self.log_in(browser, f"carol-{RUN}")
		sid = browser.cookies["sid"]
		self.assertEqual(self.user_of_session(sid), CAROL)
		id_token = frappe.db.get_value("Keycloak Session", {"frappe_session": sid}, "id_token")

		# Logging out at Keycloak (not through us) makes it POST a logout token to our route.
		end_session = f"{self.provider.issuer}/protocol/openid-connect/logout?id_token_hint={id_token}"
		self.provider.confirm_logout(browser, end_session)
		frappe.db.rollback()

		self.assertIsNone(self.user_of_session(sid))
		self.assertFalse(frappe.db.exists("Keycloak Session", {"frappe_session": sid}))

	def test_back_channel_logout_token_with_a_nonce_is_refused(self):
		browser = requests.Session()
		self.log_in(browser, f"carol-{RUN}")
		sid = browser.cookies["sid"]
		self.assertEqual(self.user_of_session(sid), CAROL)
		keycloak_session = frappe.db.get_value(
			"Keycloak Session", {"frappe_session": sid}, "keycloak_session"
		)
		self.assertTrue(keycloak_session)  # the token below must name a real session to prove the refusal
		now = int(time.time())
		token = jwt.encode(
			{
				"iss": self.provider.issuer,
				"aud": "dashboard",
				"iat": now,
				"exp": now + 120,
				"jti": str(uuid.uuid4()),
				"sid": keycloak_session,
				"events": {BACKCHANNEL_LOGOUT_EVENT: {}},
				"nonce": "n",
			},
			self.provider.signing_key,
			algorithm="RS256",
			headers={"kid": self.provider.kid},
		)
		answer = requests.post(
			f"{self.site_url}/auth/keycloak/backchannel_logout", data={"logout_token": token}, timeout=10
		)
		frappe.db.rollback()
		self.assertEqual(answer.status_code, 400)
		self.assertEqual(self.user_of_session(sid), CAROL)
