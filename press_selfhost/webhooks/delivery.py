"""Webhook deliveries: received exactly once, and retried on a schedule when processing fails.

Two deliveries of the same event racing each other both pass any "does it exist?" check; only a
unique index on the event's key lets exactly one INSERT win. The loser gets MariaDB's duplicate-key
error (1062), which this module recognises, whether raw from PyMySQL or wrapped by Frappe
(DuplicateEntryError / UniqueValidationError carry the driver's error in their args).
"""

import json

MARIADB_DUPLICATE_ENTRY = 1062
# Frappe's Data columns are varchar(140); the source prefix must fit too.
MAX_KEY_LENGTH = 140


def inbox_key(source: str, unique_key: str) -> str:
	"""The inbox's unique key: the sender's own key, prefixed so two senders can never collide."""
	key = f"{source.lower()}:{unique_key}"
	if len(key) > MAX_KEY_LENGTH:
		raise ValueError(
			f"unique key of {source} is longer than {MAX_KEY_LENGTH - len(source) - 1} characters"
		)
	return key


def is_duplicate_entry(error: BaseException, key: str | None = None) -> bool:
	"""True when `error` is (or wraps) MariaDB's duplicate-key error, on index `key` when given."""
	seen: set[int] = set()
	pending: list[object] = [error]
	while pending:
		candidate = pending.pop()
		if not isinstance(candidate, BaseException) or id(candidate) in seen:
			continue
		seen.add(id(candidate))
		args = candidate.args
		if len(args) >= 2 and args[0] == MARIADB_DUPLICATE_ENTRY and isinstance(args[1], str):
			return key is None or args[1].rstrip().endswith(f"for key '{key}'")
		pending += [*args, candidate.__cause__, candidate.__context__]
	return False


# Processing that keeps failing stops retrying on its own after this many attempts; an admin replays it.
MAX_ATTEMPTS = 10
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 3600


def retry_delay_seconds(attempts: int) -> int | None:
	"""Seconds to wait before the next automatic attempt after `attempts` failures, or None to stop.

	Doubling from a minute, then hourly: about four hours in all, which outlasts a service restart
	and a large site's final backup without hammering a service that is down.
	"""
	if attempts >= MAX_ATTEMPTS:
		return None
	return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS)


# Lago's largest deliveries (an invoice with its fees) stay well under this; anything bigger is not a
# webhook of theirs and is refused before it is read or stored. Traefik's webhook routes cap it too.
MAX_BODY_BYTES = 1024 * 1024


class BodyRefused(Exception):
	"""A delivery refused before its signature is checked: `http_status` and a short `reason`."""

	def __init__(self, http_status: int, reason: str):
		super().__init__(reason)
		self.http_status = http_status
		self.reason = reason


def check_length(content_length: int | None) -> None:
	"""Refuse (413) a body whose declared length is over the cap, before reading it."""
	if content_length is not None and content_length > MAX_BODY_BYTES:
		raise BodyRefused(413, f"body larger than {MAX_BODY_BYTES} bytes")


def check_body(body: bytes) -> None:
	"""Refuse what no sender signs: an empty, oversized, non-UTF-8 or non-JSON-object body (400/413)."""
	check_length(len(body))
	if not body.strip():
		raise BodyRefused(400, "empty body")
	try:
		text = body.decode("utf-8")
	except UnicodeDecodeError:
		raise BodyRefused(400, "body is not UTF-8") from None
	try:
		document = json.loads(text)
	except ValueError:
		raise BodyRefused(400, "body is not JSON") from None
	if not isinstance(document, dict):
		raise BodyRefused(400, "body is not a JSON object")
