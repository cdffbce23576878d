"""A stand-in for Postal (not Postal): its legacy send API on 127.0.0.1, and a webhook signer.

The send API follows postalserver/postal 3.3 `app/controllers/legacy_api/`: `POST /api/v1/send/message`
and `/api/v1/send/raw`, authenticated by `X-Server-API-Key`, always HTTP 200 with the outcome in
`status` ("success", "error" with `data.code`, "parameter-error"), the same validation order and codes,
and, like Postal, `InvalidServerAPIKey` echoes the key back. The signer signs like `Postal::Signer`:
RSA PKCS#1 v1.5 over the raw body, SHA-256 in `X-Postal-Signature-256`, SHA-1 in `X-Postal-Signature`.
"""

import base64
import email
import email.utils
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.standin import HTTPStandIn, Request, Response


@dataclass
class AcceptedMessage:
	message_id: str
	rcpt_to: str
	params: dict
	raw: bytes | None = None


class PostalStandIn(HTTPStandIn):
	name = "Postal send API stand-in"

	def __init__(self, server_api_key: str = "postal-standin-api-key", domains=("example.com",)):
		super().__init__()
		self.server_api_key = server_api_key
		self.domains = set(domains)
		self.suspended = False
		self.accepted: list[AcceptedMessage] = []
		self._ids = itertools.count(1)
		self._state_lock = threading.Lock()
		for path, handler in (("/api/v1/send/message", self._message), ("/api/v1/send/raw", self._raw)):
			for method in ("GET", "POST", "PUT", "PATCH"):  # Postal routes the legacy API on all four
				self.route(method, path, self._authenticated(handler))

	def _authenticated(self, handler):
		def answer(request: Request) -> Response:
			started = time.monotonic()
			key = request.headers.get("X-Server-API-Key")
			if not key:
				return _error(started, "AccessDenied", message="Must be authenticated as a server.")
			if key != self.server_api_key:
				return _error(
					started,
					"InvalidServerAPIKey",
					message="The API token provided in X-Server-API-Key was not valid.",
					token=key,
				)
			if self.suspended:
				return _error(started, "ServerSuspended")
			params = (
				request.json()
				if request.headers.get("Content-Type", "").startswith("application/json")
				else {}
			)
			return handler(started, params if isinstance(params, dict) else {})

		return answer

	def _message(self, started: float, params: dict) -> Response:
		to, cc, bcc = (params.get(key) or [] for key in ("to", "cc", "bcc"))
		attachments = [a for a in params.get("attachments") or [] if isinstance(a, dict)]
		checks = (
			("NoRecipients", not (to or cc or bcc)),
			("NoContent", not (params.get("plain_body") or params.get("html_body"))),
			("TooManyToAddresses", len(to) > 50),
			("TooManyCCAddresses", len(cc) > 50),
			("TooManyBCCAddresses", len(bcc) > 50),
			("FromAddressMissing", not params.get("from")),
			(
				"UnauthenticatedFromAddress",
				params.get("from") and not self._authenticated_from(params["from"]),
			),
			("AttachmentMissingName", any(not a.get("name") for a in attachments)),
			("AttachmentMissingData", any(not a.get("data") for a in attachments)),
		)
		for code, failed in checks:
			if failed:
				return _error(started, code, message=f"stand-in refused: {code}")
		message_id = f"{uuid.uuid4()}@rp.postal.example.com"
		messages = {}
		with self._state_lock:
			for rcpt in dict.fromkeys([*to, *cc, *bcc]):
				self.accepted.append(AcceptedMessage(message_id, rcpt, params))
				messages[rcpt] = {"id": next(self._ids), "token": uuid.uuid4().hex[:12]}
		return _success(started, {"message_id": message_id, "messages": messages})

	def _raw(self, started: float, params: dict) -> Response:
		if not isinstance(params.get("rcpt_to"), list):
			return _parameter_error(started, "`rcpt_to` parameter is required but is missing")
		if not params.get("mail_from"):
			return _parameter_error(started, "`mail_from` parameter is required but is missing")
		if not params.get("data"):
			return _parameter_error(started, "`data` parameter is required but is missing")
		raw = base64.b64decode(params["data"])
		headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0])
		if not self._authenticated_from(headers.get("From", "")):
			return _error(started, "UnauthenticatedFromAddress")
		message_id = f"{uuid.uuid4()}@rp.postal.example.com"
		messages = {}
		with self._state_lock:
			for rcpt in dict.fromkeys(params["rcpt_to"]):
				self.accepted.append(AcceptedMessage(message_id, rcpt, params, raw))
				messages[rcpt] = {"id": next(self._ids), "token": uuid.uuid4().hex[:12]}
		return _success(started, {"message_id": message_id, "messages": messages})

	def _authenticated_from(self, address: str) -> bool:
		domain = email.utils.parseaddr(address)[1].rpartition("@")[2].lower()
		return domain in self.domains


def _success(started: float, data: dict) -> Response:
	return Response(200, {"status": "success", "time": _elapsed(started), "flags": {}, "data": data})


def _error(started: float, code: str, **data) -> Response:
	return Response(
		200, {"status": "error", "time": _elapsed(started), "flags": {}, "data": {**data, "code": code}}
	)


def _parameter_error(started: float, message: str) -> Response:
	return Response(
		200,
		{"status": "parameter-error", "time": _elapsed(started), "flags": {}, "data": {"message": message}},
	)


def _elapsed(started: float) -> float:
	return round(time.monotonic() - started, 3)


@dataclass
class PostalSigner:
	"""Signs webhook bodies as Postal does, with a fresh RSA key (Postal's `signing.key`)."""

	private_key: rsa.RSAPrivateKey = field(
		default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
	)

	@property
	def public_key_pem(self) -> str:
		return (
			self.private_key.public_key()
			.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
			.decode()
		)

	@property
	def dkim_p_value(self) -> str:
		"""The `p=` of `postal default-dkim-record`: base64 DER SubjectPublicKeyInfo."""
		der = self.private_key.public_key().public_bytes(
			serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
		)
		return base64.b64encode(der).decode()

	def sign_sha256(self, body: bytes) -> str:
		return base64.b64encode(self.private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()

	def sign_sha1(self, body: bytes) -> str:
		return base64.b64encode(self.private_key.sign(body, padding.PKCS1v15(), hashes.SHA1())).decode()  # noqa: S303 (Postal's legacy header)

	def headers(self, body: bytes) -> dict[str, str]:
		"""What Postal ≥ 3.2 sends: both signatures."""
		return {
			"Content-Type": "application/json",
			"X-Postal-Signature": self.sign_sha1(body),
			"X-Postal-Signature-256": self.sign_sha256(body),
			"X-Postal-Signature-KID": "standin-kid",
		}


def webhook_body(event: str, payload: dict, event_uuid: str | None = None) -> bytes:
	"""A webhook body shaped like WebhookDeliveryService#generate_payload."""
	return json.dumps(
		{
			"event": event,
			"timestamp": time.time(),
			"payload": payload,
			"uuid": event_uuid or str(uuid.uuid4()),
		}
	).encode()


def message_hash(message_id: str, to: str, *, tag: str = "verify_email") -> dict:
	"""Postal's Message#webhook_hash."""
	return {
		"id": 12,
		"token": "abcdef123456",
		"direction": "outgoing",
		"message_id": message_id,
		"to": to,
		"from": "cloud@example.com",
		"subject": "Verify your e-mail",
		"timestamp": time.time(),
		"spam_status": "NotChecked",
		"tag": tag,
	}


def delivery_payload(message_id: str, to: str, status: str, details: str = "") -> dict:
	"""Postal's Delivery#webhook_hash (MessageSent/Delayed/DeliveryFailed/Held)."""
	return {
		"message": message_hash(message_id, to),
		"status": status,
		"details": details,
		"output": "250 OK",
		"sent_with_ssl": True,
		"timestamp": time.time(),
		"time": 0.12,
	}


def bounce_payload(message_id: str, to: str) -> dict:
	bounce = message_hash(f"bounce-{message_id}", "cloud@example.com")
	bounce.update(direction="incoming", subject="Mail delivery failed: returning message to sender")
	return {"original_message": message_hash(message_id, to), "bounce": bounce}
