"""Lago's webhook endpoint: verify the raw body, store it once in the inbox, answer fast.

Lago (Developers → Webhooks) posts to https://cloud.<domain>/api/method/press.api.selfhost_lago.webhook:
a `press.api.` name (hooks.py, override_whitelisted_methods), the only kind Press's auth hook lets a
Guest reach.
"""

import frappe

from press_selfhost.billing.jobs import lago_gateway
from press_selfhost.billing.lago import verify_webhook
from press_selfhost.errors import ConfigurationError, ServiceError, WebhookVerificationError
from press_selfhost.webhooks import inbox
from press_selfhost.webhooks.delivery import BodyRefused

PROCESSOR = "press_selfhost.billing.jobs.process_lago_event"


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
		if (settings.lago_webhook_signature_algorithm or "jwt") == "hmac":
			keys = {"hmac_key": settings.get_password("lago_hmac_key", raise_exception=False)}
		else:
			keys = {
				"public_key_pem": lago_gateway().public_key_pem(),
				"issuer": settings.get("lago_webhook_issuer") or settings.lago_api_url,
			}
		event = verify_webhook(body, request.headers, **keys)
	except WebhookVerificationError as error:
		return inbox.refuse(401, error.reason)
	except (ServiceError, ConfigurationError):
		# Lago's public key could not be fetched (Lago down, or its URL/key not set): Lago delivers
		# again later; the admin finds the cause in the Error Log.
		frappe.log_error(title="Lago webhook: cannot get Lago's public key")
		return inbox.refuse(503, "Lago's public key is unavailable; retry later")
	stored = inbox.receive(
		"Lago", event.unique_key, event.webhook_type, body.decode(), PROCESSOR, object_type=event.object_type
	)
	return {"received": stored}
