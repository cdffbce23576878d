"""What a Postal delivery event means for our message log: the new status, opens, clicks, suppression.

Framework-free, so the rules (which events are hard bounces, which status may replace which) are
tested without a bench; the Frappe shell only applies the `DeliveryUpdate`.
"""

from dataclasses import dataclass
from email.utils import parseaddr
from enum import Enum

from press_selfhost.mail.postal import PostalEvent, PostalEventType


class MailStatus(str, Enum):
	SENT = "Sent"
	DELAYED = "Delayed"
	HELD = "Held"
	DELIVERED = "Delivered"
	FAILED = "Failed"
	BOUNCED = "Bounced"


# Postal's webhooks can arrive out of order (each is retried on its own schedule): a late
# "delayed" must not undo "delivered", while a bounce, which arrives after delivery, must win.
STATUS_RANK = {
	MailStatus.SENT: 0,
	MailStatus.DELAYED: 1,
	MailStatus.HELD: 1,
	MailStatus.DELIVERED: 2,
	MailStatus.FAILED: 3,
	MailStatus.BOUNCED: 3,
}

EVENT_STATUS = {
	PostalEventType.MESSAGE_SENT: MailStatus.DELIVERED,
	PostalEventType.MESSAGE_DELAYED: MailStatus.DELAYED,
	PostalEventType.MESSAGE_HELD: MailStatus.HELD,
	PostalEventType.MESSAGE_DELIVERY_FAILED: MailStatus.FAILED,
	PostalEventType.MESSAGE_BOUNCED: MailStatus.BOUNCED,
}

# A bounce message, or a permanent refusal by the recipient's server (Postal's HardFail, which it
# also reports once it gives up retrying): the address does not take mail, stop sending to it.
HARD_BOUNCE_EVENTS = frozenset({PostalEventType.MESSAGE_BOUNCED, PostalEventType.MESSAGE_DELIVERY_FAILED})


@dataclass(frozen=True)
class DeliveryUpdate:
	message_id: str
	status: MailStatus | None = None
	opened: bool = False
	clicked: bool = False
	suppress_address: str | None = None
	reason: str = ""


def delivery_update(event: PostalEvent) -> DeliveryUpdate | None:
	"""The change `event` makes to the message it is about, or None for server-wide events."""
	message = event.message
	if message is None:
		return None
	suppress = None
	if event.event_type in HARD_BOUNCE_EVENTS and message.direction in ("", "outgoing"):
		suppress = suppression_key(message.to)
	return DeliveryUpdate(
		message_id=message.message_id,
		status=EVENT_STATUS.get(event.event_type),
		opened=event.event_type is PostalEventType.MESSAGE_LOADED,
		clicked=event.event_type is PostalEventType.MESSAGE_LINK_CLICKED,
		suppress_address=suppress,
		reason=_reason(event),
	)


def suppression_key(recipient: str) -> str | None:
	"""The bare, lower-cased address ("Ada <Ada@X.org>" → "ada@x.org") under which a bounce is kept."""
	address = parseaddr(recipient or "")[1].strip().lower()
	local, _, domain = address.rpartition("@")
	return address if local and domain and "." in domain else None


def next_status(current: MailStatus | str | None, incoming: MailStatus | None) -> MailStatus | None:
	"""The status to keep when `incoming` arrives for a message that is `current`."""
	if incoming is None:
		return MailStatus(current) if current else None
	if not current:
		return incoming
	current = MailStatus(current)
	return incoming if STATUS_RANK[incoming] >= STATUS_RANK[current] else current


def _reason(event: PostalEvent) -> str:
	payload = event.payload
	if event.event_type is PostalEventType.MESSAGE_BOUNCED:
		bounce = payload.get("bounce")
		subject = bounce.get("subject") if isinstance(bounce, dict) else None
		return f"bounce received: {subject}" if isinstance(subject, str) else "bounce received"
	details = payload.get("details")
	return details[:500] if isinstance(details, str) else ""
