"""A stand-in for Lago's REST API (not Lago): the endpoints LagoGateway uses, on 127.0.0.1.

Paths, Bearer authentication, JSON shapes and error bodies follow Lago's API reference
(https://getlago.com/docs/api-reference): `{"customer": {...}}`, `{"invoices": [...], "meta": {...}}`,
errors `{"status", "error", "code", "error_details"}`. Like Lago, a batch of usage events is refused
whole (422 `validation_errors`, details by index) when a transaction_id already exists, so the tests
can count how many times each transaction_id was accepted. A customer's checkout URL and an
invoice's payment URL are refused (422) when no payment provider is linked (`payment_provider =
None`), an invoice's also when it is already paid. Creating a subscription assigns a plan, as in
Lago: the same external id and plan again returns the existing subscription.
"""

import base64
import threading
import uuid
from collections import Counter
from datetime import datetime, timezone

from tests.support.standin import HTTPStandIn, Request, Response

API = "/api/v1"


def _now() -> str:
	return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, error: str, code: str, details: object = None) -> Response:
	body = {"status": status, "error": error, "code": code}
	if details is not None:
		body["error_details"] = details
	return Response(status, body)


def _page(request: Request, root: str, records: list) -> Response:
	"""One page of an index, with Lago's `meta` (`page` and `per_page` query parameters)."""
	page = int((request.query.get("page") or ["1"])[0])
	per_page = int((request.query.get("per_page") or ["20"])[0])
	pages = max(1, -(-len(records) // per_page))
	return Response(
		200,
		{
			root: records[(page - 1) * per_page : page * per_page],
			"meta": {
				"current_page": page,
				"next_page": page + 1 if page < pages else None,
				"prev_page": page - 1 if page > 1 else None,
				"total_pages": pages,
				"total_count": len(records),
			},
		},
	)


def _not_found(resource: str) -> Response:
	return _error(404, "Not Found", f"{resource}_not_found")


class LagoStandIn(HTTPStandIn):
	name = "Lago API stand-in"

	def __init__(self, api_key: str = "lago-standin-api-key", public_key_pem: str = "", plans=("starter",)):
		super().__init__()
		self.api_key = api_key
		self.public_key_pem = public_key_pem
		self.plans = set(plans)
		self._state_lock = threading.Lock()
		self.reset()
		for method, pattern, handler in (
			("POST", "/customers", self._create_customer),
			("POST", "/customers/(?P<external_id>[^/]+)/checkout_url", self._checkout_url),
			("POST", "/subscriptions", self._create_subscription),
			("PUT", "/subscriptions/(?P<external_id>[^/]+)", self._update_subscription),
			("DELETE", "/subscriptions/(?P<external_id>[^/]+)", self._terminate_subscription),
			("GET", "/invoices", self._list_invoices),
			("GET", "/invoices/(?P<lago_id>[^/]+)", self._get_invoice),
			("POST", "/invoices/(?P<lago_id>[^/]+)/payment_url", self._invoice_payment_url),
			("POST", "/invoices/(?P<lago_id>[^/]+)/download", self._download_invoice),
			("POST", "/events/batch", self._batch_events),
			("GET", "/webhooks/json_public_key", self._public_key),
			("GET", "/webhook_endpoints", self._list_webhook_endpoints),
		):
			self.route(method, API + pattern, self._authenticated(handler))

	def reset(self) -> None:
		"""Forget every record, request and pending fault, so one server can serve many tests."""
		with self._state_lock, self._lock:
			self.customers: dict[str, dict] = {}
			self.subscriptions: dict[str, dict] = {}
			self.invoices: list[dict] = []
			self.events: list[dict] = []
			self.accepted_transaction_ids: Counter[str] = Counter()
			self.payment_provider: str | None = "stripe"
			self.webhook_endpoints: list[dict] = []
			self._lose_next_batch_answers = 0
			self.requests.clear()
			self._faults.clear()

	def lose_next_batch_answers(self, times: int = 1) -> None:
		"""Accept the next batches but answer 500, as when Lago's answer is lost after it stored them."""
		self._lose_next_batch_answers += times

	def add_webhook_endpoint(self, webhook_url: str, signature_algo: str = "jwt") -> dict:
		"""A webhook endpoint as Lago lists it (Developers → Webhooks)."""
		endpoint = {
			"lago_id": str(uuid.uuid4()),
			"lago_organization_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "lago-standin-organization")),
			"webhook_url": webhook_url,
			"signature_algo": signature_algo,
			"name": None,
			"event_types": None,
			"created_at": _now(),
		}
		self.webhook_endpoints.append(endpoint)
		return endpoint

	def add_invoice(self, external_customer_id: str, *, file_url: str | None = None, **fields) -> dict:
		invoice = {
			"lago_id": str(uuid.uuid4()),
			"sequential_id": len(self.invoices) + 1,
			"number": f"LAG-{len(self.invoices) + 1:04d}",
			"issuing_date": "2026-11-01",
			"payment_overdue": False,
			"net_payment_term": 0,
			"invoice_type": "subscription",
			"version_number": 4,
			"status": "finalized",
			"payment_status": "pending",
			"currency": "EUR",
			"fees_amount_cents": 1000,
			"coupons_amount_cents": 0,
			"taxes_amount_cents": 200,
			"credit_notes_amount_cents": 0,
			"progressive_billing_credit_amount_cents": 0,
			"sub_total_excluding_taxes_amount_cents": 1000,
			"sub_total_including_taxes_amount_cents": 1200,
			"total_amount_cents": 1200,
			"total_due_amount_cents": 1200,
			"prepaid_credit_amount_cents": 0,
			"file_url": file_url,
			"billing_periods": [
				{
					"lago_subscription_id": str(uuid.uuid4()),
					"external_subscription_id": "site.example.com",
					"lago_plan_id": str(uuid.uuid4()),
					"subscription_from_datetime": "2026-11-01T00:00:00Z",
					"subscription_to_datetime": "2026-11-30T23:59:59Z",
					"charges_from_datetime": "2026-10-01T00:00:00Z",
					"charges_to_datetime": "2026-10-31T23:59:59Z",
					"invoicing_reason": "subscription_starting",
				}
			],
			"customer": {
				"lago_id": str(uuid.uuid5(uuid.NAMESPACE_URL, external_customer_id)),
				"external_id": external_customer_id,
				"created_at": _now(),
				"updated_at": _now(),
				"applicable_timezone": "UTC",
			},
			**fields,
		}
		self.invoices.append(invoice)
		return invoice

	# -- handlers -----------------------------------------------------------------------------
	def _authenticated(self, handler):
		def guarded(request: Request) -> Response:
			if request.headers.get("Authorization") != f"Bearer {self.api_key}":
				return Response(401, {"status": 401, "error": "Unauthorized"})
			with self._state_lock:
				return handler(request)

		return guarded

	def _create_customer(self, request: Request) -> Response:
		fields = request.json()["customer"]
		existing = self.customers.get(fields["external_id"])
		customer = existing or {
			"lago_id": str(uuid.uuid4()),
			"created_at": _now(),
			"applicable_timezone": "UTC",
			"currency": None,
		}
		customer.update(fields, updated_at=_now())
		self.customers[customer["external_id"]] = customer
		return Response(200, {"customer": customer})

	def _checkout_url(self, request: Request) -> Response:
		customer = self.customers.get(request.params["external_id"])
		if customer is None:
			return _not_found("customer")
		if self.payment_provider is None:  # Customers::GenerateCheckoutUrlService
			return _error(
				422, "Unprocessable Entity", "validation_errors", {"base": ["no_linked_payment_provider"]}
			)
		return Response(
			200,
			{
				"customer": {
					"lago_customer_id": customer["lago_id"],
					"external_customer_id": customer["external_id"],
					"payment_provider": self.payment_provider,
					"checkout_url": f"https://checkout.stripe.com/c/pay/{customer['lago_id']}",
				}
			},
		)

	def _create_subscription(self, request: Request) -> Response:
		fields = request.json()["subscription"]
		if fields.get("plan_code") not in self.plans:
			return _not_found("plan")
		if fields["external_customer_id"] not in self.customers:
			return _not_found("customer")
		# Subscriptions::CreateService assigns a plan: the customer's active subscription with this
		# external id is returned as it is for the same plan, re-planned for another; another
		# customer's is a validation error.
		current = self.subscriptions.get(fields["external_id"])
		if current is not None and current["status"] == "active":
			if current["external_customer_id"] != fields["external_customer_id"]:
				return _error(
					422, "Unprocessable Entity", "validation_errors", {"external_id": ["value_already_exist"]}
				)
			if current["plan_code"] != fields["plan_code"]:
				current.update(previous_plan_code=current["plan_code"], plan_code=fields["plan_code"])
			return Response(200, {"subscription": current})
		subscription = {
			"lago_id": str(uuid.uuid4()),
			"external_id": fields["external_id"],
			"external_customer_id": fields["external_customer_id"],
			"plan_code": fields["plan_code"],
			"status": "active",
			"created_at": _now(),
			"started_at": _now(),
		}
		self.subscriptions[subscription["external_id"]] = subscription
		return Response(200, {"subscription": subscription})

	def _update_subscription(self, request: Request) -> Response:
		subscription = self.subscriptions.get(request.params["external_id"])
		if subscription is None or subscription["status"] != "active":
			return _not_found("subscription")
		plan_code = request.json()["subscription"].get("plan_code")
		if plan_code is not None and plan_code not in self.plans:
			return _not_found("plan")
		if plan_code:
			subscription.update(previous_plan_code=subscription["plan_code"], plan_code=plan_code)
		return Response(200, {"subscription": subscription})

	def _terminate_subscription(self, request: Request) -> Response:
		subscription = self.subscriptions.get(request.params["external_id"])
		if subscription is None or subscription["status"] != "active":
			return _not_found("subscription")
		subscription.update(status="terminated", terminated_at=_now())
		return Response(200, {"subscription": subscription})

	def _list_invoices(self, request: Request) -> Response:
		customer = (request.query.get("external_customer_id") or [None])[0]
		matching = [i for i in self.invoices if customer is None or i["customer"]["external_id"] == customer]
		# InvoicesQuery: newest issuing date first, then the most recently created
		matching.sort(key=lambda i: (i["issuing_date"], i["sequential_id"]), reverse=True)
		return _page(request, "invoices", matching)

	def _list_webhook_endpoints(self, request: Request) -> Response:
		return _page(request, "webhook_endpoints", self.webhook_endpoints)

	def _find_invoice(self, request: Request) -> dict | None:
		return next((i for i in self.invoices if i["lago_id"] == request.params["lago_id"]), None)

	def _get_invoice(self, request: Request) -> Response:
		invoice = self._find_invoice(request)
		return _not_found("invoice") if invoice is None else Response(200, {"invoice": invoice})

	def _invoice_payment_url(self, request: Request) -> Response:
		invoice = self._find_invoice(request)
		if invoice is None:
			return _not_found("invoice")
		if self.payment_provider is None:
			return _error(422, "Unprocessable Entity", "no_linked_payment_provider")
		if invoice["payment_status"] == "succeeded":
			return _error(422, "Unprocessable Entity", "invalid_payment_status")
		return Response(
			200,
			{
				"invoice_payment_details": {
					"lago_customer_id": invoice["customer"]["lago_id"],
					"lago_invoice_id": invoice["lago_id"],
					"external_customer_id": invoice["customer"]["external_id"],
					"payment_provider": self.payment_provider,
					"payment_url": f"https://checkout.stripe.com/c/pay/{invoice['lago_id']}",
				}
			},
		)

	def _download_invoice(self, request: Request) -> Response:
		invoice = self._find_invoice(request)
		if invoice is None:
			return _not_found("invoice")
		if not invoice["file_url"]:
			return Response(200, b"")  # the PDF is queued; Lago answers with no body
		return Response(200, {"invoice": invoice})

	def _batch_events(self, request: Request) -> Response:
		events = request.json()["events"]
		if len(events) > 100:
			return _error(422, "Unprocessable Entity", "validation_errors", {"events": ["too_many_events"]})
		duplicates = {
			str(index): {"transaction_id": ["value_already_exist"]}
			for index, event in enumerate(events)
			if self.accepted_transaction_ids[event["transaction_id"]]
		}
		if duplicates:
			return _error(422, "Unprocessable Entity", "validation_errors", duplicates)
		for event in events:
			self.accepted_transaction_ids[event["transaction_id"]] += 1
			self.events.append(event)
		if self._lose_next_batch_answers:
			self._lose_next_batch_answers -= 1
			return _error(500, "Internal Server Error", "internal_error")
		return Response(200, {"events": [{**event, "lago_id": str(uuid.uuid4())} for event in events]})

	def _public_key(self, request: Request) -> Response:
		encoded = base64.b64encode(self.public_key_pem.encode()).decode()
		return Response(200, {"webhook": {"public_key": encoded}})
