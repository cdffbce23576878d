"""Lago's webhook in a real bench: verify → store once → process through the lifecycle; replay."""

import base64
import hashlib
import hmac
import json
import uuid

import frappe
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from press_selfhost.api.lago import webhook
from press_selfhost.billing.jobs import process_lago_event
from press_selfhost.webhooks import inbox

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

HMAC_KEY = "test-hmac-signature-token"


def post(body: bytes, *, key: str = HMAC_KEY, unique_key: str | None = None, signature: str | None = None):
	"""Call the endpoint as Frappe would for a POST from Lago; returns (status code, answer)."""
	digest = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
	headers = {
		"X-Lago-Signature": signature if signature is not None else digest,
		"X-Lago-Signature-Algorithm": "hmac",
		"X-Lago-Unique-Key": unique_key or str(uuid.uuid4()),
	}
	environ = EnvironBuilder(method="POST", data=body, headers=headers, content_type="application/json")
	frappe.local.request = Request(environ.get_environ())
	frappe.local.response = frappe._dict()
	answer = webhook()
	return frappe.local.response.get("http_status_code", 200), answer


def lago_body(webhook_type: str, object_type: str, data: dict) -> bytes:
	return json.dumps({"webhook_type": webhook_type, "object_type": object_type, object_type: data}).encode()


class TestLagoWebhook(IntegrationTestCase):
	def setUp(self):
		settings = frappe.get_single("Selfhost Settings")
		settings.update({"lago_webhook_signature_algorithm": "hmac", "lago_hmac_key": HMAC_KEY})
		settings.save()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	def tearDown(self):
		frappe.db.rollback()

	def delete_committed_event(self, name):
		frappe.db.rollback()
		frappe.delete_doc("Webhook Event", name, ignore_permissions=True, force=True)
		frappe.db.commit()

	def count(self, **filters):
		return frappe.db.count("Webhook Event", filters)

	def test_signed_delivery_is_stored_once_and_a_duplicate_changes_nothing(self):
		body = lago_body("customer.updated", "customer", {"external_id": "team-x"})
		unique_key = str(uuid.uuid4())
		self.assertEqual(post(body, unique_key=unique_key), (200, {"received": True}))
		self.assertEqual(post(body, unique_key=unique_key), (200, {"received": False}))
		self.assertEqual(self.count(unique_key=f"lago:{unique_key}"), 1)
		event = frappe.get_doc("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		self.assertEqual(
			(event.source, event.event_type, event.status), ("Lago", "customer.updated", "Received")
		)
		self.assertEqual(event.payload, body.decode())

	def test_forged_or_unsigned_deliveries_are_refused_and_not_stored(self):
		body = lago_body("subscription.terminated", "subscription", {"external_id": "victim.example.com"})
		before = self.count()
		self.assertEqual(post(body, key="wrong-key")[0], 401)
		self.assertEqual(post(body, signature="")[0], 401)
		genuine = base64.b64encode(hmac.new(HMAC_KEY.encode(), body, hashlib.sha256).digest()).decode()
		tampered = body.replace(b"victim", b"target")
		self.assertEqual(post(tampered, signature=genuine)[0], 401)
		self.assertEqual(self.count(), before)

	def test_event_that_concerns_no_site_is_ignored(self):
		body = lago_body("customer.updated", "customer", {"external_id": "team-x"})
		unique_key = str(uuid.uuid4())
		post(body, unique_key=unique_key)
		name = frappe.db.get_value("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		inbox.process(name)
		self.assertEqual(frappe.db.get_value("Webhook Event", name, "status"), "Ignored")

	def test_permanent_processing_error_fails_without_retry_and_can_be_replayed(self):
		body = lago_body(
			"subscription.started",
			"subscription",
			{
				"external_id": "nosuchteam.example.com",
				"external_customer_id": "no-such-team",
				"plan_code": "p",
			},
		)
		unique_key = str(uuid.uuid4())
		post(body, unique_key=unique_key)
		# The request's transaction commits before the job runs, and a failing processor rolls
		# back everything it did: commit here as the request would.
		frappe.db.commit()
		name = frappe.db.get_value("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		self.addCleanup(self.delete_committed_event, name)
		inbox.process(name)
		event = frappe.get_doc("Webhook Event", name)
		self.assertEqual((event.status, event.attempts), ("Failed", 1))
		self.assertIn("not a Press Team", event.last_error)
		self.assertIsNone(event.next_attempt_at)  # a configuration problem: retrying cannot help
		inbox.replay(name)
		self.assertEqual(frappe.db.get_value("Webhook Event", name, "status"), "Received")

	def test_subscription_started_for_a_team_creates_a_tenant_waiting_for_payment(self):
		team = frappe.get_all("Team", pluck="name", limit=1)
		if not team:
			self.skipTest("needs a Press Team on this site")
		site_name = f"lago{uuid.uuid4().hex[:8]}.example.com"
		body = lago_body(
			"subscription.started",
			"subscription",
			{
				"external_id": site_name,
				"external_customer_id": team[0],
				"plan_code": "starter",
				"plan": {"pay_in_advance": True, "amount_cents": 1000},
			},
		)
		unique_key = str(uuid.uuid4())
		post(body, unique_key=unique_key)
		name = frappe.db.get_value("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		self.assertEqual(process_lago_event(name), [])
		tenant = frappe.get_doc("Lago Subscription", site_name)
		self.assertEqual(
			(tenant.tenant_state, tenant.plan_code, tenant.team), ("Pending Payment", "starter", team[0])
		)


class TestLagoLifecycleJobs(IntegrationTestCase):
	def tearDown(self):
		frappe.db.rollback()

	def test_a_failing_command_leaves_the_tenant_state_unchanged_for_the_retry(self):
		from press_selfhost.billing.jobs import advance
		from press_selfhost.billing.lifecycle import PaymentSucceeded
		from press_selfhost.errors import ConfigurationError

		team = frappe.get_all("Team", pluck="name", limit=1)
		if not team:
			self.skipTest("needs a Press Team on this site")
		site_name = f"lago{uuid.uuid4().hex[:8]}.example.com"
		frappe.get_doc(
			{
				"doctype": "Lago Subscription",
				"external_subscription_id": site_name,
				"team": team[0],
				"external_customer_id": team[0],
				"plan_code": "plan-missing-from-the-map",
			}
		).insert(ignore_permissions=True)
		with self.assertRaisesRegex(ConfigurationError, "Lago Plan Map"):
			advance(site_name, PaymentSucceeded("inv-1"))
		self.assertEqual(
			frappe.db.get_value("Lago Subscription", site_name, "tenant_state"), "Pending Payment"
		)
		self.assertFalse(frappe.db.exists("Site", site_name))
