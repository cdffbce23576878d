"""Tenant-site single sign-on end to end: the team owner switches it over HTTP as the dashboard does,
and what Press sends reaches the app server's agent through Traefik and TLS, polled by Press's own
code (the harness of test_sites_through_agents), with the Keycloak admin-API stand-in as Keycloak.

Where the site's client secret lives: the agent's request carries it (the site needs it), and Press
itself stores every config push verbatim, so it is in the "Update Site Configuration" Agent Job's
request_data and in the Site's configuration, both readable by System Managers only. The dashboard's
view of the job (press.api.client.get, Agent Job dashboard_fields) and every other field of the job
stay free of it, and so do the answers of the switch.
"""

import json
import secrets

import frappe
import requests
import test_sites_through_agents as through_agents
from frappe.utils import get_site_url
from frappe.utils.password import get_decrypted_password, set_encrypted_password, update_password

from press_selfhost.identity.dashboard_login import bootstrap_realm
from press_selfhost.identity.tenant_login import SITE_CONFIG_KEY
from press_selfhost.setup.bootstrap_records import TENANT_APP
from tests.standins.keycloak_admin import KeycloakAdminStandIn
from tests.support.frappe_fixtures import use_keycloak_admin_standin

APP_SERVER, DOMAIN = through_agents.APP_SERVER, through_agents.DOMAIN
KEYCLOAK_FIELDS = ("keycloak_url", "keycloak_realm", "keycloak_client_id", "keycloak_admin_username")
KEYCLOAK_SECRETS = ("keycloak_client_secret", "keycloak_admin_password")
SETTLED = ("Success", "Failure", "Delivery Failure")


class TestSiteSSOThroughAgents(through_agents.ThroughAgentsTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site_url = get_site_url(frappe.local.site)
		try:
			requests.get(f"{cls.site_url}/api/method/ping", timeout=5)
		except requests.ConnectionError:
			raise AssertionError(f"this test needs the bench's web server at {cls.site_url}") from None
		cls.keycloak = KeycloakAdminStandIn().start()

	@classmethod
	def tearDownClass(cls):
		cls.keycloak.stop()
		super().tearDownClass()

	def setUp(self):
		self.saved_keycloak = {
			field: frappe.db.get_single_value("Selfhost Settings", field) for field in KEYCLOAK_FIELDS
		}
		self.saved_keycloak_secrets = {
			field: get_decrypted_password(
				"Selfhost Settings", "Selfhost Settings", field, raise_exception=False
			)
			for field in KEYCLOAK_SECRETS
		}
		self.saved_deduplication = frappe.db.get_single_value(
			"Press Settings", "disable_agent_job_deduplication"
		)
		super().setUp()
		# Press's default, which folds a job into a like one still on its way (the test bench has
		# it off)
		frappe.db.set_single_value("Press Settings", "disable_agent_job_deduplication", 0)
		self.keycloak.reset()
		use_keycloak_admin_standin(self.keycloak)
		bootstrap_realm()
		frappe.db.commit()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	def _remove_what_the_test_made(self):
		super()._remove_what_the_test_made()
		frappe.db.set_single_value(
			"Press Settings", "disable_agent_job_deduplication", self.saved_deduplication
		)
		for field, value in self.saved_keycloak.items():
			frappe.db.set_single_value("Selfhost Settings", field, value)
		for field, value in self.saved_keycloak_secrets.items():
			if value:
				set_encrypted_password("Selfhost Settings", "Selfhost Settings", value, field)
			else:
				frappe.db.delete("__Auth", {"doctype": "Selfhost Settings", "fieldname": field})
		frappe.db.commit()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	# -- helpers -------------------------------------------------------------------------------------
	def active_site(self) -> str:
		"""A Press Site on the bootstrapped group and plan, driven Active through the agents."""
		self.drive(
			lambda: len(self.jobs(bench=self.bench)) == 2 and self.settled(bench=self.bench),
			"the bench's jobs",
		)
		site = frappe.get_doc(
			{
				"doctype": "Site",
				"subdomain": f"sso{secrets.token_hex(4)}",
				"domain": DOMAIN,
				"cluster": self.settings.cluster,
				"group": self.names["Release Group"],
				"team": self.names["Team"],
				"free": 1,
				"apps": [{"app": "frappe"}],
			}
		)
		site.subscription_plan = self.settings.site_plans[0].name
		site.insert(ignore_permissions=True)
		self.sites.append(site.name)
		frappe.db.commit()
		self.drive(lambda: self.site_status(site.name) == "Active", "the site going Active")
		self.assertEqual(frappe.db.get_value("Site", site.name, "plan"), self.settings.site_plans[0].name)
		return site.name

	def dashboard(self) -> requests.Session:
		"""The team owner logged in to the web server, calling Press's API as the dashboard does."""
		owner = frappe.db.get_value("Team", self.names["Team"], "user")
		# Bootstrap gives the team owner the role Press gives every dashboard customer at signup,
		# which grants write on their Sites.
		self.assertTrue(frappe.has_permission("Site", "write", user=owner))
		self.assertNotIn("System Manager", frappe.get_roles(owner), "the owner is a customer, not staff")
		password = secrets.token_urlsafe(16)
		update_password(owner, password)
		frappe.db.commit()
		session = requests.Session()
		login = session.post(
			f"{self.site_url}/api/method/login", data={"usr": owner, "pwd": password}, timeout=10
		)
		self.assertEqual(login.status_code, 200, login.text)
		session.headers["X-Press-Team"] = self.names["Team"]
		return session

	def call(self, session: requests.Session, method: str, **params) -> requests.Response:
		answer = session.post(f"{self.site_url}/api/method/{method}", json=params, timeout=30)
		frappe.db.commit()  # a fresh snapshot: the web server committed what it did
		return answer

	def switch(self, session: requests.Session, on: bool, site: str) -> dict:
		answer = self.call(session, f"press.api.selfhost_sso.{'enable' if on else 'disable'}", site=site)
		self.assertEqual(answer.status_code, 200, answer.text)
		return answer.json()["message"]

	def config_requests(self, site: str) -> list[dict]:
		"""The bodies the app server's agent received on the site's config route, oldest first."""
		return [
			request.json()
			for request in self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site}/config")
		]

	def client(self, site: str) -> dict | None:
		return self.keycloak.client("cloud", f"site-{site}")

	def set_plan_allows_sso(self, allowed: bool) -> None:
		frappe.db.set_value("Site Plan", self.settings.site_plans[0].name, "allow_keycloak_sso", int(allowed))
		frappe.db.commit()

	def assert_secret_only_where_press_stores_config(self, session, site: str, secret: str, job: str):
		stored = frappe.get_doc("Agent Job", job).as_dict()
		self.assertIn(secret, stored.request_data, "Press stores each config push verbatim")
		others = {k: v for k, v in stored.items() if k != "request_data"}
		self.assertNotIn(secret, json.dumps(others, default=str))
		steps = frappe.get_all("Agent Job Step", {"agent_job": job}, ["output", "data", "traceback"])
		self.assertNotIn(secret, json.dumps(steps, default=str))
		seen = self.call(session, "press.api.client.get", doctype="Agent Job", name=job)
		self.assertEqual(seen.status_code, 200, seen.text)
		self.assertEqual(seen.json()["message"]["job_type"], "Update Site Configuration")
		self.assertNotIn(secret, seen.text, "the dashboard's view of the job")
		self.assertNotIn(secret, self.entrypoint.log.read_text(), "Traefik's access log")
		self.assertFalse(frappe.db.exists("Error Log", {"error": ("like", f"%{secret}%")}))

	# -- the test ------------------------------------------------------------------------------------
	def test_the_owner_switches_sso_and_the_config_reaches_the_sites_agent_and_archive_drops_the_client(
		self,
	):
		site = self.active_site()
		session = self.dashboard()
		config_route = f"benches/{self.bench}/sites/{site}/config"

		# A plan without SSO: refused, nothing reaches Keycloak or the agent.
		self.set_plan_allows_sso(False)
		jobs_before = self.jobs(site=site)
		refused = self.call(session, "press.api.selfhost_sso.enable", site=site)
		self.assertEqual(refused.status_code, 403, refused.text)
		self.assertEqual(refused.json()["exc_type"], "PermissionError")
		self.assertIn("does not include single sign-on", refused.json()["_server_messages"])
		self.assertIsNone(self.client(site))
		self.drive(lambda: self.settled(site=site), "nothing")
		self.assertEqual(self.jobs(site=site), jobs_before)
		self.assertEqual(self.config_requests(site), [])
		status = self.call(session, "press.api.selfhost_sso.status", site=site).json()["message"]
		self.assertEqual(status, {"site": site, "enabled": False, "allowed": False})

		# Allowed: the site's client, its config delivered to the agent, the tenant app installed.
		self.set_plan_allows_sso(True)
		answer = self.switch(session, True, site)
		client = self.client(site)
		self.assertIsNotNone(client)
		secret = client["secret"]
		self.assertEqual(
			answer,
			{
				"site": site,
				"enabled": True,
				"client_id": f"site-{site}",
				"owner_granted": False,
				"installing_app": True,
			},
		)
		# Switching off while the config is still on its way is refused: Press would fold the removal
		# into the undelivered push, and the site would keep the config of a deleted client.
		too_soon = self.call(session, "press.api.selfhost_sso.disable", site=site)
		self.assertEqual(too_soon.status_code, 417, too_soon.text)
		self.assertIn("still on its way", too_soon.json()["_server_messages"])
		self.assertEqual(self.client(site)["secret"], secret)
		self.drive(lambda: self.settled(site=site), "switching SSO on")
		self.assertEqual(
			self.jobs(site=site)[len(jobs_before) :],
			[
				("Update Site Configuration", APP_SERVER, "Success"),
				("Install App on Site", APP_SERVER, "Success"),
			],
		)
		delivered = self.config_requests(site)
		self.assertEqual(len(delivered), 1)
		self.assertEqual(
			delivered[0]["config"][SITE_CONFIG_KEY],
			{
				"server_url": self.keycloak.url,
				"realm": "cloud",
				"client_id": f"site-{site}",
				"client_secret": secret,
				"site_url": f"https://{site}",
			},
		)
		installs = self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site}/apps")
		self.assertEqual([request.json() for request in installs], [{"name": TENANT_APP}])
		self.assertIn(TENANT_APP, [row.app for row in frappe.get_doc("Site", site).apps])
		self.assertEqual(self.site_status(site), "Active")
		config_job = frappe.db.get_value(
			"Agent Job", {"site": site, "job_type": "Update Site Configuration", "request_path": config_route}
		)
		self.assert_secret_only_where_press_stores_config(session, site, secret, config_job)
		status = self.call(session, "press.api.selfhost_sso.status", site=site).json()["message"]
		self.assertEqual(status, {"site": site, "enabled": True, "allowed": True})

		# Off: the key's removal is delivered and the client leaves Keycloak.
		self.assertEqual(self.switch(session, False, site), {"site": site, "enabled": False})
		self.assertIsNone(self.client(site))
		self.drive(lambda: self.settled(site=site), "switching SSO off")
		self.assertEqual(self.jobs(site=site)[-1], ("Update Site Configuration", APP_SERVER, "Success"))
		removal = self.config_requests(site)[-1]
		self.assertIn(SITE_CONFIG_KEY, removal["remove"])
		self.assertNotIn(SITE_CONFIG_KEY, removal["config"])

		# On again (the app is there now: no second install), then archiving removes the client.
		self.assertFalse(self.switch(session, True, site)["installing_app"])
		self.drive(lambda: self.settled(site=site), "switching SSO on again")
		self.assertEqual(len(self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site}/apps")), 1)
		self.assertEqual(
			self.config_requests(site)[-1]["config"][SITE_CONFIG_KEY]["client_secret"],
			self.client(site)["secret"],
		)
		self.change_cname("CREATE", site)  # the record archiving removes (see test_sites_through_agents)
		frappe.get_doc("Site", site).archive(reason="end-to-end test")
		frappe.db.commit()
		self.assertIsNone(self.client(site), "the Archive Site job's insert removed the client")
		self.drive(
			lambda: (
				frappe.db.get_value("Site", {"name": ("in", [site, f"{site}.archived"])}, "status")
				== "Archived"
			),
			"the site being archived",
		)
		self.assertEqual(len(self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site}/archive")), 1)
		self.assertNotIn("Failure", {status for *_, status in self.jobs()})
		self.assert_delivered_through_traefik()
