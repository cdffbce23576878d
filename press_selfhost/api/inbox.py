"""Desk actions on the webhook inbox."""

import frappe

from press_selfhost.webhooks import inbox


@frappe.whitelist(methods=["POST"])
def replay(name: str):
	"""Process a Failed Webhook Event again (the Replay button on the form)."""
	frappe.only_for("System Manager")
	inbox.replay(name)
