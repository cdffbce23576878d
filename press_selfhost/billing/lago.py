"""Lago: verify its webhooks, and speak its REST API (customers, subscriptions, invoices, usage).

Framework-free. Webhooks are verified on the exact bytes Lago signed (RS256 JWT or base64
HMAC-SHA256), before anything is parsed; the API goes through lago-python-client, with its errors
turned into ours and classified retryable or permanent.
"""

import base64
import binascii
import enum
import functools
import hashlib
import hmac
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models.customer import Customer
from lago_python_client.models.event import BatchEvent, Event
from lago_python_client.models.subscription import Subscription

from press_selfhost.errors import (
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
	WebhookVerificationError,
)

SERVICE = "Lago"
SIGNATURE_HEADER = "x-lago-signature"
ALGORITHM_HEADER = "x-lago-signature-algorithm"
UNIQUE_KEY_HEADER = "x-lago-unique-key"
_LAGO_HEADERS = frozenset((SIGNATURE_HEADER, ALGORITHM_HEADER, UNIQUE_KEY_HEADER))
# The inbox stores the key as "lago:<key>" in a varchar(140), Frappe's default for Data fields.
MAX_UNIQUE_KEY_LENGTH = 135
# Lago accepts at most 100 events per batch call.
MAX_EVENTS_PER_BATCH = 100
_JWS = jwt.PyJWS()


class LagoEventType(enum.Enum):
	"""The webhook types a hosting platform acts on; every other type is UNKNOWN (stored, acknowledged)."""

	SUBSCRIPTION_STARTED = "subscription.started"
	SUBSCRIPTION_UPDATED = "subscription.updated"
	SUBSCRIPTION_TERMINATED = "subscription.terminated"
	SUBSCRIPTION_TERMINATION_ALERT = "subscription.termination_alert"
	SUBSCRIPTION_TRIAL_ENDED = "subscription.trial_ended"
	INVOICE_CREATED = "invoice.created"
	INVOICE_PAYMENT_STATUS_UPDATED = "invoice.payment_status_updated"
	INVOICE_PAYMENT_FAILURE = "invoice.payment_failure"
	INVOICE_PAYMENT_OVERDUE = "invoice.payment_overdue"
	CUSTOMER_CREATED = "customer.created"
	CUSTOMER_UPDATED = "customer.updated"
	CUSTOMER_CHECKOUT_URL_GENERATED = "customer.checkout_url_generated"
	PAYMENT_REQUEST_PAYMENT_STATUS_UPDATED = "payment_request.payment_status_updated"
	PAYMENT_REQUEST_PAYMENT_FAILURE = "payment_request.payment_failure"
	UNKNOWN = "unknown"

	@classmethod
	def of(cls, webhook_type: str) -> "LagoEventType":
		try:
			return cls(webhook_type)
		except ValueError:
			return cls.UNKNOWN


@dataclass(frozen=True)
class LagoWebhook:
	"""A verified delivery: `webhook_type` is Lago's string as sent, `event` its typed form."""

	webhook_type: str
	object_type: str
	unique_key: str
	object: dict
	payload: dict = field(repr=False)

	@property
	def event(self) -> LagoEventType:
		return LagoEventType.of(self.webhook_type)


# -- webhook verification ---------------------------------------------------------------------------
def verify_webhook(
	body: bytes,
	headers: Mapping[str, str],
	*,
	hmac_key: str | None = None,
	public_key_pem: str | bytes | None = None,
	issuer: str | None = None,
) -> LagoWebhook:
	"""Verify a Lago delivery on its raw body and return it parsed; raise WebhookVerificationError otherwise.

	Only the scheme whose key is given can succeed, so a sender cannot downgrade JWT to HMAC.
	"""
	try:
		return _verify(body, headers, hmac_key=hmac_key, public_key_pem=public_key_pem, issuer=issuer)
	except WebhookVerificationError:
		raise
	except Exception as error:  # a guard: whatever a hostile request triggers is a refusal, not a 500
		raise WebhookVerificationError(f"unverifiable request ({type(error).__name__})") from error


def _verify(body, headers, *, hmac_key, public_key_pem, issuer) -> LagoWebhook:
	if not isinstance(body, bytes | bytearray):
		raise WebhookVerificationError("body must be bytes")
	body = bytes(body)
	algorithm, signature, unique_key = _lago_headers(headers)
	if not algorithm:
		raise WebhookVerificationError("missing X-Lago-Signature-Algorithm header")
	if not signature or not isinstance(signature, str):
		raise WebhookVerificationError("missing X-Lago-Signature header")
	if algorithm == "jwt":
		if not public_key_pem:
			raise WebhookVerificationError("JWT-signed webhook but no Lago public key is configured")
		verify_jwt_signature(body, signature, public_key_pem, issuer)
	elif algorithm == "hmac":
		if not hmac_key:
			raise WebhookVerificationError("HMAC-signed webhook but no Lago HMAC key is configured")
		verify_hmac_signature(body, signature, hmac_key)
	else:
		raise WebhookVerificationError("unknown X-Lago-Signature-Algorithm (expected jwt or hmac)")
	return _parse(body, unique_key)


def _lago_headers(headers: Mapping[str, str]) -> tuple:
	"""(algorithm, signature, unique key) in one pass, whatever the headers' case; None when absent."""
	found = {}
	for name, value in headers.items():
		lowered = str(name).lower()
		if lowered in _LAGO_HEADERS:
			found[lowered] = value
	return found.get(ALGORITHM_HEADER), found.get(SIGNATURE_HEADER), found.get(UNIQUE_KEY_HEADER)


def verify_hmac_signature(body: bytes, signature: str, hmac_key: str) -> None:
	"""Lago's `hmac` scheme: base64(HMAC-SHA256(organisation HMAC token, raw body)).

	The expected digest is encoded rather than the received one decoded: only Lago's exact,
	canonical base64 matches, so no second spelling of a signature is accepted.
	"""
	expected = base64.b64encode(hmac.digest(hmac_key.encode(), body, "sha256"))
	if not hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace")):
		raise WebhookVerificationError("HMAC signature does not match the body")


def verify_jwt_signature(
	body: bytes, token: str, public_key_pem: str | bytes, issuer: str | None = None
) -> None:
	"""Lago's `jwt` scheme: an RS256 token whose `data` claim is the raw body and `iss` Lago's API URL."""
	key = _public_key(public_key_pem if isinstance(public_key_pem, bytes) else public_key_pem.encode())
	try:
		# PyJWS checks the signature with RS256 only: `none`, HS256-with-the-public-key and every
		# other algorithm fail here, before any claim is looked at.
		verified = _JWS.decode_complete(token, key, algorithms=["RS256"])
	except jwt.PyJWTError as error:
		raise WebhookVerificationError(f"JWT refused: {error}") from error
	if verified["header"].get("alg") != "RS256":
		raise WebhookVerificationError("JWT algorithm must be RS256")
	try:
		claims = orjson.loads(verified["payload"])
	except orjson.JSONDecodeError as error:
		raise WebhookVerificationError("JWT claims are not JSON") from error
	data = claims.get("data") if isinstance(claims, dict) else None
	if not isinstance(data, str):
		raise WebhookVerificationError("JWT has no data claim")
	if not hmac.compare_digest(data.encode("utf-8", "surrogatepass"), body):
		raise WebhookVerificationError("JWT data claim does not match the body")
	if issuer is not None and str(claims.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
		raise WebhookVerificationError("JWT issuer is not the configured Lago API URL")


@functools.lru_cache(maxsize=8)
def _public_key(pem: bytes) -> RSAPublicKey:
	"""Parsing a PEM costs more than verifying a signature, so each key is parsed once."""
	try:
		key = load_pem_public_key(pem)
	except (ValueError, TypeError) as error:
		raise WebhookVerificationError("the configured Lago public key is not a PEM public key") from error
	if not isinstance(key, RSAPublicKey):
		raise WebhookVerificationError("the configured Lago public key is not an RSA key")
	return key


def _parse(body: bytes, unique_key: str | None) -> LagoWebhook:
	try:
		payload = orjson.loads(body)
	except orjson.JSONDecodeError as error:
		try:
			body.decode("utf-8")
		except UnicodeDecodeError:
			raise WebhookVerificationError("body is not UTF-8") from error
		raise WebhookVerificationError("body is not JSON") from error
	if not isinstance(payload, dict):
		raise WebhookVerificationError("body is not a JSON object")
	webhook_type, object_type = payload.get("webhook_type"), payload.get("object_type")
	if not isinstance(webhook_type, str) or not webhook_type:
		raise WebhookVerificationError("body has no webhook_type")
	if not isinstance(object_type, str) or not object_type:
		raise WebhookVerificationError("body has no object_type")
	if unique_key is None:
		# Lago versions before X-Lago-Unique-Key: an identical signed body is the same delivery.
		unique_key = "sha256:" + hashlib.sha256(body).hexdigest()
	if not isinstance(unique_key, str) or not (0 < len(unique_key) <= MAX_UNIQUE_KEY_LENGTH):
		raise WebhookVerificationError("X-Lago-Unique-Key is empty or too long")
	lago_object = payload.get(object_type)
	return LagoWebhook(
		webhook_type=webhook_type,
		object_type=object_type,
		unique_key=unique_key,
		object=lago_object if isinstance(lago_object, dict) else {},
		payload=payload,
	)


# -- REST API ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LagoCustomer:
	lago_id: str
	external_id: str


@dataclass(frozen=True)
class LagoSubscription:
	"""`plan_code` is the plan billed now; `next_plan_code` a downgrade waiting for the period's end."""

	lago_id: str
	external_id: str
	plan_code: str | None
	status: str | None
	next_plan_code: str | None = None
	downgrade_plan_date: str | None = None


@dataclass(frozen=True)
class LagoPlan:
	"""What the dashboard shows of a Lago plan: its price per interval, and whether it bills first."""

	code: str
	name: str
	interval: str  # weekly, monthly, quarterly, semiannual or yearly
	amount_cents: int
	amount_currency: str
	trial_period_days: float = 0
	pay_in_advance: bool = True


@dataclass(frozen=True)
class LagoInvoice:
	lago_id: str
	number: str
	status: str
	payment_status: str
	total_amount_cents: int
	currency: str
	issuing_date: str | None
	file_url: str | None
	period: tuple[str, str] | None = None  # (first, last) day billed, as Lago wrote them
	external_customer_id: str | None = None  # the Press Team billed
	invoice_type: str | None = None  # subscription, progressive_billing, add_on, credit, one_off


@dataclass(frozen=True)
class InvoicePage:
	"""One page of a customer's invoices, newest first (Lago orders by issuing date)."""

	invoices: list[LagoInvoice]
	page: int
	total_pages: int
	total_count: int


@dataclass(frozen=True)
class UsageRecord:
	"""One measurement for one Lago subscription (a site's, or a team's platform subscription), one
	billable metric, one period (e.g. a day)."""

	subscription: str
	metric: str
	period: str
	properties: dict
	timestamp: int

	@property
	def transaction_id(self) -> str:
		return usage_transaction_id(self.subscription, self.metric, self.period)


def usage_transaction_id(subscription: str, metric: str, period: str) -> str:
	"""The same (subscription, metric, period) always gives the same id, so Lago counts a resent
	report once."""
	digest = hashlib.sha256("\x1f".join((subscription, metric, period)).encode()).hexdigest()
	return f"press-usage-{digest[:40]}"


# Lago attaches usage to a subscription, and a plan's charges bill only its own subscription's
# events: a count per team needs a subscription per team. Its external id cannot be mistaken for a
# site's (a site's always has a dot, a Press Team's name never has one).
TEAM_SUBSCRIPTION_PREFIX = "press-team-"
SITES_METRIC = "press_sites"


def team_subscription_id(team: str) -> str:
	"""The external id of a team's platform subscription, which carries its per-team usage."""
	return TEAM_SUBSCRIPTION_PREFIX + team


def team_of_subscription(external_id: str | None) -> str | None:
	"""The Press Team whose platform subscription this is, or None for a site's subscription."""
	if external_id and external_id.startswith(TEAM_SUBSCRIPTION_PREFIX) and "." not in external_id:
		return external_id[len(TEAM_SUBSCRIPTION_PREFIX) :] or None
	return None


def sites_per_team(site_teams: Iterable[tuple[str, str]], period: str, timestamp: int) -> list[UsageRecord]:
	"""One `press_sites` record per team: how many of the given (site, team) pairs it has, on its
	platform subscription. Billed with MAX on `sites`, a period's charge is the team's peak."""
	sites: dict[str, set[str]] = {}
	for site, team in site_teams:
		if team:
			sites.setdefault(team, set()).add(site)
	return [
		UsageRecord(team_subscription_id(team), SITES_METRIC, period, {"sites": len(names)}, timestamp)
		for team, names in sorted(sites.items())
	]


def lago_plan_code(press_plan: str, plan_map: Mapping[str, str]) -> str:
	"""The Lago plan code of a Press Site Plan, from the Lago Plan Map."""
	code = plan_map.get(press_plan)
	if not code:
		raise ConfigurationError(
			f"Press Site Plan '{press_plan}' has no Lago plan code: add it to Lago Plan Map."
		)
	return code


class LagoGateway:
	"""Lago's REST API as plain data in and out, every failure a ServiceUnavailable/RejectedError."""

	def __init__(self, api_url: str, api_key: str):
		if not api_url or not api_key:
			raise ConfigurationError("Lago: set lago_api_url and lago_api_key in Selfhost Settings.")
		# Rate limits are the job runner's to retry, with its own backoff, not a sleep inside a request.
		self._client = Client(
			api_key=api_key, api_url=api_url.rstrip("/") + "/", retry_on_rate_limit=False, max_retries=0
		)
		self._api_url = api_url.rstrip("/")
		self._api_key = api_key
		self._public_key: bytes | None = None
		self._lock = threading.Lock()

	def ensure_customer(
		self,
		external_id: str,
		*,
		name: str | None = None,
		email: str | None = None,
		currency: str | None = None,
	) -> LagoCustomer:
		"""Create or update (Lago upserts on external_id) the customer of a Press Team."""
		with _lago_call("create or update customer " + external_id):
			customer = self._client.customers.create(
				Customer(external_id=external_id, name=name, email=email, currency=currency)
			)
		return LagoCustomer(lago_id=customer.lago_id, external_id=customer.external_id)

	def create_subscription(
		self, external_customer_id: str, external_id: str, plan_code: str
	) -> LagoSubscription:
		"""Assign a plan (`POST /subscriptions`): Lago answers an existing subscription with the same
		plan as it is, so calling again is harmless; another plan upgrades or downgrades it."""
		with _lago_call(f"create subscription {external_id}"):
			subscription = self._client.subscriptions.create(
				Subscription(
					external_customer_id=external_customer_id, external_id=external_id, plan_code=plan_code
				)
			)
		return _subscription(subscription)

	def change_plan(self, external_customer_id: str, external_id: str, plan_code: str) -> LagoSubscription:
		"""Move a subscription to another plan, Lago's documented way: `POST /subscriptions` with the
		same external id (`PUT` ignores plan_code). A plan costing as much or more applies at once (the
		answer is the new subscription); a cheaper one at the period's end (the answer is the current
		subscription with `next_plan_code`), and Lago says so with its subscription webhooks."""
		return self.create_subscription(external_customer_id, external_id, plan_code)

	def terminate_subscription(self, external_id: str) -> None:
		"""Terminate, invoicing what is due; a subscription Lago no longer has is already terminated."""
		try:
			with _lago_call(f"terminate subscription {external_id}"):
				self._client.subscriptions.destroy(
					external_id, options={"on_termination_invoice": "generate"}
				)
		except ServiceRejectedError as error:
			if error.status_code != 404:
				raise

	def plan(self, code: str) -> LagoPlan:
		"""A plan by its code (`GET /plans/{code}`); a plan Lago does not have is a ServiceRejectedError 404."""
		with _lago_call(f"get plan {code}"):
			plan = self._client.plans.find(code)
			return LagoPlan(
				code=plan.code,
				name=plan.name or plan.code,
				interval=plan.interval or "monthly",
				amount_cents=int(plan.amount_cents or 0),
				amount_currency=plan.amount_currency or "",
				trial_period_days=float(plan.trial_period or 0),
				pay_in_advance=True if plan.pay_in_advance is None else bool(plan.pay_in_advance),
			)

	def has_payment_method(self, external_customer_id: str) -> bool:
		"""Whether the customer has a payment method on file (`GET /customers/{id}/payment_methods`).

		A customer, or a Lago, that Lago answers 404 for has none that we can know of: the customer pays
		through the checkout first. lago-python-client 1.55 sends this request without Authorization, so
		it is sent here.
		"""
		url = f"{self._api_url}/api/v1/customers/{quote(external_customer_id, safe='')}/payment_methods"
		with _lago_call(f"list payment methods of customer {external_customer_id}"):
			response = httpx.get(
				url,
				params={"per_page": 1},
				headers={"Authorization": f"Bearer {self._api_key}"},
				timeout=httpx.Timeout(10, connect=5),
			)
			if response.status_code == 404:
				return False
			if response.status_code >= 400:
				raise LagoApiError(
					status_code=response.status_code, url=url, response=_json_or_none(response), detail=None
				)
			methods = response.json().get("payment_methods")
			if not isinstance(methods, list):
				raise ValueError("payment_methods is not a list")
			return bool(methods)

	def checkout_url(self, external_customer_id: str) -> str | None:
		"""The payment provider's page where the customer stores a payment method, or None when the
		customer has no payment provider linked in Lago (422 `no_linked_payment_provider`)."""
		try:
			with _lago_call(f"get checkout URL of customer {external_customer_id}"):
				return self._client.customers.checkout_url(external_customer_id) or None
		except ServiceRejectedError as error:
			if error.status_code == 422:
				return None
			raise

	def invoices(self, external_customer_id: str, *, page: int = 1, per_page: int = 20) -> InvoicePage:
		"""One page of the customer's invoices. Lago's list carries no billing periods (`period` is None):
		only `invoice(lago_id)` has them."""
		# Not customer_invoices.find_all: lago-python-client 1.55 sends it without Authorization.
		with _lago_call(f"list invoices of customer {external_customer_id}"):
			answer = self._client.invoices.find_all(
				{"external_customer_id": external_customer_id, "page": page, "per_page": per_page}
			)
			meta = answer.get("meta") or {}
			return InvoicePage(
				invoices=[_invoice(invoice) for invoice in answer["invoices"]],
				page=int(meta.get("current_page") or page),
				total_pages=int(meta.get("total_pages") or 0),
				total_count=int(meta.get("total_count") or 0),
			)

	def invoice(self, lago_id: str) -> LagoInvoice:
		with _lago_call(f"get invoice {lago_id}"):
			return _invoice(self._client.invoices.find(lago_id))

	def invoice_payment_url(self, lago_id: str) -> str | None:
		"""The payment provider's page where the customer pays this invoice, or None when Lago cannot
		make one (no payment provider linked, or nothing left to pay)."""
		try:
			with _lago_call(f"get the payment URL of invoice {lago_id}"):
				return self._client.invoices.payment_url(lago_id) or None
		except ServiceRejectedError as error:
			if error.status_code == 422:
				return None
			raise

	def invoice_pdf_url(self, lago_id: str) -> str | None:
		"""The PDF's URL, or None while Lago is still generating it (ask again later)."""
		with _lago_call(f"download invoice {lago_id}"):
			invoice = self._client.invoices.download(lago_id)
		return invoice.file_url if invoice else None

	def send_usage(self, records: Iterable[UsageRecord]) -> int:
		"""Send usage in batches; events Lago already has (same transaction_id) are not sent again.

		Returns how many events Lago newly accepted.
		"""
		events = [
			Event(
				transaction_id=record.transaction_id,
				external_subscription_id=record.subscription,
				code=record.metric,
				properties=record.properties,
				timestamp=record.timestamp,
			)
			for record in records
		]
		accepted = 0
		for start in range(0, len(events), MAX_EVENTS_PER_BATCH):
			accepted += self._send_batch(events[start : start + MAX_EVENTS_PER_BATCH])
		return accepted

	def _send_batch(self, events: list[Event]) -> int:
		# Lago refuses a whole batch when one transaction_id already exists, naming it by index; drop
		# those (already counted) and send the rest again. Each round removes at least one event.
		while events:
			with _lago_call(f"send {len(events)} usage events"):
				try:
					self._client.events.batch_create(BatchEvent(events=events))
					return len(events)
				except LagoApiError as error:
					duplicates = _duplicate_indexes(error)
					if not duplicates:
						raise
			events = [event for index, event in enumerate(events) if index not in duplicates]
		return 0

	def webhook_endpoint_urls(self) -> list[str]:
		"""The URLs of the organisation's webhook endpoints (`GET /webhook_endpoints`, every page).

		Read-only and authenticated: the doctor uses it both to prove the API key and to find ours.
		"""
		urls, page = [], 1
		while page:
			with _lago_call("list webhook endpoints"):
				answer = self._client.webhook_endpoints.find_all({"page": page, "per_page": 100})
			urls.extend(endpoint.webhook_url for endpoint in answer["webhook_endpoints"])
			page = (answer.get("meta") or {}).get("next_page")
		return urls

	def public_key_pem(self) -> bytes:
		"""Lago's webhook public key (PEM), fetched once per gateway."""
		with self._lock:
			if self._public_key is None:
				with _lago_call("get the webhook public key"):
					self._public_key = self._client.webhooks.public_key()
			return self._public_key


@contextmanager
def _lago_call(what: str) -> Iterator[None]:
	"""Turn the client's failures into ours: network, 5xx and 429 retryable, other 4xx permanent."""
	try:
		yield
	except LagoApiError as error:
		status = error.status_code
		response = error.response if isinstance(error.response, dict) else {}
		code = response.get("code") if isinstance(response.get("code"), str) else None
		if status == 429 or status >= 500:
			raise ServiceUnavailableError(
				SERVICE, f"could not {what}; will retry", status_code=status, code=code
			) from None
		raise ServiceRejectedError(SERVICE, f"refused to {what}", status_code=status, code=code) from None
	except httpx.HTTPError as error:
		raise ServiceUnavailableError(
			SERVICE, f"could not {what}: {type(error).__name__}; check lago_api_url and that Lago is up"
		) from None
	except (ValueError, TypeError, KeyError, binascii.Error) as error:
		# pydantic's ValidationError is a ValueError: Lago answered in a shape this client does not know.
		raise ServiceRejectedError(
			SERVICE, f"answered {what} in an unexpected shape ({type(error).__name__}); check Lago's version"
		) from None


def _json_or_none(response: httpx.Response) -> dict | None:
	try:
		body = response.json()
	except ValueError:
		return None
	return body if isinstance(body, dict) else None


def _duplicate_indexes(error: LagoApiError) -> set[int]:
	"""Indexes of a batch that Lago refused only because their transaction_id already exists."""
	response = error.response if isinstance(error.response, dict) else {}
	details = response.get("error_details")
	if error.status_code != 422:
		return set()
	if not isinstance(details, dict):
		return set()
	duplicates = set()
	for index, errors in details.items():
		if not (isinstance(errors, dict) and str(index).isdigit()):
			return set()
		if errors != {"transaction_id": ["value_already_exist"]}:
			return set()
		duplicates.add(int(index))
	return duplicates


def _subscription(subscription) -> LagoSubscription:
	return LagoSubscription(
		lago_id=subscription.lago_id,
		external_id=subscription.external_id,
		plan_code=subscription.plan_code,
		status=subscription.status,
		next_plan_code=subscription.next_plan_code,
		downgrade_plan_date=subscription.downgrade_plan_date,
	)


def _invoice(invoice) -> LagoInvoice:
	return LagoInvoice(
		lago_id=invoice.lago_id,
		number=invoice.number,
		status=invoice.status,
		payment_status=invoice.payment_status,
		total_amount_cents=invoice.total_amount_cents,
		currency=invoice.currency,
		issuing_date=invoice.issuing_date,
		file_url=invoice.file_url,
		period=invoice_period(invoice.dict()),
		external_customer_id=invoice.customer.external_id if invoice.customer else None,
		invoice_type=invoice.invoice_type,
	)


def invoice_period(invoice: Mapping) -> tuple[str, str] | None:
	"""The (first, last) day an invoice (Lago's JSON) bills: its subscription's billing period, or its
	fees' dates on Lago versions without billing_periods; None for a one-off invoice."""
	for key, start, end in (
		("billing_periods", "subscription_from_datetime", "subscription_to_datetime"),
		("fees", "from_date", "to_date"),
	):
		items = invoice.get(key)
		for item in items if isinstance(items, list) else ():
			first = item.get(start) if isinstance(item, Mapping) else None
			last = item.get(end) if isinstance(item, Mapping) else None
			if isinstance(first, str) and isinstance(last, str) and first and last:
				return first, last
	return None
