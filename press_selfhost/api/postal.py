"""Postal's webhook endpoint: verify the raw body's RSA signature, store it once in the inbox, answer fast.

In Postal (the mail server → Webhooks → Add), point a webhook with all events at
https://cloud.<domain>/api/method/press.api.selfhost_postal.webhook: a `press.api.` name (hooks.py,
override_whitelisted_methods), the only kind Press's auth hook lets a Guest reach.
"""

import frappe

from press_selfhost.errors import ConfigurationError, WebhookVerificationError
from press_selfhost.mail.postal import verify_webhook
from press_selfhost.webhooks import inbox
from press_selfhost.webhooks.delivery import BodyRefused

PROCESSOR = "press_selfhost.mail.send.process_postal_event"


@frappe.whitelist(allow_guest=True, methods=["POST"])
def webhook():
	"""200 once stored (or already stored); 400, 401 or 413 with a short reason when refused, storing nothing."""
	request = frappe.request
	try:
		body = inbox.raw_body()
	except BodyRefused as error:
		return inbox.refuse(error.http_status, error.reason)
	settings = frappe.get_cached_doc("Selfhost Settings")
	try:
		event = verify_webhook(
			body,
			request.headers,
			public_key_pem=settings.get("postal_webhook_public_key") or "",
			allow_sha1=bool(settings.get("postal_webhook_allow_sha1")),
		)
	except WebhookVerificationError as error:
		return inbox.refuse(401, error.reason)
	except ConfigurationError:
		# No usable key: Postal delivers again for about 36 minutes, time for the admin to paste it.
		frappe.log_error(title="Postal webhook: postal_webhook_public_key is missing or invalid")
		return inbox.refuse(503, "the webhook key is not configured; retry later")
	stored = inbox.receive("Postal", event.dedupe_key, event.event_type.value, body.decode(), PROCESSOR)
	return {"received": stored}
