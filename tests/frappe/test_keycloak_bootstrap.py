"""Realm bootstrap and session ending from Selfhost Settings in a real bench, against the Keycloak
admin-API stand-in."""

import frappe
from frappe.utils import get_url

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

from press_selfhost.identity.dashboard_login import bootstrap_realm, end_keycloak_session
from press_selfhost.identity.keycloak_admin import ADMIN_OTP_FLOW
from tests.standins.keycloak_admin import KeycloakAdminStandIn
from tests.support.frappe_fixtures import use_keycloak_admin_standin


class TestKeycloakBootstrap(IntegrationTestCase):
	def setUp(self):
		self.keycloak = KeycloakAdminStandIn().start()
		use_keycloak_admin_standin(self.keycloak)

	def tearDown(self):
		self.keycloak.stop()
		frappe.db.rollback()

	def test_bootstrap_creates_the_realm_once(self):
		self.assertIn("created realm cloud", bootstrap_realm())
		client = self.keycloak.client("cloud", "dashboard")
		self.assertEqual(client["redirectUris"], [get_url("/auth/keycloak/callback")])
		self.assertEqual(
			client["attributes"]["backchannel.logout.url"], get_url("/auth/keycloak/backchannel_logout")
		)
		self.assertEqual(client["secret"], "dashboard-secret")
		self.assertEqual(bootstrap_realm(), [])

	def test_two_factor_for_admins_only_binds_our_browser_flow_and_back(self):
		settings = frappe.get_single("Selfhost Settings")
		settings.keycloak_two_factor = "required for admins"
		settings.save()
		self.assertIn(f"updated browser flow {ADMIN_OTP_FLOW}", bootstrap_realm())
		self.assertEqual(self.keycloak.realms["cloud"]["representation"]["browserFlow"], ADMIN_OTP_FLOW)
		self.assertEqual(bootstrap_realm(), [])

		settings.keycloak_two_factor = "optional"
		settings.save()
		self.assertIn(f"deleted authentication flow {ADMIN_OTP_FLOW}", bootstrap_realm())
		self.assertEqual(self.keycloak.realms["cloud"]["representation"]["browserFlow"], "browser")

	def test_display_name_of_the_realm_comes_from_the_settings(self):
		settings = frappe.get_single("Selfhost Settings")
		settings.keycloak_display_name = "Acme Cloud"
		settings.save()
		bootstrap_realm()
		self.assertEqual(self.keycloak.realms["cloud"]["representation"]["displayName"], "Acme Cloud")

	def test_logout_job_ends_the_keycloak_session(self):
		bootstrap_realm()
		session_id = self.keycloak.open_session("cloud")
		end_keycloak_session(session_id)
		self.assertNotIn(session_id, self.keycloak.realms["cloud"]["sessions"])
		end_keycloak_session(session_id)  # already ended: nothing to do, no error
