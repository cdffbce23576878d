"""The webhook inbox (Frappe shell): store a verified delivery once, process it in a job, retry, replay.

A delivery is a Webhook Event row; its unique index on unique_key makes a second delivery of the
same event fail to insert, which receive() answers as "already received". Processing runs the
event's processor (a dotted path taking the Webhook Event name) in a background job.
"""

import json
import traceback
from datetime import timedelta

import frappe
from frappe.utils import now_datetime

from press_selfhost.errors import ConfigurationError, ServiceRejectedError
from press_selfhost.webhooks.delivery import (
	check_body,
	check_length,
	inbox_key,
	is_duplicate_entry,
	retry_delay_seconds,
)

DOCTYPE = "Webhook Event"


def raw_body() -> bytes:
	"""The request's raw bytes, as the sender signed them; BodyRefused when no sender could have.

	The length is checked before the body is read. Frappe has already parsed a JSON body into
	form_dict by now (and answers 500 itself when it is not JSON): Traefik's webhook routes send it on
	as application/octet-stream so that only this code reads it.
	"""
	check_length(frappe.request.content_length)
	body = frappe.request.get_data(cache=True)
	check_body(body)
	return body


def refuse(http_status: int, reason: str) -> dict:
	"""The answer to a delivery that is not stored: the status, and the reason for the sender's log."""
	frappe.local.response.http_status_code = http_status
	return {"refused": reason}


def receive(
	source: str,
	unique_key: str,
	event_type: str,
	payload: str,
	processor: str,
	object_type: str | None = None,
) -> bool:
	"""Store the delivery and enqueue its processing after commit; False when it was already received."""
	event = frappe.get_doc(
		{
			"doctype": DOCTYPE,
			"source": source,
			"unique_key": inbox_key(source, unique_key),
			"event_type": event_type,
			"object_type": object_type,
			"payload": payload,
			"processor": processor,
			"status": "Received",
		}
	)
	try:
		event.insert(ignore_permissions=True)
	except (frappe.UniqueValidationError, frappe.DuplicateEntryError) as error:
		if is_duplicate_entry(error, key="unique_key"):
			frappe.clear_messages()  # Frappe queued a "must be unique" message for a desk user
			return False
		raise
	_enqueue(event.name)
	return True


def process(event_name: str) -> None:
	"""Run the event's processor; record the commands it issued, or the error and when to retry."""
	status, attempts, processor = frappe.db.get_value(
		DOCTYPE, event_name, ["status", "attempts", "processor"], for_update=True
	)
	if status in ("Processed", "Ignored"):
		return
	attempts = (attempts or 0) + 1
	try:
		commands = frappe.get_attr(processor)(event_name)
	except Exception as error:
		frappe.db.rollback()
		_record_failure(event_name, attempts, error)
		return
	frappe.db.set_value(
		DOCTYPE,
		event_name,
		{
			"status": "Ignored" if commands is None else "Processed",
			"attempts": attempts,
			"commands": json.dumps(commands or [], indent=1, default=str),
			"last_error": None,
			"next_attempt_at": None,
		},
	)
	frappe.db.commit()


def retry_failed_events() -> None:
	"""Scheduled: enqueue Failed events whose backoff has elapsed."""
	due = frappe.get_all(
		DOCTYPE,
		filters={"status": "Failed", "next_attempt_at": ("<=", now_datetime())},
		pluck="name",
		limit=200,
	)
	for name in due:
		frappe.db.set_value(DOCTYPE, name, "next_attempt_at", None)
		_enqueue(name)


def replay(event_name: str) -> None:
	"""Process a Failed event again now (the desk's Replay button)."""
	status = frappe.db.get_value(DOCTYPE, event_name, "status")
	if status != "Failed":
		frappe.throw(f"Only Failed events can be replayed; this one is {status}.")
	frappe.db.set_value(DOCTYPE, event_name, {"status": "Received", "next_attempt_at": None})
	_enqueue(event_name)


def _record_failure(event_name: str, attempts: int, error: Exception) -> None:
	permanent = isinstance(error, ServiceRejectedError | ConfigurationError)
	delay = None if permanent else retry_delay_seconds(attempts)
	frappe.db.set_value(
		DOCTYPE,
		event_name,
		{
			"status": "Failed",
			"attempts": attempts,
			"last_error": "".join(traceback.format_exception_only(type(error), error)).strip()
			+ ("" if delay is not None else "\nNo automatic retry: fix the cause, then Replay."),
			"next_attempt_at": now_datetime() + timedelta(seconds=delay) if delay is not None else None,
		},
	)
	frappe.db.commit()


def _enqueue(event_name: str) -> None:
	frappe.enqueue(
		"press_selfhost.webhooks.inbox.process",
		queue="short",
		event_name=event_name,
		enqueue_after_commit=True,
		job_id=f"webhook-event-{event_name}",
		deduplicate=True,
	)
