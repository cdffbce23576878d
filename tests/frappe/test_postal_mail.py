"""Postal mail in a real bench: templated send logged, signed webhooks stored once, bounces suppressed."""

import json
import uuid

import frappe
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from press_selfhost.api.postal import webhook
from press_selfhost.mail.send import SuppressedAddressError, process_postal_event, send_template_mail
from press_selfhost.mail.templates import TEMPLATES
from tests.standins.postal import (
	PostalSigner,
	PostalStandIn,
	bounce_payload,
	delivery_payload,
	message_hash,
	webhook_body,
)

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

API_KEY = "postal-standin-api-key"
SIGNER = PostalSigner()
SITE_READY = {
	"site_name": "acme.example.com",
	"site_url": "https://acme.example.com",
	"dashboard_url": "https://cloud.example.com/dashboard",
}


def post(body: bytes, headers: dict | None = None):
	"""Call the endpoint as Frappe would for a POST from Postal; returns (status code, answer)."""
	environ = EnvironBuilder(
		method="POST",
		data=body,
		headers=SIGNER.headers(body) if headers is None else headers,
		content_type="application/json",
	)
	frappe.local.request = Request(environ.get_environ())
	frappe.local.response = frappe._dict()
	answer = webhook()
	return frappe.local.response.get("http_status_code", 200), answer


def stored_event(event_uuid: str) -> str | None:
	return frappe.db.get_value(
		"Webhook Event", {"source": "Postal", "unique_key": ("like", f"%{event_uuid}")}, "name"
	)


class PostalMailTestCase(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.postal = PostalStandIn(API_KEY, domains=("example.com",)).start()

	@classmethod
	def tearDownClass(cls):
		cls.postal.stop()
		super().tearDownClass()

	def setUp(self):
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{
				"postal_url": self.postal.url,
				"postal_server_api_key": API_KEY,
				"postal_from_address": "cloud@example.com",
				"postal_webhook_public_key": SIGNER.public_key_pem,
			}
		)
		settings.save()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	def tearDown(self):
		frappe.db.rollback()

	def deliver(self, event: str, payload: dict) -> str:
		"""Post a signed event and process it as the inbox's job would; returns the Webhook Event name."""
		event_uuid = str(uuid.uuid4())
		self.assertEqual(post(webhook_body(event, payload, event_uuid)), (200, {"received": True}))
		name = stored_event(event_uuid)
		process_postal_event(name)
		return name


class TestPostalWebhook(PostalMailTestCase):
	def test_a_signed_delivery_is_stored_once_under_postals_uuid(self):
		event_uuid = str(uuid.uuid4())
		body = webhook_body("MessageSent", delivery_payload("m@rp", "a@customer.test", "Sent"), event_uuid)
		self.assertEqual(post(body), (200, {"received": True}))
		self.assertEqual(post(body), (200, {"received": False}))
		events = frappe.get_all(
			"Webhook Event",
			filters={"source": "Postal", "unique_key": ("like", f"%{event_uuid}")},
			fields=["event_type", "payload", "status"],
		)
		self.assertEqual(len(events), 1)
		self.assertEqual(
			(events[0].event_type, events[0].payload, events[0].status),
			("MessageSent", body.decode(), "Received"),
		)

	def test_forged_unsigned_or_sha1_only_deliveries_are_refused_and_not_stored(self):
		before = frappe.db.count("Webhook Event")
		body = webhook_body("MessageBounced", bounce_payload("m@rp", "victim@customer.test"))
		self.assertEqual(post(body, headers=PostalSigner().headers(body))[0], 401)
		self.assertEqual(post(body, headers={})[0], 401)
		self.assertEqual(post(body, headers={"X-Postal-Signature": SIGNER.sign_sha1(body)})[0], 401)
		tampered = body.replace(b"victim", b"target")
		self.assertEqual(post(tampered, headers=SIGNER.headers(body))[0], 401)
		self.assertEqual(frappe.db.count("Webhook Event"), before)
		self.assertFalse(frappe.db.exists("Mail Suppression", "victim@customer.test"))

	def test_without_a_configured_key_postal_is_asked_to_retry(self):
		frappe.db.set_single_value("Selfhost Settings", "postal_webhook_public_key", "")
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")
		body = webhook_body("MessageSent", delivery_payload("m@rp", "a@customer.test", "Sent"))
		self.assertEqual(post(body)[0], 503)


class TestTemplateMail(PostalMailTestCase):
	def test_sending_renders_sends_through_postal_and_logs_the_message(self):
		message_id = send_template_mail("site_ready", "Ada <Ada@Customer.test>", SITE_READY)
		accepted = [m for m in self.postal.accepted if m.message_id == message_id]
		self.assertEqual([m.rcpt_to for m in accepted], ["Ada <Ada@Customer.test>"])
		params = accepted[0].params
		self.assertEqual(params["tag"], TEMPLATES["site_ready"].tag)
		self.assertIn("acme.example.com", params["subject"])
		self.assertIn("https://acme.example.com", params["plain_body"])
		log = frappe.get_doc("Mail Message", {"message_id": message_id})
		self.assertEqual(
			(log.recipient, log.template, log.tag, log.status),
			("ada@customer.test", "site_ready", "site-ready", "Sent"),
		)

	def test_delivery_open_and_click_events_update_the_log(self):
		message_id = send_template_mail("site_ready", "ada@customer.test", SITE_READY)
		self.deliver("MessageSent", delivery_payload(message_id, "ada@customer.test", "Sent"))
		self.deliver("MessageDelayed", delivery_payload(message_id, "ada@customer.test", "SoftFail"))
		self.deliver("MessageLoaded", {"message": message_hash(message_id, "ada@customer.test")})
		self.deliver(
			"MessageLinkClicked",
			{"message": message_hash(message_id, "ada@customer.test"), "url": "https://x"},
		)
		log = frappe.get_doc("Mail Message", {"message_id": message_id})
		self.assertEqual((log.status, log.opened, log.clicked), ("Delivered", 1, 1))  # late delay ignored
		self.assertEqual(log.last_event, "MessageLinkClicked")
		self.assertIsNotNone(log.last_event_at)

	def test_a_hard_bounce_marks_the_message_suppresses_the_address_and_refuses_the_next_mail(self):
		message_id = send_template_mail("site_ready", "gone@customer.test", SITE_READY)
		self.deliver("MessageSent", delivery_payload(message_id, "gone@customer.test", "Sent"))
		self.deliver("MessageBounced", bounce_payload(message_id, "gone@customer.test"))
		self.assertEqual(frappe.db.get_value("Mail Message", {"message_id": message_id}, "status"), "Bounced")
		suppression = frappe.get_doc("Mail Suppression", "gone@customer.test")
		self.assertEqual((suppression.event, suppression.message_id), ("MessageBounced", message_id))
		sent_before = len(self.postal.accepted)
		with self.assertRaises(SuppressedAddressError):
			send_template_mail("site_resumed", "Gone <GONE@customer.test>", SITE_READY)
		self.assertEqual(len(self.postal.accepted), sent_before)

	def test_a_bounce_for_mail_we_did_not_log_still_suppresses(self):
		name = self.deliver(
			"MessageDeliveryFailed", delivery_payload("smtp-mail@rp", "dead@customer.test", "HardFail", "550")
		)
		self.assertTrue(frappe.db.exists("Mail Suppression", "dead@customer.test"))
		self.assertEqual(process_postal_event(name), None)  # second run: already suppressed, nothing to do

	def test_server_events_notify_the_admins(self):
		name = self.deliver("SendLimitApproaching", {"server": {}, "volume": 90, "limit": 100})
		self.assertEqual(
			process_postal_event(name), [{"notified": "System Manager", "event": "SendLimitApproaching"}]
		)
		self.assertEqual(
			json.loads(frappe.db.get_value("Webhook Event", name, "payload"))["event"], "SendLimitApproaching"
		)
