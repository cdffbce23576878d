"""press_selfhost.api.traefik.config in a real bench with Press: token, routes from Press records, 304.

Press records are written with db_insert, which skips their hooks: inserting a Site normally sends
agent jobs, and these tests are about what Traefik reads, not about creating sites.
"""

import base64
import json

import frappe
from frappe.utils import set_request

from press_selfhost.api import traefik

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

TOKEN = "traefik-token-for-bench-tests"
DOMAIN = "routing-test.example"
BENCH = "bench-routing-test-0001"


class TestTraefikConfig(IntegrationTestCase):
	def setUp(self):
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{
				"domain": DOMAIN,
				"traefik_config_token": TOKEN,
				"traefik_wildcard_cert_resolver": "letsencrypt-dns",
				"traefik_custom_domain_cert_resolver": "letsencrypt-http",
			}
		)
		settings.save()
		self.insert("Root Domain", DOMAIN)
		self.insert("Server", f"f1.{DOMAIN}", private_ip="10.9.0.5", ip="203.0.113.9", is_self_hosted=0)
		self.insert("Bench", BENCH, server=f"f1.{DOMAIN}", port_offset=7)
		self.sites = {
			f"active.{DOMAIN}": "Active",
			f"suspended.{DOMAIN}": "Suspended",
			f"broken.{DOMAIN}": "Broken",
			f"gone.{DOMAIN}.archived": "Archived",
		}
		for name, status in self.sites.items():
			self.insert("Site", name, status=status, server=f"f1.{DOMAIN}", bench=BENCH)
			self.insert("Site Domain", name, domain=name, site=name)
		self.insert(
			"Site Domain",
			"erp.routing-customer.example",
			domain="erp.routing-customer.example",
			site=f"active.{DOMAIN}",
		)

	def tearDown(self):
		frappe.db.rollback()
		frappe.local.request = None

	def insert(self, doctype, name, **values):
		if not frappe.db.exists(doctype, name):
			frappe.get_doc({"doctype": doctype, "name": name, **values}).db_insert()

	def fetch(self, **headers):
		set_request(method="GET", path="/api/method/press_selfhost.api.traefik.config", headers=headers)
		return traefik.config()

	def test_refused_without_the_token_or_with_a_wrong_one(self):
		for headers in ({}, {"X-Traefik-Token": "wrong"}, {"X-Traefik-Token": ""}):
			response = self.fetch(**headers)
			self.assertEqual(response.status_code, 401)
			self.assertNotIn(TOKEN, response.get_data(as_text=True))

	def test_basic_auth_password_is_accepted_by_the_token_check(self):
		credentials = base64.b64encode(f"traefik:{TOKEN}".encode()).decode()
		self.assertEqual(self.fetch(Authorization=f"Basic {credentials}").status_code, 200)

	def test_routes_follow_press_records(self):
		response = self.fetch(**{"X-Traefik-Token": TOKEN})
		self.assertEqual(response.status_code, 200)
		http = json.loads(response.get_data())["http"]
		routers = http["routers"]
		active = routers[f"site-active_{DOMAIN.replace('.', '_')}"]
		# The bench's own ports on the app server (Press: 18000/19000 + Bench.port_offset).
		self.assertEqual(
			http["services"][active["service"]]["loadBalancer"]["servers"], [{"url": "http://10.9.0.5:18007"}]
		)
		socketio = routers["socketio-10_9_0_5__19007"]
		self.assertEqual(
			http["services"][socketio["service"]]["loadBalancer"]["servers"],
			[{"url": "http://10.9.0.5:19007"}],
		)
		self.assertEqual(active["tls"]["certResolver"], "letsencrypt-dns")
		custom = routers["site-erp_routing-customer_example"]
		self.assertEqual(custom["service"], active["service"])
		self.assertEqual(custom["tls"], {"certResolver": "letsencrypt-http"})
		suspended = routers[f"site-suspended_{DOMAIN.replace('.', '_')}"]
		self.assertEqual(suspended["middlewares"][-1], "suspended-page")
		broken = routers[f"site-broken_{DOMAIN.replace('.', '_')}"]
		self.assertEqual(broken["middlewares"][-1], "unavailable-page")
		self.assertFalse(any("gone" in name for name in routers))
		self.assertIn("press", routers)

	def test_answers_304_to_a_matching_etag_and_200_after_a_status_change(self):
		first = self.fetch(**{"X-Traefik-Token": TOKEN})
		etag = first.headers["ETag"]
		again = self.fetch(**{"X-Traefik-Token": TOKEN, "If-None-Match": etag})
		self.assertEqual(again.status_code, 304)
		self.assertEqual(again.get_data(), b"")
		frappe.db.set_value("Site", f"active.{DOMAIN}", "status", "Suspended")
		changed = self.fetch(**{"X-Traefik-Token": TOKEN, "If-None-Match": etag})
		self.assertEqual(changed.status_code, 200)
		self.assertNotEqual(changed.headers["ETag"], etag)

	def test_one_query_per_doctype_however_many_sites(self):
		for number in range(40):
			name = f"bulk{number}.{DOMAIN}"
			self.insert("Site", name, status="Active", server=f"f1.{DOMAIN}", bench=BENCH)
			self.insert("Site Domain", name, domain=name, site=name)
		# settings (single + password) and one query each for Site, Site Domain, Server, Bench, Root Domain
		with self.assertQueryCount(11):
			response = self.fetch(**{"X-Traefik-Token": TOKEN})
		self.assertEqual(response.status_code, 200)
		self.assertIn(
			f"site-bulk39_{DOMAIN.replace('.', '_')}", json.loads(response.get_data())["http"]["routers"]
		)
