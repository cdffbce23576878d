"""Bootstrap in a real bench with Press: the records it writes, and that a second run changes nothing.

Bootstrap commits after each record (as the bench command does), so the test uses names of its own
(a random domain, cluster, team owner and plan codes) and deletes what it created afterwards.
"""

import secrets

import frappe
from frappe.utils.password import get_decrypted_password, set_encrypted_password

from press_selfhost.setup.bootstrap import apply, bootstrap, plan, read_capabilities
from press_selfhost.setup.bootstrap_plan import Operation, summary_table
from press_selfhost.setup.bootstrap_records import BootstrapSettings, SitePlanSpec
from tests.support.frappe_fixtures import restore_press_settings, saved_press_settings

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase


def _settings() -> BootstrapSettings:
	run = secrets.token_hex(4)
	return BootstrapSettings(
		domain=f"bootstrap-{run}.test",
		admin_email=f"platform-{run}@example.com",
		app_server_private_ip="10.0.0.11",
		proxy_server_private_ip="10.0.0.12",
		database_server_private_ip="127.0.0.1",  # reachability is checked: loopback only
		app_agent_password=secrets.token_hex(16),
		proxy_agent_password=secrets.token_hex(16),
		mariadb_root_password=secrets.token_hex(16),
		bench_image=f"registry.local/bench-{run}:v1",
		cluster=f"selfhost-{run}",
		release_group_title=f"Self-hosted {run}",
		site_plans=(SitePlanSpec(f"plan-{run}", "Test plan"),),
		smtp_host="postal-smtp",
		smtp_port=25,
		smtp_username="press",
		smtp_password=secrets.token_hex(8),
		mail_from_address=f"cloud@bootstrap-{run}.test",
		docker_registry_url=f"registry.bootstrap-{run}.test",
		docker_registry_username="press",
		docker_registry_password=secrets.token_hex(8),
	)


# The tests of the records bootstrap writes plan as if every agent, MariaDB and the registry answered;
# test_servers_it_cannot_reach_are_pending_and_the_bench_waits checks them for real (nothing here
# answers), and test_sites_through_agents reaches real agents through Traefik.
ALL_REACHED: dict[str, str] = {}

REGISTRY_FIELDS = ("docker_registry_url", "docker_registry_username", "docker_registry_password")


class TestBootstrap(IntegrationTestCase):
	def setUp(self):
		self.settings = _settings()
		self.created: list[tuple[str, str]] = []
		# bootstrap points the Press Settings Single at the test's domain; put them back afterwards
		self.press_settings = saved_press_settings()

	def tearDown(self):
		frappe.db.rollback()
		restore_press_settings(self.press_settings)
		bench_names = [name for doctype, name in self.created if doctype == "Bench"]
		if bench_names:
			frappe.db.delete("Agent Job", {"bench": ("in", bench_names)})
		for doctype, name in reversed(self.created):
			meta = frappe.get_meta(doctype)
			for table in meta.get_table_fields():
				frappe.db.delete(table.options, {"parent": name, "parenttype": doctype})
			frappe.db.delete(doctype, {"name": name})
			frappe.db.delete("__Auth", {"doctype": doctype, "name": name})
		frappe.db.commit()

	def _apply(self, unreached_now=ALL_REACHED):
		actions = plan(self.settings, unreached_now)
		names = apply(actions)
		self.created += [(a.doctype, names[a.key]) for a in actions if a.operation is Operation.CREATE]
		return actions, names

	def test_bootstrap_twice_creates_the_records_once_and_then_changes_nothing(self):
		first, names = self._apply()
		self.assertIn(Operation.CREATE, {a.operation for a in first})

		second = plan(self.settings, ALL_REACHED)
		changed = [(a.key, sorted(a.fields)) for a in second if a.operation is not Operation.UNCHANGED]
		self.assertEqual(changed, [], "a second bootstrap must change nothing")

		domain = self.settings.domain
		for doctype, hostname in (("Server", "f1"), ("Proxy Server", "n1"), ("Database Server", "m1")):
			server = frappe.get_doc(doctype, f"{hostname}.{domain}")
			self.assertEqual(server.status, "Active")
			self.assertFalse(server.ip, "an ip would make Press write a Route 53 record")
		self.assertEqual(
			frappe.get_doc("Server", f"f1.{domain}").get_password("agent_password"),
			self.settings.app_agent_password,
		)
		self.assertEqual(
			frappe.get_doc("Database Server", f"m1.{domain}").get_password("mariadb_root_password"),
			self.settings.mariadb_root_password,
		)
		if frappe.get_meta("Proxy Server").has_field("use_as_proxy_for_agent_and_metrics"):
			# else newer Press would send f1's agent requests through n1 instead of to f1 by name
			self.assertEqual(
				frappe.db.get_value("Proxy Server", f"n1.{domain}", "use_as_proxy_for_agent_and_metrics"), 0
			)
		certificate = frappe.get_doc("TLS Certificate", f"*.{domain}")
		self.assertEqual((certificate.wildcard, certificate.status), (1, "Active"))

		dns_providers = read_capabilities().options("Root Domain", "dns_provider")
		expected_provider = "Generic" if "Generic" in dns_providers else "AWS Route 53"
		self.assertEqual(frappe.db.get_value("Root Domain", domain, "dns_provider"), expected_provider)

		self.assertEqual(frappe.db.get_value("App Source", names["App Source"], "last_github_poll_failed"), 1)
		bench = frappe.get_doc("Bench", names["Bench"])
		self.assertEqual((bench.status, bench.server), ("Active", f"f1.{domain}"))
		self.assertEqual(bench.docker_image, self.settings.bench_image)
		self.assertEqual(frappe.db.get_value("Team", names["Team"], "free_account"), 1)
		site_plan = self.settings.site_plans[0].name
		self.assertEqual(
			frappe.db.get_value("Site Plan", site_plan, "price_usd"), 0
		)  # until Lago's is synced
		# offered to customers in the dashboard, and billed by the Lago plan of the same code
		customer_roles = {"Press Admin", "Press User"} & set(frappe.get_all("Role", pluck="name"))
		self.assertEqual(
			set(
				frappe.get_all(
					"Has Role", filters={"parenttype": "Site Plan", "parent": site_plan}, pluck="role"
				)
			),
			customer_roles,
		)
		self.assertEqual(frappe.db.get_value("Lago Plan Map", site_plan, "lago_plan_code"), site_plan)
		self.assertTrue(frappe.db.exists("Email Account", "Postal"))

		# what Press sends with "New Bench" (press/agent.py reads the columns as they are)
		self.assertEqual(
			tuple(frappe.db.get_value("Press Settings", None, list(REGISTRY_FIELDS))),
			(
				self.settings.docker_registry_url,
				self.settings.docker_registry_username,
				self.settings.docker_registry_password,
			),
		)
		owner = self.settings.admin_email
		role = next(r for r in ("Press User", "Press Admin") if frappe.db.exists("Role", r))
		self.assertIn(role, frappe.get_roles(owner))
		self.assertNotIn("System Manager", frappe.get_roles(owner), "the owner is a customer, not staff")
		# the dashboard saves a Site as its owner; without a Press role that was a 403
		self.assertTrue(frappe.has_permission("Site", "write", user=owner))

	def test_offsite_settings_an_earlier_bootstrap_wrote_are_cleared(self):
		"""Set, they make Press ask the stock Agent for its own upload to AWS (local files lost on failure)."""
		for fieldname, value in {
			"aws_s3_bucket": "backups",
			"offsite_backups_access_key_id": "minio",
		}.items():
			frappe.db.set_single_value("Press Settings", fieldname, value)
		set_encrypted_password(
			"Press Settings", "Press Settings", "minio-secret", "offsite_backups_secret_access_key"
		)
		frappe.db.commit()
		actions, _names = self._apply()
		press_settings = next(a for a in actions if a.key == "Press Settings")
		self.assertEqual(press_settings.operation, Operation.UPDATE)
		self.assertFalse(frappe.db.get_single_value("Press Settings", "aws_s3_bucket"))
		self.assertFalse(frappe.db.get_single_value("Press Settings", "offsite_backups_access_key_id"))
		self.assertIsNone(
			get_decrypted_password(
				"Press Settings", "Press Settings", "offsite_backups_secret_access_key", raise_exception=False
			)
		)
		self.assertFalse(frappe.db.exists("Backup Bucket", {"cluster": self.settings.cluster}))
		self.assertEqual(
			[a.key for a in plan(self.settings, ALL_REACHED) if a.operation is not Operation.UNCHANGED], []
		)

	def test_a_changed_registry_password_updates_only_that_field_and_is_never_printed(self):
		self._apply()
		rotated = secrets.token_hex(8)
		self.settings = BootstrapSettings(**{**self.settings.__dict__, "docker_registry_password": rotated})
		actions = plan(self.settings, ALL_REACHED)
		changed = [(a.key, sorted(a.fields)) for a in actions if a.operation is not Operation.UNCHANGED]
		self.assertEqual(changed, [("Press Settings", ["docker_registry_password"])])
		self.assertNotIn(rotated, summary_table(actions))
		apply(actions)
		self.assertEqual(frappe.db.get_single_value("Press Settings", "docker_registry_password"), rotated)
		self.assertEqual(
			[a.key for a in plan(self.settings, ALL_REACHED) if a.operation is not Operation.UNCHANGED], []
		)

	def test_a_changed_image_updates_only_the_candidate_and_the_bench(self):
		self._apply()
		self.settings = BootstrapSettings(
			**{**self.settings.__dict__, "bench_image": "registry.local/bench-next:v2"}
		)
		actions, names = self._apply()
		updated = {a.key for a in actions if a.operation is Operation.UPDATE}
		self.assertTrue(updated <= {"Deploy Candidate", "Bench"}, updated)
		self.assertIn("Bench", updated)
		self.assertEqual(
			frappe.db.get_value("Bench", names["Bench"], "docker_image"), "registry.local/bench-next:v2"
		)

	def test_servers_it_cannot_reach_are_pending_and_the_bench_waits(self):
		"""Nothing answers here: the agents' names do not resolve, MariaDB on 127.0.0.1 refuses the
		test's root password, the registry's name does not resolve."""
		first, names = self._apply(unreached_now=None)
		domain = self.settings.domain
		for doctype, hostname in (("Server", "f1"), ("Proxy Server", "n1"), ("Database Server", "m1")):
			self.assertEqual(frappe.db.get_value(doctype, f"{hostname}.{domain}", "status"), "Pending")
		(bench,) = [a for a in first if a.key == "Bench"]
		self.assertIs(bench.operation, Operation.WAIT)
		self.assertIn("https://f1.", bench.reason)
		self.assertIn("registry", bench.reason)
		self.assertIn("wait", summary_table(first))
		self.assertNotIn("Bench", names)
		self.assertFalse(frappe.db.exists("Bench", {"group": names["Release Group"]}))
		# still unreached: nothing changes, an Active server would not be demoted either
		again = plan(self.settings)
		self.assertEqual(
			[a.key for a in again if a.operation not in (Operation.UNCHANGED, Operation.WAIT)], []
		)
		# once they answer, the servers are promoted and the Bench is created
		reached = {a.key: a for a in plan(self.settings, ALL_REACHED)}
		for key in ("Server", "Proxy Server", "Database Server"):
			self.assertEqual(
				(reached[key].operation, reached[key].fields), (Operation.UPDATE, {"status": "Active"})
			)
		self.assertIs(reached["Bench"].operation, Operation.CREATE)

	def test_a_dry_run_writes_nothing(self):
		actions = bootstrap(dry_run=True, settings=self.settings)
		self.assertTrue(all(a.operation is Operation.CREATE for a in actions if a.doctype == "Server"))
		self.assertFalse(frappe.db.exists("Server", f"f1.{self.settings.domain}"))
