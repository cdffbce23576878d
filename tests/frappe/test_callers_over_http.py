"""Every endpoint over HTTP, as its real caller, through Press's own auth hook, in a real bench.

Lago and Postal deliver as Guest, and do so through Traefik's webhooks entrypoint (compose's flags
and platform.yml, the real Traefik binary) as in the stack; Traefik's HTTP provider polls as Guest
with its token; dashboard customers are Website Users logged in with a password. Nothing here calls
an endpoint in-process: each request goes through the bench's web server, so Press's auth hook,
Frappe's request parsing and the whitelisting all run as they do for the real callers.

Needs the bench's web server at the site's URL (`bench start`); data is committed, since the web
server is another process, and deleted afterwards.
"""

import json
import secrets
import tempfile
import uuid
from pathlib import Path

import frappe
import requests
import urllib3
from frappe.utils.password import update_password

from tests.standins.lago import LagoStandIn
from tests.standins.postal import PostalSigner, delivery_payload, webhook_body
from tests.support.agent_entrypoint import AgentEntrypoint
from tests.support.frappe_fixtures import ensure_user, running_site_url
from tests.support.lago_signer import LagoSigner

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

LAGO_WEBHOOK = "/api/method/press.api.selfhost_lago.webhook"
POSTAL_WEBHOOK = "/api/method/press.api.selfhost_postal.webhook"
TRAEFIK_CONFIG = "/api/method/press.api.selfhost_traefik.config"
BILLING_INVOICES = "/api/method/press.api.selfhost_billing.invoices"
HMAC_KEY = "over-http-hmac-signature-token"
TRAEFIK_TOKEN = "over-http-traefik-token"
LAGO_API_KEY = "over-http-lago-api-key"
PASSWORD = "Over-HTTP-" + secrets.token_hex(8)
POSTAL = PostalSigner()


def lago_body(webhook_type: str, object_type: str, data: dict) -> bytes:
	return json.dumps({"webhook_type": webhook_type, "object_type": object_type, object_type: data}).encode()


def message(response: requests.Response) -> object:
	"""What a whitelisted method returned (Frappe wraps it in `message`)."""
	return response.json().get("message")


class TestCallersOverHTTP(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site_url = running_site_url()
		cls.lago_signer = LagoSigner(hmac_key=HMAC_KEY)
		cls.lago = LagoStandIn(api_key=LAGO_API_KEY).start()
		settings = frappe.get_single("Selfhost Settings")
		cls.saved_settings = {
			field: settings.get(field)
			for field in ("lago_webhook_signature_algorithm", "lago_api_url", "postal_webhook_public_key")
		}
		settings.update(
			{
				"lago_webhook_signature_algorithm": "hmac",
				"lago_hmac_key": HMAC_KEY,
				"lago_api_url": cls.lago.url,
				"lago_api_key": LAGO_API_KEY,
				"postal_webhook_public_key": POSTAL.public_key_pem,
				"traefik_config_token": TRAEFIK_TOKEN,
			}
		)
		settings.save(ignore_permissions=True)
		cls.customers = {}
		for label in ("ours", "theirs"):
			user = ensure_user(f"over-http-{label}@callers.test")
			update_password(user, PASSWORD)
			team = frappe.get_doc(
				{
					"doctype": "Team",
					"user": user,
					"enabled": 1,
					"country": "Germany",
					"team_members": [{"user": user}],
				}
			).insert(ignore_permissions=True)
			cls.lago.add_customer(team.name)
			cls.customers[label] = (user, team.name, cls.lago.add_invoice(team.name))
		frappe.db.commit()
		cls.workdir = Path(tempfile.mkdtemp(prefix="over-http-"))
		# compose's Traefik, its webhooks entrypoint sending to this bench's web server and site
		cls.traefik = AgentEntrypoint(
			cls.workdir,
			"callers.test",
			app_agent_url="http://127.0.0.1:9",
			proxy_agent_url="http://127.0.0.1:9",
			backends={
				"http://press-web:8000": cls.site_url,
				'X-Frappe-Site-Name: "cloud.{{ $domain }}"': f'X-Frappe-Site-Name: "{frappe.local.site}"',
			},
		).start()

	@classmethod
	def tearDownClass(cls):
		cls.traefik.stop()
		cls.lago.stop()
		frappe.db.rollback()
		for _user, team, _invoice in cls.customers.values():
			frappe.delete_doc("Team", team, ignore_permissions=True, force=True)
		frappe.db.delete("Webhook Event", {"unique_key": ("like", "%over-http-%")})
		settings = frappe.get_single("Selfhost Settings")
		settings.update(cls.saved_settings)
		settings.save(ignore_permissions=True)
		frappe.db.commit()
		super().tearDownClass()

	# -- helpers -------------------------------------------------------------------------------
	def through_traefik(self, path: str, body: bytes, headers: dict) -> urllib3.BaseHTTPResponse:
		"""A delivery as Lago's or Postal's worker makes it inside the stack: to traefik:8081."""
		pool = urllib3.HTTPConnectionPool("127.0.0.1", self.traefik.ports["webhooks"], retries=False)
		return pool.request("POST", path, body=body, headers=headers)

	def stored(self, unique_key: str) -> int:
		frappe.db.rollback()  # see what the web server committed
		return frappe.db.count("Webhook Event", {"unique_key": unique_key})

	def events(self) -> int:
		frappe.db.rollback()
		return frappe.db.count("Webhook Event")

	def logged_in(self, label: str) -> requests.Session:
		user = self.customers[label][0]
		session = requests.Session()
		answer = session.post(
			f"{self.site_url}/api/method/login", data={"usr": user, "pwd": PASSWORD}, timeout=10
		)
		self.assertEqual(answer.status_code, 200, answer.text)
		return session

	# -- Lago, as Guest, through Traefik ---------------------------------------------------------
	def test_lago_signed_delivery_is_stored_once_and_a_duplicate_answers_200(self):
		unique_key = f"over-http-{uuid.uuid4()}"
		body = lago_body("customer.updated", "customer", {"external_id": self.customers["ours"][1]})
		headers = {
			**self.lago_signer.headers(body, algorithm="hmac", unique_key=unique_key),
			"Content-Type": "application/json",
		}
		first = self.through_traefik(LAGO_WEBHOOK, body, headers)
		self.assertEqual(first.status, 200, first.data)
		self.assertEqual(json.loads(first.data)["message"], {"received": True})
		again = self.through_traefik(LAGO_WEBHOOK, body, headers)
		self.assertEqual((again.status, json.loads(again.data)["message"]), (200, {"received": False}))
		self.assertEqual(self.stored(f"lago:{unique_key}"), 1)
		event = frappe.get_doc("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		self.assertEqual(event.payload, body.decode())

	def test_lago_forged_and_malformed_deliveries_get_a_4xx_and_store_nothing(self):
		before = self.events()
		body = lago_body("subscription.terminated", "subscription", {"external_id": "victim.callers.test"})
		forged = {**self.lago_signer.headers(body, algorithm="hmac"), "X-Lago-Signature": "Zm9yZ2Vk"}
		json_type = {"Content-Type": "application/json"}
		cases = [
			(body, {**forged, **json_type}, 401),
			(body, json_type, 401),  # unsigned
			(b"{not json", {**self.lago_signer.headers(b"{not json", algorithm="hmac"), **json_type}, 400),
			(b"", json_type, 400),
			(b'{"webhook_type": "\xff"}', json_type, 400),
			(b'{"padding": "' + b"x" * (1024 * 1024) + b'"}', json_type, 413),
		]
		for payload, headers, status in cases:
			answer = self.through_traefik(LAGO_WEBHOOK, payload, headers)
			self.assertEqual(answer.status, status, (payload[:40], answer.data[:200]))
		self.assertEqual(self.events(), before)

	def test_the_module_path_is_refused_to_guests_by_presss_auth_hook(self):
		"""Why the press.api. names exist: Lago posting to the old URL never reaches our code."""
		body = lago_body("customer.updated", "customer", {"external_id": "x"})
		answer = requests.post(
			f"{self.site_url}/api/method/press_selfhost.api.lago.webhook",
			data=body,
			headers={**self.lago_signer.headers(body, algorithm="hmac"), "Content-Type": "application/json"},
			timeout=10,
		)
		self.assertEqual(answer.status_code, 401)
		self.assertIn("Access not allowed for this URL", answer.text)

	# -- Postal, as Guest, through Traefik -------------------------------------------------------
	def test_postal_signed_delivery_stored_once_forged_and_malformed_refused(self):
		event_uuid = f"over-http-{uuid.uuid4()}"
		body = webhook_body(
			"MessageSent", delivery_payload("over-http@callers.test", "x@callers.test", "Sent"), event_uuid
		)
		headers = {**POSTAL.headers(body), "Content-Type": "application/json"}
		first = self.through_traefik(POSTAL_WEBHOOK, body, headers)
		self.assertEqual((first.status, json.loads(first.data)["message"]), (200, {"received": True}))
		again = self.through_traefik(POSTAL_WEBHOOK, body, headers)
		self.assertEqual((again.status, json.loads(again.data)["message"]), (200, {"received": False}))
		before = self.events()
		tampered = body.replace(b"MessageSent", b"MessageBounced")
		self.assertEqual(self.through_traefik(POSTAL_WEBHOOK, tampered, headers).status, 401)
		self.assertEqual(self.through_traefik(POSTAL_WEBHOOK, b"<xml/>", headers).status, 400)
		self.assertEqual(self.events(), before)

	# -- Traefik's poll, as Guest --------------------------------------------------------------
	def test_traefiks_poll_needs_the_token_and_honours_if_none_match(self):
		url = f"{self.site_url}{TRAEFIK_CONFIG}"
		refused = requests.get(url, timeout=10)
		self.assertEqual(refused.status_code, 401)
		self.assertEqual(refused.json(), {"error": "token required"})
		wrong = requests.get(url, headers={"X-Traefik-Token": "not-the-token"}, timeout=10)
		self.assertEqual(wrong.status_code, 401)
		polled = requests.get(url, headers={"X-Traefik-Token": TRAEFIK_TOKEN}, timeout=10)
		self.assertEqual(polled.status_code, 200, polled.text[:300])
		self.assertIn("routers", polled.json()["http"])
		etag = polled.headers["ETag"]
		unchanged = requests.get(
			url, headers={"X-Traefik-Token": TRAEFIK_TOKEN, "If-None-Match": etag}, timeout=10
		)
		self.assertEqual((unchanged.status_code, unchanged.content), (304, b""))

	# -- the dashboard's billing, as Website Users ----------------------------------------------
	def test_a_customer_sees_their_teams_invoices_and_not_another_teams(self):
		_user, team, invoice = self.customers["ours"]
		_other_user, other_team, _other_invoice = self.customers["theirs"]
		session = self.logged_in("ours")
		own = session.get(f"{self.site_url}{BILLING_INVOICES}", headers={"X-Press-Team": team}, timeout=10)
		self.assertEqual(own.status_code, 200, own.text[:300])
		self.assertEqual([row["name"] for row in message(own)["invoices"]], [invoice["lago_id"]])
		theirs = session.get(
			f"{self.site_url}{BILLING_INVOICES}", headers={"X-Press-Team": other_team}, timeout=10
		)
		self.assertEqual(theirs.status_code, 403, theirs.text[:300])
		self.assertNotIn(other_team, json.dumps(message(theirs) or {}))
		other_session = self.logged_in("theirs")
		mine = other_session.get(f"{self.site_url}{BILLING_INVOICES}", params={"team": team}, timeout=10)
		self.assertEqual(mine.status_code, 403)

	def test_a_guest_gets_no_billing(self):
		answer = requests.get(f"{self.site_url}{BILLING_INVOICES}", timeout=10)
		self.assertIn(answer.status_code, (401, 403))
