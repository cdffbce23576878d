"""Webhook Event: one verified delivery in the inbox. press_selfhost.webhooks.inbox writes it; the desk reads and replays."""

from frappe.model.document import Document


class WebhookEvent(Document):
	pass
