"""Transactional mail (Frappe shell): render a template, send it through Postal, log it, apply Postal's events.

The rules live in the core (`mail_templates`, `integrations/postal`, `mail_status`); this module reads
Selfhost Settings, keeps the Mail Message log and the Mail Suppression list, and tells the admins.
"""

import datetime
from email.utils import parseaddr

import frappe
from frappe.utils import convert_utc_to_system_timezone, now_datetime

from press_selfhost.errors import ConfigurationError, ServiceRejectedError
from press_selfhost.mail.postal import (
	OutgoingMail,
	PostalClient,
	PostalEvent,
	PostalEventType,
	parse_event,
)
from press_selfhost.mail.status import DeliveryUpdate, delivery_update, next_status, suppression_key
from press_selfhost.mail.templates import platform_values, render

MESSAGE = "Mail Message"
SUPPRESSION = "Mail Suppression"
SERVER_EVENTS = frozenset(
	{
		PostalEventType.DOMAIN_DNS_ERROR,
		PostalEventType.SEND_LIMIT_APPROACHING,
		PostalEventType.SEND_LIMIT_EXCEEDED,
	}
)


class SuppressedAddressError(ServiceRejectedError):
	"""The recipient bounced hard before: sending again would hurt the platform's sender reputation."""

	def __init__(self, address: str):
		super().__init__(
			"Mail",
			f"{address} bounced hard and is on the Mail Suppression list, so nothing was sent; "
			"delete its Mail Suppression record once the address works again",
			code="SuppressedAddress",
		)
		self.address = address


def send_template_mail(template: str, recipient: str, context: dict) -> str:
	"""Send the platform mail `template` to `recipient`; returns Postal's Message-ID, logged in Mail Message."""
	address = suppression_key(recipient)
	if address is None:
		raise ServiceRejectedError("Mail", f"'{recipient}' is not an e-mail address", code="InvalidRecipient")
	if frappe.db.exists(SUPPRESSION, address):
		raise SuppressedAddressError(address)
	settings = frappe.get_cached_doc("Selfhost Settings")
	from_address = settings.get("postal_from_address")
	if not from_address:
		raise ConfigurationError("Postal: postal_from_address is not set in Selfhost Settings.")
	defaults = platform_values(settings.get("domain") or "localhost", context.get("site"))
	if settings.get("platform_name"):
		defaults["platform_name"] = settings.platform_name
	defaults["support_email"] = settings.get("support_email") or parseaddr(from_address)[1]
	mail = render(template, {**defaults, **context})
	client = PostalClient(
		settings.get("postal_url") or "",
		settings.get_password("postal_server_api_key", raise_exception=False) or "",
	)
	sent = client.send_message(
		OutgoingMail(
			to=[recipient],
			from_address=from_address,
			subject=mail.subject,
			plain_body=mail.text,
			html_body=mail.html,
			tag=mail.tag,
			headers={"X-Press-Selfhost-Template": template},
		)
	)
	frappe.get_doc(
		{
			"doctype": MESSAGE,
			"message_id": sent.message_id,
			"recipient": address,
			"subject": mail.subject[:140],
			"template": template,
			"tag": mail.tag,
			"status": "Sent",
		}
	).insert(ignore_permissions=True)
	return sent.message_id


def process_postal_event(event_name: str) -> list[dict] | None:
	"""The inbox's processor for Postal: update the Mail Message, suppress hard bounces, tell admins.

	Returns what it did, or None (the inbox marks the event Ignored) when it concerns nothing of ours.
	"""
	payload = frappe.db.get_value("Webhook Event", event_name, "payload")
	event = parse_event((payload or "").encode())
	if event.event_type in SERVER_EVENTS:
		_tell_admins(_server_event_summary(event), "Webhook Event", event_name)
		return [{"notified": "System Manager", "event": event.event_type.value}]
	update = delivery_update(event)
	if update is None:
		return None
	done = []
	if _apply_to_message(update, event):
		done.append({"updated": update.message_id, "event": event.event_type.value})
	if update.suppress_address and _suppress(update, event):
		done.append({"suppressed": update.suppress_address})
	return done or None


def _apply_to_message(update: DeliveryUpdate, event: PostalEvent) -> bool:
	row = frappe.db.get_value(
		MESSAGE, {"message_id": update.message_id}, ["name", "status"], as_dict=True, for_update=True
	)
	if not row:
		return False  # mail Postal sent for someone else (Frappe's own SMTP mail, another app)
	values = {
		"status": next_status(row.status, update.status).value,
		"last_event": event.event_type.value,
		"last_event_at": _system_time(event.timestamp),
	}
	if update.opened:
		values["opened"] = 1
	if update.clicked:
		values["clicked"] = 1
	if update.reason:
		values["details"] = update.reason
	frappe.db.set_value(MESSAGE, row.name, values)
	return True


def _suppress(update: DeliveryUpdate, event: PostalEvent) -> bool:
	address = update.suppress_address
	if frappe.db.exists(SUPPRESSION, address):
		return False
	frappe.get_doc(
		{
			"doctype": SUPPRESSION,
			"email": address,
			"reason": update.reason or event.event_type.value,
			"event": event.event_type.value,
			"message_id": update.message_id,
			"suppressed_at": now_datetime(),
		}
	).insert(ignore_permissions=True)
	_tell_admins(
		f"{address} bounced hard ({event.event_type.value}); the platform no longer mails it.",
		SUPPRESSION,
		address,
	)
	return True


def _tell_admins(subject: str, document_type: str, document_name: str) -> None:
	from frappe.desk.doctype.notification_log.notification_log import enqueue_create_notification
	from frappe.utils.user import get_system_managers

	enqueue_create_notification(
		get_system_managers(only_name=True),
		{
			"type": "Alert",
			"subject": subject,
			"document_type": document_type,
			"document_name": document_name,
			"from_user": "Administrator",
		},
	)


def _server_event_summary(event: PostalEvent) -> str:
	payload = event.payload
	if event.event_type is PostalEventType.DOMAIN_DNS_ERROR:
		domain = payload.get("domain")
		return f"Postal: the DNS records of {domain} are wrong; fix them (docs/mail.md) or mail will fail."
	return (
		f"Postal: {event.event_type.value} ({payload.get('volume')} of {payload.get('limit')} messages); "
		"raise the send limit of the mail server in Postal."
	)


def _system_time(timestamp: float) -> datetime.datetime:
	utc = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc)
	return convert_utc_to_system_timezone(utc).replace(tzinfo=None)
