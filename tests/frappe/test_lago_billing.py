"""A team's Lago billing through press_selfhost.api.billing, in a real bench against the Lago stand-in:
a user sees their own team's checkout URL, invoices and PDFs, never another team's; a System Manager
sees any team's; Lago's failures reach the user as a clear message without secrets."""

import frappe
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from press_selfhost.api import billing
from tests.standins.lago import LagoStandIn
from tests.support.frappe_fixtures import ensure_user

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

API_KEY = "lago-billing-bench-api-key"


def make_team(owner: str, members: tuple[str, ...] = ()) -> str:
	team = frappe.get_doc(
		{
			"doctype": "Team",
			"user": owner,
			"enabled": 1,
			"country": "Germany",
			"team_members": [{"user": user} for user in (owner, *members)],
		}
	).insert(ignore_permissions=True)
	return team.name


def as_dashboard_request(press_team: str | None = None) -> None:
	"""A request as the dashboard sends it, with or without its X-Press-Team header."""
	headers = {"X-Press-Team": press_team} if press_team else {}
	frappe.local.request = Request(EnvironBuilder(method="POST", headers=headers).get_environ())


class TestLagoBilling(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		# before any setting changes: ensure_user commits
		cls.owner, cls.member, cls.stranger = (
			ensure_user(f"lago-billing-{label}@billing.test") for label in ("owner", "member", "stranger")
		)
		cls.lago = LagoStandIn(api_key=API_KEY).start()

	@classmethod
	def tearDownClass(cls):
		cls.lago.stop()
		super().tearDownClass()

	def setUp(self):
		self.lago.reset()
		settings = frappe.get_single("Selfhost Settings")
		settings.update({"lago_api_url": self.lago.url, "lago_api_key": API_KEY})
		settings.save()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")
		self.team = make_team(self.owner, members=(self.member,))
		self.other_team = make_team(self.stranger)
		for team in (self.team, self.other_team):
			self.lago.add_customer(team)
		self.invoice = self.lago.add_invoice(self.team, file_url="https://lago.example.com/ours.pdf")
		self.other_invoice = self.lago.add_invoice(self.other_team, file_url="https://lago.example.com/x.pdf")
		as_dashboard_request()

	def tearDown(self):
		frappe.set_user("Administrator")
		frappe.db.rollback()

	def invoice_names(self, **kwargs) -> list[str]:
		return [row["name"] for row in billing.invoices(**kwargs)["invoices"]]

	def test_the_owner_and_a_member_see_their_teams_invoices_and_pdf(self):
		for user in (self.owner, self.member):
			frappe.set_user(user)
			as_dashboard_request(self.team)
			self.assertEqual(self.invoice_names(), [self.invoice["lago_id"]])
			self.assertEqual(
				billing.invoice_pdf_url(self.invoice["lago_id"])["pdf_url"],
				"https://lago.example.com/ours.pdf",
			)
		frappe.set_user(self.owner)
		as_dashboard_request()  # no header: the user's own team
		self.assertEqual(self.invoice_names(), [self.invoice["lago_id"]])

	def test_another_teams_billing_is_refused(self):
		frappe.set_user(self.owner)
		with self.assertRaises(frappe.PermissionError):
			billing.invoices(team=self.other_team)
		as_dashboard_request(self.other_team)
		with self.assertRaises(frappe.PermissionError):
			billing.checkout_url()
		with self.assertRaises(frappe.PermissionError):
			billing.invoice_pdf_url(self.other_invoice["lago_id"])
		as_dashboard_request(self.team)
		# their invoice under our team is answered as a missing one, and nothing is downloaded
		with self.assertRaises(frappe.DoesNotExistError):
			billing.invoice_pdf_url(self.other_invoice["lago_id"])
		self.assertFalse(
			self.lago.requests_to("POST", f"/api/v1/invoices/{self.other_invoice['lago_id']}/download")
		)
		frappe.set_user(self.stranger)
		with self.assertRaises(frappe.PermissionError):
			billing.invoices(team=self.team)

	def test_a_system_manager_sees_any_team(self):
		frappe.set_user("Administrator")
		self.assertEqual(self.invoice_names(team=self.other_team), [self.other_invoice["lago_id"]])
		with self.assertRaises(frappe.DoesNotExistError):
			billing.invoices(team="no-such-team")

	def test_checkout_url_and_lagos_failures_as_clear_messages(self):
		frappe.set_user(self.owner)
		self.assertTrue(billing.checkout_url()["checkout_url"].startswith("https://checkout.stripe.com/"))
		self.lago.fail_next(503, path_pattern="checkout_url")
		with self.assertRaises(billing.BillingUnavailableError) as unavailable:
			billing.checkout_url()
		self.assertIn("try again", str(unavailable.exception))
		self.assertNotIn(API_KEY, str(unavailable.exception))
		self.lago.payment_provider = None
		with self.assertRaises(billing.BillingNotSetUpError):
			billing.checkout_url()
		with self.assertRaises(billing.BillingRequestError):
			billing.invoices(page="0")
