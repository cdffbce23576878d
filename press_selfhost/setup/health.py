"""What every doctor check is made of, and what the checks share: how Press answers a caller.

Each feature's `checks.py` builds its checks from these; `setup/doctor.py` runs them. Framework-free.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests

# Press's auth hook (press/auth.py, 8542b9c) throws this to any caller that is not a System User
# on an /api/ path outside its allow-list; /api/method/press.api.* is on it.
PRESS_AUTH_REFUSAL = "Access not allowed for this URL"


class CheckFailed(Exception):
	"""A check found a problem; `fix` tells the admin what to do, in one line."""

	def __init__(self, detail: str, fix: str):
		super().__init__(detail)
		self.detail = detail
		self.fix = fix


@dataclass(frozen=True)
class Check:
	"""A named probe with its own time limit (seconds); `probe` returns a success detail."""

	name: str
	probe: Callable[[], str]
	timeout: float = 10.0
	fix_on_error: str = ""


@dataclass(frozen=True)
class CheckResult:
	name: str
	ok: bool
	detail: str
	fix: str = ""


def dashboard_host(domain: str) -> str:
	"""Press's own site: the dashboard is cloud.<domain>."""
	return f"cloud.{domain}"


def press_site_headers(domain: str) -> dict[str, str]:
	"""What picks Press's site when its web server is called directly: the Host and Frappe's site name."""
	site = dashboard_host(domain)
	return {"Host": site, "X-Frappe-Site-Name": site, "Accept": "application/json"}


def json_document(response: requests.Response) -> object:
	try:
		return response.json()
	except ValueError:
		return None


def frappe_messages(document: object) -> list[str]:
	"""The messages Frappe put in an error answer: `_server_messages` (API v1) or `errors` (v2)."""
	if not isinstance(document, Mapping):
		return []
	messages = []
	try:
		for entry in json.loads(document.get("_server_messages") or "[]"):
			message = json.loads(entry) if isinstance(entry, str) else entry
			if isinstance(message, Mapping) and message.get("message"):
				messages.append(str(message["message"]))
	except (TypeError, ValueError):
		pass
	for error in document.get("errors") or []:
		if isinstance(error, Mapping) and error.get("message"):
			messages.append(str(error["message"]))
	if isinstance(document.get("message"), str):
		messages.append(document["message"])
	return messages


def press_refusal(response: requests.Response, caller: str, method: str) -> CheckFailed | None:
	"""Press itself (not our endpoint) refusing `caller`'s request for `method`, as a failed check.

	Press's auth hook answers 401 "Access not allowed for this URL"; Frappe answers 417 "Failed to
	get method" when no installed app (nor override_whitelisted_methods) provides the method.
	"""
	document = json_document(response)
	exc_type = document.get("exc_type") if isinstance(document, Mapping) else None
	messages = frappe_messages(document)
	if response.status_code == 401 and PRESS_AUTH_REFUSAL in messages:
		return CheckFailed(
			f"Press's auth hook refuses {caller} (Guest) at /api/method/{method}: {PRESS_AUTH_REFUSAL}",
			f"Update press_selfhost on Press: its hooks.py gives {caller}'s endpoint the name {method},"
			" which Press's auth hook lets Guests reach (/api/method/press.api.*).",
		)
	if response.status_code == 417 and any(m.startswith("Failed to get method") for m in messages):
		return CheckFailed(
			f"Press has no method {method} ({exc_type or 'HTTP 417'})",
			f"Update press_selfhost on Press and migrate: its hooks.py maps {method} to {caller}'s endpoint.",
		)
	return None


def _refusal_reason(document: object) -> str:
	"""Our webhooks refuse with {"refused": reason}, which Frappe sends as the method's `message`."""
	message = document.get("message") if isinstance(document, Mapping) else None
	return str(message.get("refused") or "") if isinstance(message, Mapping) else ""


def guest_webhook_probe(
	caller: str, press_url: str, domain: str, method: str, *, unavailable_fix: str, timeout: float
) -> str:
	"""POST an unsigned `{}` to a webhook as `caller` does (a Guest): our endpoint must refuse it with
	401 {"refused": ...} and store nothing, which proves the caller's deliveries reach our code."""
	url = f"{press_url.rstrip('/')}/api/method/{method}"
	try:
		response = requests.post(
			url,
			data=b"{}",
			headers={**press_site_headers(domain), "Content-Type": "application/json"},
			timeout=timeout,
		)
	except requests.RequestException as error:
		raise CheckFailed(
			f"{url} is unreachable ({type(error).__name__})",
			"Start Press's web server and check press_upstream_url in Selfhost Settings.",
		) from None
	refusal = press_refusal(response, caller, method)
	if refusal:
		raise refusal
	reason = _refusal_reason(json_document(response))
	if response.status_code == 401 and reason:
		return f"{caller} (Guest) reaches press_selfhost at {url}, which refuses an unsigned body ({reason})"
	if response.status_code == 503 and reason:
		raise CheckFailed(f"{caller}'s webhook at {url} refuses every delivery: {reason}", unavailable_fix)
	if response.status_code == 200:
		raise CheckFailed(
			f"{url} accepted an unsigned {caller} delivery",
			"Update press_selfhost: its webhook must refuse what the caller did not sign.",
		)
	if response.status_code == 404:
		raise CheckFailed(
			f"{url} for site {dashboard_host(domain)} answered HTTP 404",
			"Check domain (the Press site must be cloud.<domain>) and that press_selfhost is installed on it.",
		)
	raise CheckFailed(
		f"{url} answered an unsigned {caller} delivery with HTTP {response.status_code}, not 401",
		"Read Press's error log: the webhook must refuse an unsigned delivery with 401.",
	)
