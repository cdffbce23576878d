"""Single sign-on into tenant sites, switched from Press, in a real bench with Press and the Keycloak
admin-API stand-in: per plan, per site, permission-checked, and undone by switching off and by archive.

What reaches the site is checked on the "Update Site Configuration" Agent Job that Press's own
Site.update_site_config inserts (its request data is what the Agent writes into site_config.json);
no Agent runs here, so Press's workers fail to deliver it later, which these tests do not look at.
"""

import json

import frappe
import requests
from frappe.utils.password import update_password

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

from press_selfhost.api import site_sso as api
from press_selfhost.identity.dashboard_login import bootstrap_realm
from press_selfhost.identity.tenant_login import SITE_CONFIG_KEY
from press_selfhost.setup.bootstrap_records import TENANT_APP
from tests.standins.keycloak_admin import KeycloakAdminStandIn
from tests.support.frappe_fixtures import running_site_url, use_keycloak_admin_standin


class TestSiteSSO(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from frappe.utils.fixtures import sync_fixtures

		sync_fixtures("press_selfhost")  # what `bench migrate` does; adds the Custom Fields (DDL)
		frappe.clear_cache(doctype="Site")
		frappe.clear_cache(doctype="Site Plan")
		# Each test makes users (Press's test site, server and team helpers, and ours) and rolls them
		# back, but Frappe counts every user created in the last hour, committed by earlier modules
		# and runs too, against throttle_user_limit (60): a full run in a fresh bench exceeds it.
		cls.saved_user_limit = frappe.local.conf.get("throttle_user_limit")
		frappe.local.conf.throttle_user_limit = 10_000

	@classmethod
	def tearDownClass(cls):
		if cls.saved_user_limit is None:
			frappe.local.conf.pop("throttle_user_limit", None)
		else:
			frappe.local.conf.throttle_user_limit = cls.saved_user_limit
		super().tearDownClass()

	def setUp(self):
		from press.press.doctype.site.test_site import create_test_site
		from press.press.doctype.site_plan.test_site_plan import create_test_plan
		from press.press.doctype.team.test_team import create_test_press_admin_team

		frappe.set_user("Administrator")
		# No Agent runs here, so every push stays Undelivered: with Press's deduplication on, a second
		# switch would be refused (test_a_switch_while_a_config_push_is_on_its_way_is_refused).
		frappe.db.set_single_value("Press Settings", "disable_agent_job_deduplication", 1)
		self.keycloak = KeycloakAdminStandIn().start()
		use_keycloak_admin_standin(self.keycloak)
		bootstrap_realm()
		self.plan = create_test_plan("Site")
		frappe.db.set_value("Site Plan", self.plan.name, "allow_keycloak_sso", 1)
		self.team = create_test_press_admin_team()  # a Press Admin, not a System Manager
		self.site = create_test_site(plan=self.plan.name, team=self.team.name)
		self.client_id = f"site-{self.site.name}"
		self.carry_tenant_app_in_the_bench()
		self.mark_tenant_app_installed()

	def tearDown(self):
		frappe.set_user("Administrator")
		self.keycloak.stop()
		frappe.db.rollback()

	def carry_tenant_app_in_the_bench(self):
		"""The site's bench and group have the tenant app, as with the bench image of compose/images/bench
		and bootstrap's release group (rows written directly: the test bench has no real app source)."""
		if not frappe.db.exists("App", TENANT_APP):
			app = frappe.new_doc("App")
			app.name, app.title = TENANT_APP, "Press Selfhost Tenant"
			app.insert(ignore_permissions=True)
		for doctype, parent, parenttype, extra in (
			("Bench App", self.site.bench, "Bench", {"hash": "0" * 40}),
			("Release Group App", self.site.group, "Release Group", {"title": "Press Selfhost Tenant"}),
		):
			frappe.get_doc(
				{
					"doctype": doctype,
					"parent": parent,
					"parenttype": parenttype,
					"parentfield": "apps",
					"app": TENANT_APP,
					"idx": 99,
					**extra,
				}
			).db_insert()

	def mark_tenant_app_installed(self):
		"""The tenant app on the site, as Press records it once "Install App on Site" succeeded (no
		Agent runs here, and the test bench's group has no such app to install)."""
		frappe.get_doc(
			{
				"doctype": "Site App",
				"parent": self.site.name,
				"parenttype": "Site",
				"parentfield": "apps",
				"app": TENANT_APP,
				"idx": len(self.site.apps) + 1,
			}
		).db_insert()

	def config_jobs(self):
		return frappe.get_all(
			"Agent Job",
			{"site": self.site.name, "job_type": "Update Site Configuration"},
			["request_data"],
			order_by="creation asc",
		)

	# -- switching on and off ----------------------------------------------------------------------
	def test_switching_on_creates_the_sites_client_and_pushes_its_config(self):
		answer = api.enable(self.site.name)

		client = self.keycloak.client("cloud", self.client_id)
		self.assertEqual(client["redirectUris"], [f"https://{self.site.name}/auth/keycloak/callback"])
		self.assertEqual(client["webOrigins"], [f"https://{self.site.name}"])
		pushed = json.loads(self.config_jobs()[-1].request_data)["config"][SITE_CONFIG_KEY]
		self.assertEqual(
			pushed,
			{
				"server_url": self.keycloak.url,
				"realm": "cloud",
				"client_id": self.client_id,
				"client_secret": client["secret"],
				"site_url": f"https://{self.site.name}",
			},
		)
		self.assertEqual(frappe.db.get_value("Site", self.site.name, "keycloak_sso_enabled"), 1)
		self.assertNotIn(client["secret"], json.dumps(answer))
		# The key is internal: the dashboard neither shows nor lets the team edit it.
		self.assertEqual(frappe.db.get_value("Site Config Key", SITE_CONFIG_KEY, "internal"), 1)

		# Switching on again keeps the same client and secret.
		api.enable(self.site.name)
		again = json.loads(self.config_jobs()[-1].request_data)["config"][SITE_CONFIG_KEY]
		self.assertEqual(again, pushed)

	def test_the_team_owners_keycloak_account_gets_system_manager(self):
		owner = self.team.user
		subject = self.keycloak.add_user("cloud")
		frappe.get_doc(
			{"doctype": "Keycloak Identity", "subject": subject, "user": owner, "email": owner}
		).insert(ignore_permissions=True)

		self.assertTrue(api.enable(self.site.name)["owner_granted"])
		self.assertEqual(self.keycloak.client_roles_of("cloud", subject, self.client_id), {"System Manager"})

	def test_switching_off_removes_the_config_and_the_client(self):
		api.enable(self.site.name)
		api.disable(self.site.name)

		self.assertIsNone(self.keycloak.client("cloud", self.client_id))
		last = json.loads(self.config_jobs()[-1].request_data)
		self.assertNotIn(SITE_CONFIG_KEY, last["config"])
		self.assertIn(SITE_CONFIG_KEY, last["remove"])
		self.assertEqual(frappe.db.get_value("Site", self.site.name, "keycloak_sso_enabled"), 0)

	# -- refusals ----------------------------------------------------------------------------------
	def test_a_plan_without_sso_is_refused(self):
		frappe.db.set_value("Site Plan", self.plan.name, "allow_keycloak_sso", 0)
		with self.assertRaises(frappe.PermissionError):
			api.enable(self.site.name)
		self.assertIsNone(self.keycloak.client("cloud", self.client_id))
		self.assertEqual(self.config_jobs(), [])
		self.assertFalse(api.status(self.site.name)["allowed"])

	def test_a_switch_while_a_config_push_is_on_its_way_is_refused(self):
		"""With Press's deduplication (its default) a second push would be folded into the first,
		undelivered one (no Agent runs here), and never reach the site."""
		frappe.db.set_single_value("Press Settings", "disable_agent_job_deduplication", 0)
		api.enable(self.site.name)
		with self.assertRaisesRegex(frappe.ValidationError, "still on its way"):
			api.disable(self.site.name)
		self.assertIsNotNone(self.keycloak.client("cloud", self.client_id))
		self.assertEqual(len(self.config_jobs()), 1)
		self.assertEqual(frappe.db.get_value("Site", self.site.name, "keycloak_sso_enabled"), 1)

		frappe.db.set_value("Agent Job", {"site": self.site.name}, "status", "Success")  # delivered
		api.disable(self.site.name)
		self.assertIsNone(self.keycloak.client("cloud", self.client_id))

	def test_switching_on_installs_the_tenant_app_when_the_site_lacks_it(self):
		frappe.db.delete("Site App", {"parent": self.site.name, "app": TENANT_APP})
		self.assertTrue(api.enable(self.site.name)["installing_app"])
		self.assertTrue(
			frappe.db.exists("Agent Job", {"site": self.site.name, "job_type": "Install App on Site"})
		)
		self.assertIsNotNone(self.keycloak.client("cloud", self.client_id))

	def test_a_site_whose_bench_lacks_the_tenant_app_is_refused(self):
		frappe.db.delete("Site App", {"parent": self.site.name, "app": TENANT_APP})
		frappe.db.delete("Release Group App", {"parent": self.site.group, "app": TENANT_APP})
		with self.assertRaisesRegex(frappe.ValidationError, "lacks the app press_selfhost_tenant"):
			api.enable(self.site.name)
		self.assertIsNone(self.keycloak.client("cloud", self.client_id))

	def test_only_the_sites_team_or_a_system_manager_may_switch_or_see_it(self):
		stranger = frappe.get_doc(
			{
				"doctype": "User",
				"email": f"stranger-{frappe.generate_hash(length=6)}@example.com",
				"first_name": "Stranger",
				"user_type": "Website User",
				"send_welcome_email": 0,
			}
		).insert(ignore_permissions=True)
		frappe.set_user(stranger.name)
		# Answered as for a missing site, so a stranger cannot tell which names exist.
		for method in (api.enable, api.disable, api.status):
			with self.assertRaisesRegex(frappe.DoesNotExistError, f"No site {self.site.name}"):
				method(self.site.name)
		frappe.set_user("Administrator")
		self.assertIsNone(self.keycloak.client("cloud", self.client_id))

		frappe.set_user(self.team.user)
		self.assertTrue(api.enable(self.site.name)["enabled"])

	def test_the_dashboard_reaches_the_switch_under_press_api(self):
		"""Press's auth hook lets Website Users call press.api.* only: our aliases map there, as
		frappe.handler.execute_cmd resolves them (it needs an HTTP request, so its steps are done here)."""
		overrides = frappe.get_hooks("override_whitelisted_methods")
		frappe.set_user(self.team.user)
		for alias, ours in (("status", api.status), ("enable", api.enable), ("disable", api.disable)):
			method = frappe.get_attr(overrides[f"press.api.selfhost_sso.{alias}"][-1])
			self.assertIs(method, ours)
			frappe.is_whitelisted(method)  # raises when not
		status = frappe.get_attr(overrides["press.api.selfhost_sso.status"][-1])
		self.assertEqual(
			status(site=self.site.name), {"site": self.site.name, "enabled": False, "allowed": True}
		)

	# -- archive -----------------------------------------------------------------------------------
	def test_archiving_the_site_removes_its_client(self):
		api.enable(self.site.name)
		self.assertIsNotNone(self.keycloak.client("cloud", self.client_id))

		frappe.get_doc("Site", self.site.name).archive()

		self.assertTrue(frappe.db.exists("Agent Job", {"site": self.site.name, "job_type": "Archive Site"}))
		self.assertIsNone(self.keycloak.client("cloud", self.client_id))
		self.assertEqual(frappe.db.get_value("Site", self.site.name, "keycloak_sso_enabled"), 0)


def _messages(response: requests.Response) -> str:
	"""What the user is told, without the id Frappe gives each logged exception."""
	return " | ".join(
		json.loads(entry)["message"] for entry in json.loads(response.json()["_server_messages"])
	)


class TestSiteSSOStatusOverHTTP(IntegrationTestCase):
	"""press.api.selfhost_sso.status called as the dashboard calls it: over HTTP, as a customer (a
	Website User with a team), through Press's auth hook. Its rows are committed, since the bench's
	web server reads them, and deleted afterwards; the customer is kept as a fixture."""

	CUSTOMER = "sso-status-probe@example.com"
	PASSWORD = "Probe-password-4Kq9Zt"

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site_url = running_site_url()
		suffix = frappe.generate_hash(length=8)
		cls.team = f"sso-probe-team-{suffix}"
		cls.own_site = f"sso-probe-own-{suffix}.example.com"
		cls.other_site = f"sso-probe-other-{suffix}.example.com"
		cls.missing_site = f"sso-probe-missing-{suffix}.example.com"
		if not frappe.db.exists("User", cls.CUSTOMER):
			frappe.flags.in_import = True  # past Frappe's new-user throttle, as ensure_user does
			try:
				frappe.get_doc(
					{
						"doctype": "User",
						"email": cls.CUSTOMER,
						"first_name": "Probe",
						"user_type": "Website User",
						"send_welcome_email": 0,
						"roles": [{"role": "Press Admin"}],
					}
				).insert(ignore_permissions=True)
			finally:
				frappe.flags.in_import = False
		# kept from an earlier run, whose Team deletion disabled it (Press disables a deleted team's users)
		frappe.db.set_value("User", cls.CUSTOMER, "enabled", 1)
		update_password(cls.CUSTOMER, cls.PASSWORD)
		# Bare rows: the endpoint reads a Site's team and plan, and Press the customer's Team.
		frappe.get_doc(
			{"doctype": "Team", "name": cls.team, "user": cls.CUSTOMER, "enabled": 1, "team_title": "Probe"}
		).db_insert()
		for name, team in ((cls.own_site, cls.team), (cls.other_site, f"another-team-{suffix}")):
			frappe.get_doc({"doctype": "Site", "name": name, "team": team, "status": "Active"}).db_insert()
		frappe.db.commit()

	@classmethod
	def tearDownClass(cls):
		frappe.db.delete("Site", {"name": ("in", (cls.own_site, cls.other_site))})
		frappe.db.delete("Team", {"name": cls.team})
		frappe.db.commit()
		super().tearDownClass()

	def status_as_customer(self, site: str) -> requests.Response:
		session = requests.Session()
		login = session.post(
			f"{self.site_url}/api/method/login", json={"usr": self.CUSTOMER, "pwd": self.PASSWORD}, timeout=10
		)
		self.assertEqual(login.status_code, 200, login.text)
		return session.get(
			f"{self.site_url}/api/method/press.api.selfhost_sso.status", params={"site": site}, timeout=10
		)

	def test_another_teams_site_and_a_missing_site_get_the_same_answer(self):
		own = self.status_as_customer(self.own_site)
		self.assertEqual(own.status_code, 200, own.text)  # the customer reaches the endpoint at all
		self.assertEqual(own.json()["message"]["site"], self.own_site)

		other = self.status_as_customer(self.other_site)
		missing = self.status_as_customer(self.missing_site)

		self.assertEqual((other.status_code, missing.status_code), (404, 404))
		self.assertEqual(other.json()["exc_type"], missing.json()["exc_type"])
		self.assertIn(f"No site {self.other_site}.", other.json()["_server_messages"])
		self.assertEqual(
			_messages(other).replace(self.other_site, "<site>"),
			_messages(missing).replace(self.missing_site, "<site>"),
		)

	def test_a_system_manager_still_learns_that_a_site_is_missing_or_gets_its_state(self):
		frappe.set_user("Administrator")
		self.assertEqual(api.status(self.other_site)["site"], self.other_site)
		with self.assertRaisesRegex(frappe.DoesNotExistError, f"No site {self.missing_site}"):
			api.status(self.missing_site)
