"""Postal: send mail through its HTTP API or SMTP, verify its signed webhooks, read its delivery events.

Framework-free: settings come in as arguments, plain data comes out, errors are ours. Postal's HTTP
API answers 200 to everything and puts the outcome in the JSON `status`, so that is what we check.
"""

import base64
import binascii
import json
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from enum import Enum

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from press_selfhost.errors import (
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
	WebhookVerificationError,
)

SERVICE = "Postal"

# Postal's error codes (app/controllers/legacy_api/), each with what the admin should do about it.
# None of them can succeed if the same request is simply sent again, except ServerSuspended (below).
PERMANENT_ERRORS = {
	"AccessDenied": "no server API key was sent; set postal_server_api_key in Selfhost Settings",
	"InvalidServerAPIKey": "the server API key was refused; create an API credential for the mail "
	"server in Postal and put it in postal_server_api_key",
	"NoRecipients": "the message has no recipient",
	"NoContent": "the message has neither a plain nor an HTML body",
	"TooManyToAddresses": "more than 50 To addresses",
	"TooManyCCAddresses": "more than 50 CC addresses",
	"TooManyBCCAddresses": "more than 50 BCC addresses",
	"FromAddressMissing": "the message has no From address; set postal_from_address",
	"UnauthenticatedFromAddress": "the From address's domain is not verified on this Postal server; "
	"add and verify the domain in Postal or change postal_from_address",
	"AttachmentMissingName": "an attachment has no name",
	"AttachmentMissingData": "an attachment has no data",
}
# A suspended server refuses every message until a Postal admin lifts the suspension; the request
# itself is fine, so it is retryable: the job's backoff keeps the mail until the admin acts.
RETRYABLE_ERRORS = {
	"ServerSuspended": "the mail server is suspended in Postal; an admin must unsuspend it (Postal "
	"web UI → the server → Settings), then the mail goes out on the next retry",
}


# -- sending through the HTTP API -----------------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
	name: str
	content_type: str
	data: bytes


@dataclass(frozen=True)
class OutgoingMail:
	"""One message for `POST /api/v1/send/message`; addresses may carry a display name."""

	to: Sequence[str]
	from_address: str
	subject: str
	plain_body: str | None = None
	html_body: str | None = None
	cc: Sequence[str] = ()
	bcc: Sequence[str] = ()
	sender: str | None = None
	reply_to: str | None = None
	tag: str | None = None
	attachments: Sequence[Attachment] = ()
	headers: Mapping[str, str] = field(default_factory=dict)

	def as_postal_json(self) -> dict:
		document = {
			"to": list(self.to),
			"cc": list(self.cc),
			"bcc": list(self.bcc),
			"from": self.from_address,
			"subject": self.subject,
		}
		optional = {
			"sender": self.sender,
			"reply_to": self.reply_to,
			"tag": self.tag,
			"plain_body": self.plain_body,
			"html_body": self.html_body,
		}
		document.update({key: value for key, value in optional.items() if value is not None})
		if self.attachments:
			document["attachments"] = [
				{
					"name": attachment.name,
					"content_type": attachment.content_type,
					"data": base64.b64encode(attachment.data).decode("ascii"),
				}
				for attachment in self.attachments
			]
		if self.headers:
			document["headers"] = dict(self.headers)
		return document


@dataclass(frozen=True)
class RecipientMessage:
	"""Postal's record of the copy sent to one recipient (its id and token in Postal's message DB)."""

	id: int
	token: str


@dataclass(frozen=True)
class SentMessage:
	"""`message_id` is the Message-ID header Postal gave the mail; webhooks carry it back."""

	message_id: str
	recipients: Mapping[str, RecipientMessage]


class PostalClient:
	"""Postal's legacy HTTP API (v1), authenticated by a mail server's API credential."""

	def __init__(
		self,
		base_url: str,
		server_api_key: str,
		*,
		timeout: float = 15.0,
		session: requests.Session | None = None,
	):
		if not base_url:
			raise ConfigurationError("Postal: postal_url is not set in Selfhost Settings.")
		if not server_api_key:
			raise ConfigurationError("Postal: postal_server_api_key is not set in Selfhost Settings.")
		self.base_url = base_url.rstrip("/")
		self._server_api_key = server_api_key
		self.timeout = timeout
		self.session = session or requests.Session()

	def __repr__(self) -> str:  # the key must never reach a log through repr()
		return f"PostalClient({self.base_url!r})"

	def send_message(self, mail: OutgoingMail) -> SentMessage:
		return self._send("/api/v1/send/message", mail.as_postal_json())

	def send_raw(self, mail_from: str, rcpt_to: Sequence[str], data: bytes) -> SentMessage:
		"""Send an RFC 5322 message as is; Postal checks its From header against its domains."""
		payload = {
			"mail_from": mail_from,
			"rcpt_to": list(rcpt_to),
			"data": base64.b64encode(data).decode("ascii"),
		}
		return self._send("/api/v1/send/raw", payload)

	def verify_api_key(self) -> None:
		"""Prove the server API key without sending mail; ServiceRejectedError when Postal refuses it.

		Postal has no "who am I" call. Its send API authenticates the key before it validates the
		message, and a message with no recipient is then refused with NoRecipients, so that answer
		proves the key while nothing is queued; InvalidServerAPIKey or AccessDenied means the key is wrong.
		"""
		try:
			self._send("/api/v1/send/message", {"to": [], "cc": [], "bcc": []})
		except ServiceRejectedError as error:
			if error.code == "NoRecipients":
				return
			raise
		raise ServiceRejectedError(
			SERVICE, f"{self.base_url} accepted a message without recipients; check that postal_url is Postal"
		)

	def _send(self, path: str, payload: dict) -> SentMessage:
		url = self.base_url + path
		try:
			response = self.session.post(
				url,
				json=payload,
				headers={"X-Server-API-Key": self._server_api_key, "Accept": "application/json"},
				timeout=self.timeout,
			)
		except requests.Timeout:
			raise ServiceUnavailableError(
				SERVICE, f"no answer from {self.base_url} within {self.timeout:g} s"
			) from None
		except requests.RequestException as error:
			raise ServiceUnavailableError(
				SERVICE, f"could not reach {self.base_url} ({type(error).__name__}); is Postal running?"
			) from None
		return _sent_message(_postal_data(response, self.base_url, self._server_api_key))


def _postal_data(response: requests.Response, base_url: str, server_api_key: str) -> dict:
	"""The `data` of a successful answer, or the error of ours that the answer means."""
	status = response.status_code
	if status == 429 or status >= 500:
		raise ServiceUnavailableError(SERVICE, f"{base_url} answered HTTP {status}", status_code=status)
	if status != 200:
		raise ServiceRejectedError(
			SERVICE,
			f"{base_url} answered HTTP {status}; Postal's API always answers 200, check postal_url",
			status_code=status,
		)
	try:
		document = response.json()
	except ValueError:
		document = None
	if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
		raise ServiceRejectedError(
			SERVICE, f"{base_url} did not answer with Postal's JSON; check that postal_url points at Postal"
		)
	data = document["data"]
	if document.get("status") == "success":
		return data
	if document.get("status") == "parameter-error":
		raise ServiceRejectedError(
			SERVICE,
			"refused a parameter: " + _scrubbed(data.get("message"), server_api_key),
			code="parameter-error",
		)
	code = str(data.get("code") or "unknown")
	if code in RETRYABLE_ERRORS:
		raise ServiceUnavailableError(SERVICE, RETRYABLE_ERRORS[code], code=code)
	message = PERMANENT_ERRORS.get(code) or _scrubbed(data.get("message"), server_api_key)
	raise ServiceRejectedError(SERVICE, message, code=code)


def _scrubbed(message: object, secret: str) -> str:
	"""Postal's own wording for a case we do not know, without the key (Postal echoes it sometimes)."""
	text = str(message or "no message")[:300]
	return text.replace(secret, "[server API key]") if secret else text


def _sent_message(data: dict) -> SentMessage:
	messages = data.get("messages")
	if not isinstance(data.get("message_id"), str) or not isinstance(messages, dict):
		raise ServiceRejectedError(SERVICE, "answered success without a message_id; is this really Postal?")
	recipients = {}
	for address, copy in messages.items():
		if (
			isinstance(copy, dict)
			and isinstance(copy.get("id"), int)
			and not isinstance(copy.get("id"), bool)
		):
			recipients[address] = RecipientMessage(copy["id"], str(copy.get("token", "")))
	return SentMessage(data["message_id"], recipients)


# -- sending through SMTP ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SMTPSettings:
	"""What Frappe's Email Account holds for outgoing mail, and what Postal's SMTP needs."""

	host: str
	port: int
	username: str
	password: str
	use_starttls: bool = False
	use_ssl: bool = False
	timeout: float = 30.0


def send_smtp(settings: SMTPSettings, message: EmailMessage) -> None:
	"""Send `message` the way Frappe's SMTPServer does: connect, optional TLS, AUTH, send."""
	try:
		if settings.use_ssl:
			connection = smtplib.SMTP_SSL(
				settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
			)
		else:
			connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
		with connection:
			if settings.use_starttls:
				connection.ehlo()
				connection.starttls(context=ssl.create_default_context())
			connection.ehlo()
			if settings.username or settings.password:
				connection.login(settings.username, settings.password)
			connection.send_message(message)
	except smtplib.SMTPAuthenticationError:
		raise ServiceRejectedError(
			SERVICE,
			"SMTP login refused; postal_smtp_password must be an SMTP credential key of the Postal server",
			code="SMTPAuthenticationError",
		) from None
	except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
		smtp_code = getattr(error, "smtp_code", None)
		refused = ServiceUnavailableError if (smtp_code or 0) // 100 == 4 else ServiceRejectedError
		raise refused(SERVICE, f"SMTP refused the message ({type(error).__name__})") from None
	except (OSError, smtplib.SMTPException) as error:
		raise ServiceUnavailableError(
			SERVICE,
			f"could not send through SMTP at {settings.host}:{settings.port} ({type(error).__name__})",
		) from None


# -- webhooks ---------------------------------------------------------------------------------------
class PostalEventType(str, Enum):
	MESSAGE_SENT = "MessageSent"
	MESSAGE_DELAYED = "MessageDelayed"
	MESSAGE_DELIVERY_FAILED = "MessageDeliveryFailed"
	MESSAGE_HELD = "MessageHeld"
	MESSAGE_BOUNCED = "MessageBounced"
	MESSAGE_LINK_CLICKED = "MessageLinkClicked"
	MESSAGE_LOADED = "MessageLoaded"
	DOMAIN_DNS_ERROR = "DomainDNSError"
	SEND_LIMIT_APPROACHING = "SendLimitApproaching"
	SEND_LIMIT_EXCEEDED = "SendLimitExceeded"


MESSAGE_EVENTS = frozenset(
	{
		PostalEventType.MESSAGE_SENT,
		PostalEventType.MESSAGE_DELAYED,
		PostalEventType.MESSAGE_DELIVERY_FAILED,
		PostalEventType.MESSAGE_HELD,
		PostalEventType.MESSAGE_LINK_CLICKED,
		PostalEventType.MESSAGE_LOADED,
	}
)


@dataclass(frozen=True)
class PostalMessage:
	"""Postal's description of a message in a webhook (`message` or `original_message`)."""

	message_id: str
	to: str
	from_address: str
	subject: str
	tag: str
	direction: str


@dataclass(frozen=True)
class PostalEvent:
	event_type: PostalEventType
	uuid: str
	timestamp: float
	payload: Mapping
	message: PostalMessage | None

	@property
	def dedupe_key(self) -> str:
		"""Postal signs nothing time-bound and retries for ~36 min: its uuid is what makes a delivery unique."""
		return self.uuid


SIGNATURE_256_HEADER = "X-Postal-Signature-256"
SIGNATURE_SHA1_HEADER = "X-Postal-Signature"


def load_public_key(public_key: str | bytes) -> rsa.RSAPublicKey:
	"""Postal's signing key: a PEM public key, or the base64 `p=` value of `postal default-dkim-record`."""
	text = public_key.decode("ascii", "replace") if isinstance(public_key, bytes) else (public_key or "")
	text = text.strip()
	if not text:
		raise ConfigurationError(
			"Postal: postal_webhook_public_key is not set; paste the p= value of `postal default-dkim-record`."
		)
	try:
		if text.startswith("-----BEGIN"):
			key = serialization.load_pem_public_key(text.encode())
		else:
			key = serialization.load_der_public_key(base64.b64decode("".join(text.split()), validate=True))
	except (ValueError, TypeError, binascii.Error):
		raise ConfigurationError(
			"Postal: postal_webhook_public_key is neither a PEM public key nor the base64 p= value of "
			"`postal default-dkim-record`."
		) from None
	if not isinstance(key, rsa.RSAPublicKey):
		raise ConfigurationError(
			"Postal: postal_webhook_public_key must be an RSA key (Postal signs with RSA)."
		)
	return key


def verify_webhook(
	body: bytes, headers: Mapping[str, str], *, public_key_pem: str | bytes, allow_sha1: bool = False
) -> PostalEvent:
	"""The event Postal signed, or WebhookVerificationError; verifies the raw bytes before parsing them.

	The SHA-256 signature is used whenever present (Postal ≥ 3.2 sends both); the SHA-1 one only when
	it is the only one and the admin allowed it for an older Postal.
	"""
	public_key = load_public_key(public_key_pem)
	if not isinstance(body, bytes | bytearray):
		raise WebhookVerificationError("the body is not bytes")
	lowered = {str(name).lower(): value for name, value in headers.items()}
	signature_256 = lowered.get(SIGNATURE_256_HEADER.lower())
	signature_sha1 = lowered.get(SIGNATURE_SHA1_HEADER.lower())
	if signature_256 is not None:
		_verify_signature(public_key, bytes(body), signature_256, hashes.SHA256(), SIGNATURE_256_HEADER)
	elif signature_sha1 is not None:
		if not allow_sha1:
			raise WebhookVerificationError(
				f"only {SIGNATURE_SHA1_HEADER} (SHA-1) was sent and SHA-1 signatures are not allowed; "
				"upgrade Postal to 3.2 or later, which also signs with SHA-256"
			)
		_verify_signature(public_key, bytes(body), signature_sha1, hashes.SHA1(), SIGNATURE_SHA1_HEADER)  # noqa: S303
	else:
		raise WebhookVerificationError(f"no {SIGNATURE_256_HEADER} header: not a signed Postal webhook")
	return parse_event(bytes(body))


def _verify_signature(
	public_key: rsa.RSAPublicKey, body: bytes, header_value: object, algorithm, header: str
) -> None:
	if not isinstance(header_value, str):
		raise WebhookVerificationError(f"{header} is not a string")
	try:
		signature = base64.b64decode(header_value.strip(), validate=True)
	except (ValueError, binascii.Error):
		raise WebhookVerificationError(f"{header} is not valid base64") from None
	try:
		public_key.verify(signature, body, padding.PKCS1v15(), algorithm)
	except InvalidSignature:
		raise WebhookVerificationError(
			f"{header} does not match the body and postal_webhook_public_key"
		) from None


def parse_event(body: bytes) -> PostalEvent:
	"""A typed event from a verified body; a signed body of the wrong shape is still refused."""
	try:
		document = json.loads(body.decode("utf-8"))
	except (ValueError, UnicodeDecodeError):
		raise WebhookVerificationError("the body is not JSON") from None
	if not isinstance(document, dict):
		raise WebhookVerificationError("the body is not a JSON object")
	try:
		event_type = PostalEventType(document.get("event"))
	except ValueError:
		raise WebhookVerificationError(f"unknown Postal event {str(document.get('event'))[:60]!r}") from None
	uuid, timestamp, payload = document.get("uuid"), document.get("timestamp"), document.get("payload")
	if not isinstance(uuid, str) or not uuid.strip() or len(uuid) > 140:
		raise WebhookVerificationError("the event has no uuid")
	if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
		raise WebhookVerificationError("the event has no numeric timestamp")
	if not isinstance(payload, dict):
		raise WebhookVerificationError("the event has no payload object")
	message = None
	if event_type in MESSAGE_EVENTS:
		message = _message(payload.get("message"))
	elif event_type is PostalEventType.MESSAGE_BOUNCED:
		message = _message(payload.get("original_message"))
	return PostalEvent(event_type, uuid, float(timestamp), payload, message)


def _message(value: object) -> PostalMessage:
	if not isinstance(value, dict) or not isinstance(value.get("message_id"), str):
		raise WebhookVerificationError("the event's message has no message_id")

	def text(key: str) -> str:
		item = value.get(key)
		return item if isinstance(item, str) else ""

	return PostalMessage(
		value["message_id"], text("to"), text("from"), text("subject"), text("tag"), text("direction")
	)
