"""The customer's front door (issue 16) over HTTP in a real bench, as the dashboard's callers make it.

A Guest signs up through press.api.account.signup / verify_otp / validate_request_key /
setup_account, reading the code from the mail Press sent to an SMTP server on 127.0.0.1: no Stripe
and no ip-api.com, and the team is a Lago customer. The new Website User is offered the plan Lago
prices, asks for a site on it and is sent to Lago's checkout; a second click reserves nothing more;
Lago's signed payment webhook (as Guest) creates the site, which the customer watches through
press.api.selfhost_sites.progress from "waiting for payment" through the Agent's steps to "ready".
A free plan builds at once. The agents are those of test_sites_through_agents (Traefik on :443).
"""

import json
import re
import secrets
import time

import frappe
import requests
import test_sites_through_agents as through_agents
from frappe.utils.password import update_password
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from press_selfhost.billing.site_plans import sync_site_plans
from press_selfhost.setup import branding
from press_selfhost.webhooks import inbox
from tests.standins.lago import LagoStandIn
from tests.support.frappe_fixtures import ensure_user, running_site_url
from tests.support.lago_signer import LagoSigner
from tests.support.servers import SMTPServer

API = "/api/method/"
PASSWORD = "Front-Door-" + secrets.token_hex(8)
SETTINGS_FIELDS = ("platform_name", "signup_country", "lago_api_url", "lago_webhook_signature_algorithm")
EMAIL_ACCOUNT = "Front door test mail"


def answer(response: requests.Response) -> object:
	return response.json().get("message")


def server_messages(response: requests.Response) -> str:
	messages = json.loads(response.json().get("_server_messages") or "[]")
	return " ".join(json.loads(message).get("message", "") for message in messages)


class TestFrontDoor(through_agents.ThroughAgentsTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.site_url = running_site_url()
		cls.signer = LagoSigner()
		cls.lago = LagoStandIn().start()
		cls.smtp = SMTPServer().start()

	@classmethod
	def tearDownClass(cls):
		cls.smtp.stop()
		cls.lago.stop()
		super().tearDownClass()

	def setUp(self):
		super().setUp()  # bootstrap: servers, bench, the Site Plan with its roles and Lago Plan Map
		self.lago.reset()
		self.plan = self.settings.site_plans[0].name
		self.lago.set_plan(self.plan, amount_cents=1200)
		self.saved = {
			field: frappe.db.get_single_value("Selfhost Settings", field) for field in SETTINGS_FIELDS
		}
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{
				"platform_name": "Example Cloud",
				"signup_country": "France",
				"lago_api_url": self.lago.url,
				"lago_api_key": self.lago.api_key,
				"lago_webhook_signature_algorithm": "hmac",
				"lago_hmac_key": self.signer.hmac_key,
				"lago_default_release_group": self.names["Release Group"],
			}
		)
		settings.save(ignore_permissions=True)
		self._add_mail_account()
		self.addCleanup(self._remove_customers)
		self.emails: list[str] = []
		self.events: list[str] = []
		self.assertEqual(sync_site_plans()[self.plan], "updated")  # the bench may hold other maps
		frappe.db.commit()

	def _add_mail_account(self):
		"""Press mails the sign-up code through the default outgoing account (501 without one)."""
		self.outgoing = frappe.get_all("Email Account", filters={"default_outgoing": 1}, pluck="name")
		for name in self.outgoing:
			frappe.db.set_value("Email Account", name, "default_outgoing", 0)
		frappe.get_doc(
			{
				"doctype": "Email Account",
				"email_account_name": EMAIL_ACCOUNT,
				"email_id": "cloud@example.com",
				"enable_outgoing": 1,
				"default_outgoing": 1,
				"smtp_server": "127.0.0.1",
				"smtp_port": self.smtp.port,
				"use_tls": 0,
				"login_id_is_different": 1,
				"login_id": self.smtp.username,
				"password": self.smtp.password,
			}
		).insert(ignore_permissions=True)

	def _remove_customers(self):
		frappe.db.rollback()
		for email in self.emails:
			for team in frappe.get_all("Team", filters={"user": email}, pluck="name"):
				frappe.db.delete("Lago Subscription", {"team": team})
				through_agents._delete_rows_linked_to("Team", team)
				through_agents._delete_document_rows("Team", team)
			frappe.db.delete("Account Request", {"email": email})
			through_agents._delete_document_rows("User", email)
		for name in self.events:
			through_agents._delete_document_rows("Webhook Event", name)
		through_agents._delete_document_rows("Email Account", EMAIL_ACCOUNT)
		for name in self.outgoing:
			frappe.db.set_value("Email Account", name, "default_outgoing", 1)
		for field, value in self.saved.items():
			frappe.db.set_single_value("Selfhost Settings", field, value)
		frappe.db.commit()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	# -- the callers ------------------------------------------------------------------------------
	def sign_up(self) -> tuple[requests.Session, str]:
		"""The dashboard's sign-up, as a Guest: e-mail, code from the mail, account. Returns the session."""
		email = f"customer-{secrets.token_hex(4)}@front-door.test"
		self.emails.append(email)
		browser = requests.Session()
		signup = browser.post(
			f"{self.site_url}{API}press.api.account.signup", json={"email": email}, timeout=30
		)
		self.assertEqual(signup.status_code, 200, signup.text)
		mails = [mail for mail in self.smtp.received if email in mail.recipients]
		self.assertEqual(len(mails), 1, "Press mails the sign-up code once")
		code = re.match(r"(\d+) - OTP", mails[0].message["Subject"]).group(1)
		verified = browser.post(
			f"{self.site_url}{API}press.api.account.verify_otp",
			json={"account_request": answer(signup), "otp": code},
			timeout=30,
		)
		self.assertEqual(verified.status_code, 200, verified.text)
		key = answer(verified)
		# the setup-account page: offline, the country is the operator's (ip-api.com would have said
		# nothing for 127.0.0.1, and the time zone says India)
		page = browser.post(
			f"{self.site_url}{API}press.api.account.validate_request_key",
			json={"key": key, "timezone": "Asia/Kolkata"},
			timeout=30,
		)
		self.assertEqual(page.status_code, 200, page.text)
		self.assertEqual((answer(page)["email"], answer(page)["country"]), (email, "France"))
		account = browser.post(
			f"{self.site_url}{API}press.api.account.setup_account",
			json={
				"key": key,
				"first_name": "Ada",
				"last_name": "Customer",
				"password": PASSWORD,
				"country": "France",
				"accepted_user_terms": 1,
			},
			timeout=60,
		)
		self.assertEqual(account.status_code, 200, account.text)
		return browser, email

	def call(self, browser: requests.Session, method: str, **args) -> requests.Response:
		return browser.post(f"{self.site_url}{API}{method}", json=args, timeout=60)

	def progress(self, browser: requests.Session, site: str) -> requests.Response:
		return browser.get(
			f"{self.site_url}{API}press.api.selfhost_sites.progress", params={"site": site}, timeout=30
		)

	def deliver(self, webhook_type: str, object_type: str, data: dict, unique_key: str | None = None) -> str:
		"""Lago's signed delivery over HTTP, as Guest; its processing is run here unless a worker did."""
		body = json.dumps(
			{"webhook_type": webhook_type, "object_type": object_type, object_type: data}
		).encode()
		unique_key = unique_key or secrets.token_hex(8)
		response = requests.post(
			f"{self.site_url}{API}press.api.selfhost_lago.webhook",
			data=body,
			headers=self.signer.headers(body, "hmac", unique_key),
			timeout=30,
		)
		self.assertEqual(response.status_code, 200, response.text)
		frappe.db.rollback()
		name = frappe.db.get_value("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		self.events.append(name)
		if frappe.db.get_value("Webhook Event", name, "status") != "Processed":
			inbox.process(name)
			frappe.db.commit()
		return name

	def forget_the_workers_delivery_failures(self):
		"""The bench's worker also picks up the Agent Jobs this test's sites make, but it does not trust
		the test's CA (REQUESTS_CA_BUNDLE is set in this process only), so its attempts fail with a TLS
		error and Press blocks the servers (Agent Request Failure). The test delivers them itself."""
		frappe.db.delete(
			"Agent Request Failure",
			{"server": ("in", [through_agents.APP_SERVER, through_agents.PROXY_SERVER])},
		)
		frappe.db.commit()

	def new_site_request(self, subdomain: str) -> dict:
		return {
			"name": subdomain,
			"apps": ["frappe"],
			"group": self.names["Release Group"],
			"cluster": self.settings.cluster,
			"plan": self.plan,
		}

	# -- the path -----------------------------------------------------------------------------------
	def test_sign_up_pay_through_lago_watch_the_site_being_built_and_open_it(self):
		browser, email = self.sign_up()
		frappe.db.rollback()
		team = frappe.db.get_value(
			"Team",
			{"user": email},
			["name", "free_account", "payment_mode", "stripe_customer_id"],
			as_dict=True,
		)
		self.assertEqual(
			(team.free_account, team.payment_mode, team.stripe_customer_id), (1, "Lago", None), "no Stripe"
		)
		self.assertEqual(frappe.db.count("Invoice", {"team": team.name}), 0, "Press bills nothing")
		through_agents.wait_until(
			lambda: team.name in self.lago.customers,
			what="the team's Lago customer (a worker's job)",
			timeout=60,
		)

		# the dashboard's New Site offers the plan at Lago's price
		plans = {plan["name"]: plan for plan in answer(self.call(browser, "press.api.site.get_site_plans"))}
		self.assertEqual((plans[self.plan]["price_usd"], plans[self.plan]["price_inr"]), (12.0, 12.0))

		subdomain = f"door{secrets.token_hex(3)}"
		site = f"{subdomain}.{through_agents.DOMAIN}"
		self.sites.append(site)
		asked = self.call(browser, "press.api.site.new", site=self.new_site_request(subdomain))
		self.assertEqual(asked.status_code, 402, asked.text)
		self.assertIn('href="https://checkout.stripe.com/c/pay/', server_messages(asked))
		self.assertIn(f"/site-progress?site={site}", server_messages(asked))
		again = self.call(browser, "press.api.site.new", site=self.new_site_request(subdomain))
		self.assertEqual(again.status_code, 402, "a second click leads to the same checkout")
		frappe.db.rollback()
		self.assertEqual(
			frappe.db.get_value("Lago Subscription", site, ["team", "tenant_state"]),
			(team.name, "Pending Payment"),
		)
		self.assertEqual(list(self.lago.subscriptions), [site], "one Lago subscription")
		self.assertFalse(frappe.db.exists("Site", site), "no site before the payment")

		waiting = self.progress(browser, site)
		self.assertEqual(waiting.status_code, 200, waiting.text)
		self.assertEqual(
			(answer(waiting)["state"], answer(waiting)["action"]), ("waiting_for_payment", "pay")
		)
		pay_again = self.call(browser, "press.api.selfhost_sites.retry", site=site)
		self.assertTrue(answer(pay_again)["checkout_url"].startswith("https://checkout.stripe.com/"))

		# someone else's site and a missing one are the same 404
		stranger = self.stranger()
		for asked_by, name in ((stranger, site), (browser, f"missing.{through_agents.DOMAIN}")):
			refused = self.progress(asked_by, name)
			self.assertEqual(refused.status_code, 404, refused.text)
		# a taken name, and a plan the customer is not offered
		taken = self.call(stranger, "press.api.site.new", site=self.new_site_request(subdomain))
		self.assertEqual(taken.status_code, 400, taken.text)
		self.assertIn("already taken", server_messages(taken))
		unknown = self.call(
			browser, "press.api.site.new", site={**self.new_site_request("doorx1"), "plan": "nope"}
		)
		self.assertEqual(unknown.status_code, 400, unknown.text)

		# Lago starts the subscription, then its first invoice is paid: the site is created once
		started = {"external_id": site, "external_customer_id": team.name, "plan_code": self.plan}
		self.deliver("subscription.started", "subscription", {**started, "plan": {"amount_cents": 1200}})
		paid_at = time.monotonic()
		invoice = self.lago.add_invoice(team.name, payment_status="succeeded")
		event = self.deliver("invoice.payment_status_updated", "invoice", invoice)
		self.deliver("invoice.payment_status_updated", "invoice", invoice, unique_key=secrets.token_hex(8))
		processed = frappe.db.get_value("Webhook Event", event, ["status", "last_error"], as_dict=True)
		self.assertEqual(processed.status, "Processed", processed.last_error)
		self.assertEqual(
			frappe.db.get_value("Site", site, ["team", "free", "plan"]), (team.name, 1, self.plan)
		)

		seen = []

		def ready() -> bool:
			self.forget_the_workers_delivery_failures()
			state = answer(self.progress(browser, site))
			if not seen or seen[-1] != (state["state"], state["message"]):
				seen.append((state["state"], state["message"]))
			return state["state"] in ("ready", "failed")

		self.drive(ready, "the paid site being built")
		pay_to_ready = time.monotonic() - paid_at
		final = answer(self.progress(browser, site))
		self.assertEqual(
			(final["state"], final["action"], final["site_url"]), ("ready", "open", f"https://{site}"), seen
		)
		self.assertTrue({"building", "queued"} & {state for state, _ in seen}, seen)
		self.assertEqual(
			self.jobs(site=site),
			[
				("New Site", through_agents.APP_SERVER, "Success"),
				("Add Site to Upstream", through_agents.PROXY_SERVER, "Success"),
			],
			"one site, built once, although the payment webhook came twice",
		)
		print(
			f"\nfront door: pay → ready in {pay_to_ready:.1f}s with the Agent stand-in; states seen: {seen}"
		)

		# the page the customer watches, and the platform's name where Press lets it be set
		page = browser.get(f"{self.site_url}/site-progress", params={"site": site}, timeout=30)
		self.assertEqual(page.status_code, 200, page.text[-2000:])
		self.assertIn(f'data-site="{site}"', page.text)
		self.assertIn("/api/method/press.api.selfhost_sites.", page.text)
		token = re.search(r'frappe.csrf_token = "([^"]*)"', page.text).group(1)
		self.assertNotIn(token, ("", "None"), "the page's Pay and Retry buttons POST")
		browser.headers["X-Frappe-CSRF-Token"] = token  # from now on the session wants it, as a browser's
		self.assertIn("Example Cloud", page.text)
		signed_out = requests.get(f"{self.site_url}/site-progress", allow_redirects=False, timeout=30)
		self.assertEqual(
			(signed_out.status_code, signed_out.headers.get("Location", "")[-16:]), (302, "/dashboard/login")
		)
		self.assertEqual(frappe.db.get_single_value("Website Settings", "app_name"), "Example Cloud")
		dashboard = Response(b"<html><head><title>Frappe Cloud</title></head></html>", mimetype="text/html")
		branding.rename_dashboard_title(
			dashboard, Request(EnvironBuilder(path="/dashboard/sites").get_environ())
		)
		self.assertIn(b"<title>Example Cloud</title>", dashboard.get_data())

		# with a payment method on file in Lago, a paid plan goes straight to Press
		self.lago.add_payment_method(team.name)
		carded = f"card{secrets.token_hex(3)}"
		self.sites.append(f"{carded}.{through_agents.DOMAIN}")
		straight = self.call(browser, "press.api.site.new", site=self.new_site_request(carded))
		self.assertEqual(straight.status_code, 200, straight.text)
		self.assertEqual(answer(straight)["site"], f"{carded}.{through_agents.DOMAIN}")

		# a free plan needs no payment: Press creates the site at once
		self.lago.set_plan(self.plan, amount_cents=0)
		sync_site_plans()
		free = f"free{secrets.token_hex(3)}"
		self.sites.append(f"{free}.{through_agents.DOMAIN}")
		created = self.call(browser, "press.api.site.new", site=self.new_site_request(free))
		self.assertEqual(created.status_code, 200, created.text)
		self.assertEqual(answer(created)["site"], f"{free}.{through_agents.DOMAIN}")

	def stranger(self) -> requests.Session:
		email = ensure_user(f"stranger-{secrets.token_hex(3)}@front-door.test")
		self.emails.append(email)
		frappe.get_doc(
			{
				"doctype": "Team",
				"user": email,
				"enabled": 1,
				"country": "France",
				"team_members": [{"user": email}],
			}
		).insert(ignore_permissions=True)
		# ensure_user inserts as an import, which skips defaults: the user comes out disabled
		frappe.db.set_value("User", email, "enabled", 1)
		frappe.get_doc("User", email).add_roles("Press Admin")
		update_password(email, PASSWORD)
		frappe.db.commit()
		browser = requests.Session()
		login = browser.post(f"{self.site_url}{API}login", data={"usr": email, "pwd": PASSWORD}, timeout=30)
		self.assertEqual(login.status_code, 200, login.text)
		return browser
