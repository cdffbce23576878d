"""The doctor's results reach the desk: stored per check, and the Selfhost workspace installed by migrate."""

import frappe

from press_selfhost.setup.health import CheckResult
from press_selfhost.setup.service_checks import DOCTYPE, run_doctor, store_results

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

# Unset, these make every check fail at once with "not set" (no network, no time limits reached).
SERVICE_ADDRESSES = (
	"press_upstream_url",
	"agent_url",
	"proxy_server_private_ip",
	"database_server_private_ip",
	"minio_endpoint_url",
	"lago_api_url",
	"keycloak_url",
	"postal_url",
	"postal_smtp_host",
)


class TestServiceChecks(IntegrationTestCase):
	def setUp(self):
		for fieldname in SERVICE_ADDRESSES:
			frappe.db.set_single_value("Selfhost Settings", fieldname, "")
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")
		frappe.db.delete(DOCTYPE)

	def tearDown(self):
		frappe.db.rollback()

	def test_a_doctor_run_stores_each_check_once_with_its_fix(self):
		results = run_doctor(send_test_mail=True)
		names = [result.name for result in results]
		self.assertIn("Agent ping", names)
		self.assertIn("Outgoing mail", names)
		self.assertEqual(sorted(frappe.get_all(DOCTYPE, pluck="name")), sorted(names))

		agent = frappe.get_doc(DOCTYPE, "Agent ping")
		self.assertEqual(agent.status, "Failing")
		self.assertIn("agent_url", agent.fix)
		self.assertTrue(agent.checked_at)
		mail = frappe.get_doc(DOCTYPE, "Outgoing mail")
		self.assertIn("bootstrap_admin_email", mail.fix)

		run_doctor()
		self.assertEqual(frappe.db.count(DOCTYPE), len(names))

	def test_a_passing_result_replaces_a_failing_one(self):
		store_results([CheckResult("Postal SMTP login", False, "refused", "Copy the credential.")])
		store_results([CheckResult("Postal SMTP login", True, "logged in")])
		record = frappe.get_doc(DOCTYPE, "Postal SMTP login")
		self.assertEqual((record.status, record.detail, record.fix), ("Passing", "logged in", ""))
		self.assertEqual(frappe.db.count(DOCTYPE), 1)

	def test_the_hourly_doctor_is_scheduled(self):
		self.assertTrue(
			frappe.db.exists(
				"Scheduled Job Type", {"method": "press_selfhost.setup.service_checks.run_scheduled_doctor"}
			)
		)


class TestSelfhostWorkspace(IntegrationTestCase):
	def test_migrate_installs_the_workspace_with_working_links(self):
		workspace = frappe.get_doc("Workspace", "Selfhost")
		self.assertEqual(workspace.module, "Press Selfhost")
		self.assertTrue(workspace.public)
		targets = {row.link_to for row in workspace.shortcuts}
		for doctype in (
			"Selfhost Settings",
			"Selfhost Service Check",
			"Webhook Event",
			"Lago Subscription",
			"Mail Message",
			"Site Backup",
		):
			self.assertIn(doctype, targets)
		for doctype in targets | {row.document_type for row in workspace.quick_lists}:
			self.assertTrue(frappe.db.exists("DocType", doctype), doctype)
		failed = next(row for row in workspace.shortcuts if row.label == "Failed Webhook Events")
		self.assertEqual(frappe.parse_json(failed.stats_filter)[0][1:4], ["status", "=", "Failed"])
