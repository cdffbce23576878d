"""The daily usage report's sites per team, in a real bench against the Lago stand-in: each team's
platform subscription is created once and its count is accepted once, even when the report is rerun
after Lago lost its answer."""

import uuid

import frappe

from press_selfhost.billing.jobs import report_usage
from press_selfhost.billing.lago import team_subscription_id
from press_selfhost.errors import ServiceUnavailableError
from tests.standins.lago import LagoStandIn
from tests.support.frappe_fixtures import ensure_user

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

API_KEY = "lago-usage-bench-api-key"


def make_team(owner: str) -> str:
	return (
		frappe.get_doc({"doctype": "Team", "user": owner, "enabled": 1, "country": "Germany"})
		.insert(ignore_permissions=True)
		.name
	)


def make_tenant(team: str, state: str) -> str:
	site = f"usage-{uuid.uuid4().hex[:8]}.example.com"
	frappe.get_doc(
		{
			"doctype": "Lago Subscription",
			"external_subscription_id": site,
			"team": team,
			"external_customer_id": team,
			"tenant_state": state,
		}
	).insert(ignore_permissions=True)
	return site


class TestSitesPerTeam(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# before any setting changes: ensure_user commits
		cls.owners = [ensure_user(f"lago-usage-{n}@billing.test") for n in range(3)]
		cls.lago = LagoStandIn(api_key=API_KEY, plans=("team-platform",)).start()

	@classmethod
	def tearDownClass(cls):
		cls.lago.stop()
		super().tearDownClass()

	def setUp(self):
		self.lago.reset()
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{"lago_api_url": self.lago.url, "lago_api_key": API_KEY, "lago_team_plan_code": "team-platform"}
		)
		settings.save()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	def tearDown(self):
		frappe.db.rollback()

	def test_each_team_counted_once_on_its_platform_subscription(self):
		busy, quiet = make_team(self.owners[0]), make_team(self.owners[1])
		make_tenant(busy, "Active")
		make_tenant(busy, "Suspended")
		make_tenant(busy, "Archived")  # gone: not counted
		make_tenant(quiet, "Active")
		# every team this site bills through Lago is a Lago customer (the stand-in starts empty)
		for team in frappe.get_all("Lago Subscription", pluck="team", distinct=True):
			self.lago.add_customer(team)

		self.lago.lose_next_batch_answers(1)  # the teams' batch is stored, its answer lost
		with self.assertRaises(ServiceUnavailableError):
			report_usage()
		report_usage()  # the scheduler's next run, or an admin's retry
		report_usage()

		sent = {
			event["external_subscription_id"]: event["properties"]
			for event in self.lago.events
			if event["code"] == "press_sites"
		}
		self.assertEqual(sent[team_subscription_id(busy)], {"sites": 2})
		self.assertEqual(sent[team_subscription_id(quiet)], {"sites": 1})
		self.assertTrue(all(count == 1 for count in self.lago.accepted_transaction_ids.values()))
		for team in (busy, quiet):
			subscription = self.lago.subscriptions[team_subscription_id(team)]
			self.assertEqual(
				(subscription["external_customer_id"], subscription["plan_code"]), (team, "team-platform")
			)

	def test_no_team_plan_no_team_usage(self):
		frappe.db.set_single_value("Selfhost Settings", "lago_team_plan_code", "")
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")
		make_tenant(make_team(self.owners[2]), "Active")
		report_usage()
		self.assertFalse([e for e in self.lago.events if e["code"] == "press_sites"])
		self.assertFalse(self.lago.subscriptions)
