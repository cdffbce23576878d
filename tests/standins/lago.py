"""A stand-in for Lago's REST API (not Lago): the endpoints LagoGateway uses, on 127.0.0.1.

Paths, Bearer authentication, JSON shapes and error bodies follow Lago's API reference
(https://getlago.com/docs/api-reference): `{"customer": {...}}`, `{"invoices": [...], "meta": {...}}`,
errors `{"status", "error", "code", "error_details"}`. Like Lago, a batch of usage events is refused
whole (422 `validation_errors`, details by index) when a transaction_id already exists, so the tests
can count how many times each transaction_id was accepted. A customer's checkout URL and an
invoice's payment URL are refused (422) when no payment provider is linked (`payment_provider =
None`), an invoice's also when it is already paid.

Subscriptions change plan as in lago-api (Subscriptions::CreateService): `POST /subscriptions` with
an existing external id and another plan upgrades at once (a new subscription replaces the old, when
the new plan costs as much or more) or downgrades at the period's end (the current one stays, with
`next_plan_code`, until `end_billing_period`); `PUT /subscriptions/{external_id}` ignores `plan_code`.
The webhooks Lago would send meanwhile are kept in `webhooks`. Invoices are listed without their
billing periods, fees or subscriptions, which only `GET /invoices/{lago_id}` gives. Every request and
answer is held to Lago's OpenAPI spec (tests.support.lago_contract). A plan (`GET /plans/{code}`)
costs its amount (`plans`) in USD a month, paid in advance, unless `set_plan` says otherwise; a
customer has no payment method (`GET /customers/{id}/payment_methods`) until `add_payment_method`.
"""

import base64
import threading
import uuid
import weakref
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from tests.support.lago_contract import request_violations, response_violations
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


# What only GET /invoices/{lago_id} includes (InvoicesController#render_invoice), never the list.
INVOICE_DETAILS = ("billing_periods", "subscriptions", "fees", "credits", "error_details")


def _customer_record(external_id: str, sequential_id: int) -> dict:
	"""A customer as V1::CustomerSerializer gives it (the fields a hosting platform reads)."""
	lago_id = str(uuid.uuid5(uuid.NAMESPACE_URL, external_id))
	return {
		"lago_id": lago_id,
		"sequential_id": sequential_id,
		"slug": f"LAG-{lago_id[:4].upper()}-{sequential_id:03d}",
		"external_id": external_id,
		"applicable_timezone": "UTC",
		"currency": None,
		"created_at": _now(),
		"updated_at": _now(),
	}


def fee(from_date: str, to_date: str, amount_cents: int = 1000) -> dict:
	"""A subscription fee as V1::FeeSerializer gives it: `from_date`/`to_date` are the period it bills."""
	return {
		"lago_id": str(uuid.uuid4()),
		"item": {
			"type": "subscription",
			"code": "starter",
			"name": "Starter",
			"invoice_display_name": "Starter",
			"lago_item_id": str(uuid.uuid4()),
			"item_type": "Subscription",
		},
		"amount_cents": amount_cents,
		"amount_currency": "EUR",
		"precise_amount": str(amount_cents / 100),
		"taxes_amount_cents": 0,
		"taxes_rate": 0,
		"total_amount_cents": amount_cents,
		"total_amount_currency": "EUR",
		"pay_in_advance": True,
		"invoiceable": True,
		"units": "1.0",
		"total_aggregated_units": "1.0",
		"precise_unit_amount": str(amount_cents / 100),
		"sub_total_excluding_taxes_amount_cents": amount_cents,
		"sub_total_excluding_taxes_precise_amount_cents": str(amount_cents),
		"payment_status": "pending",
		"from_date": from_date,
		"to_date": to_date,
		"created_at": _now(),
	}


class LagoStandIn(HTTPStandIn):
	name = "Lago API stand-in"
	# Every stand-in running now, so that each test is held to the contract (tests/conftest.py).
	running: ClassVar[weakref.WeakSet] = weakref.WeakSet()

	def __init__(self, api_key: str = "lago-standin-api-key", public_key_pem: str = "", plans=("starter",)):
		"""`plans`: plan codes, or {code: amount in cents}, the amount deciding upgrade or downgrade."""
		super().__init__()
		self.api_key = api_key
		self.public_key_pem = public_key_pem
		self.plans: dict[str, int] = dict(plans) if isinstance(plans, dict) else dict.fromkeys(plans, 0)
		self._state_lock = threading.Lock()
		self._contract_violations: list[str] = []
		self.reset()
		for method, pattern, handler in (
			("POST", "/customers", self._create_customer),
			("POST", "/customers/(?P<external_id>[^/]+)/checkout_url", self._checkout_url),
			("GET", "/customers/(?P<external_id>[^/]+)/payment_methods", self._list_payment_methods),
			("GET", "/plans/(?P<code>[^/]+)", self._get_plan),
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
			self.subscriptions: dict[str, dict] = {}  # by external id: the current one, as serialized
			self.webhooks: list[dict] = []  # what Lago would have sent, in order
			self.invoices: list[dict] = []
			self.events: list[dict] = []
			self.accepted_transaction_ids: Counter[str] = Counter()
			self.payment_provider: str | None = "stripe"
			self.webhook_endpoints: list[dict] = []
			self.plan_fields: dict[str, dict] = {}
			self.payment_methods: dict[str, list[dict]] = {}
			self._lose_next_batch_answers = 0
			self.requests.clear()
			self._faults.clear()

	# -- the contract ----------------------------------------------------------------------------
	def _dispatch(self, request: Request) -> Response:
		"""Hold both sides to Lago's OpenAPI spec: a request it does not allow is refused as Lago would
		(400), an answer it does not allow is the stand-in's bug; both are recorded for the test."""
		violations = request_violations(
			request.method, request.path, request.query, request.headers, request.body
		)
		if violations:
			self._record(violations)
			return Response(400, {"status": 400, "error": "Bad Request"})
		response = super()._dispatch(request)
		payload, headers = response.encode()
		self._record(
			response_violations(
				request.method,
				request.path,
				request.query,
				request.headers,
				request.body,
				response.status,
				headers.get("Content-Type", ""),
				payload,
			)
		)
		return response

	def _record(self, violations: list[str]) -> None:
		with self._lock:
			self._contract_violations += violations

	def take_contract_violations(self) -> list[str]:
		"""The violations of Lago's spec since the last call, forgotten once taken."""
		with self._lock:
			taken, self._contract_violations = self._contract_violations, []
		return taken

	def assert_contract_kept(self) -> None:
		"""Fail the current test with every request or answer since the last check that broke Lago's spec."""
		violations = self.take_contract_violations()
		assert not violations, "Lago's OpenAPI spec was broken:\n" + "\n".join(violations)

	def start(self) -> "LagoStandIn":
		super().start()
		LagoStandIn.running.add(self)
		return self

	def stop(self) -> None:
		"""A test that never checked still fails here, at the latest."""
		LagoStandIn.running.discard(self)
		super().stop()
		self.assert_contract_kept()

	def lose_next_batch_answers(self, times: int = 1) -> None:
		"""Accept the next batches but answer 500, as when Lago's answer is lost after it stored them."""
		self._lose_next_batch_answers += times

	def set_plan(self, code: str, **fields) -> None:
		"""A plan's fields as Lago's PlanObject names them (amount_cents, interval, trial_period...)."""
		self.plans[code] = fields.get("amount_cents", self.plans.get(code, 0))
		self.plan_fields[code] = fields

	def add_payment_method(self, external_customer_id: str) -> dict:
		"""A payment method on file, as after the customer went through the provider's checkout."""
		method = {
			"lago_id": str(uuid.uuid4()),
			"is_default": not self.payment_methods.get(external_customer_id),
			"payment_provider_code": "stripe",
			"payment_provider_name": "Stripe",
			"payment_provider_type": "stripe",
			"provider_method_id": "pm_" + uuid.uuid4().hex[:24],
			"created_at": _now(),
		}
		self.payment_methods.setdefault(external_customer_id, []).append(method)
		return method

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

	def add_customer(self, external_id: str) -> dict:
		"""A customer as Lago stores it, for tests that start with one."""
		customer = _customer_record(external_id, len(self.customers) + 1)
		self.customers[external_id] = customer
		return customer

	def add_invoice(self, external_customer_id: str, *, file_url: str | None = None, **fields) -> dict:
		invoice = {
			"lago_id": str(uuid.uuid4()),
			"billing_entity_code": "hosting",
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
			"created_at": _now(),
			"updated_at": _now(),
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
			"fees": [],
			"customer": self.customers.get(external_customer_id)
			or _customer_record(external_customer_id, len(self.customers) + 1),
			**fields,
		}
		for key in INVOICE_DETAILS:  # None: a Lago version without it
			if key in invoice and invoice[key] is None:
				del invoice[key]
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
		customer = existing or _customer_record(fields["external_id"], len(self.customers) + 1)
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

	def _list_payment_methods(self, request: Request) -> Response:
		external_id = request.params["external_id"]
		if external_id not in self.customers:
			return _not_found("customer")
		return _page(request, "payment_methods", self.payment_methods.get(external_id, []))

	def _get_plan(self, request: Request) -> Response:
		code = request.params["code"]
		if code not in self.plans:
			return _not_found("plan")
		name = code.replace("-", " ").title()
		plan = {
			"lago_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "lago-plan-" + code)),
			"name": name,
			"invoice_display_name": name,
			"created_at": "2026-01-01T00:00:00Z",
			"code": code,
			"interval": "monthly",
			"description": "",
			"amount_cents": self.plans[code],
			"amount_currency": "USD",
			"trial_period": 0.0,
			"pay_in_advance": True,
			"bill_charges_monthly": None,
			"active_subscriptions_count": 0,
			"draft_invoices_count": 0,
			"taxes": [],
			"charges": [],
			**self.plan_fields.get(code, {}),
		}
		return Response(200, {"plan": plan})

	def _create_subscription(self, request: Request) -> Response:
		fields = request.json()["subscription"]
		if fields.get("plan_code") not in self.plans:
			return _not_found("plan")
		customer = self.customers.get(fields["external_customer_id"])
		if customer is None:
			return _not_found("customer")
		current = self.subscriptions.get(fields["external_id"])
		if current is None or current["status"] != "active":
			return Response(200, {"subscription": self._start_subscription(customer, fields)})
		if current["external_customer_id"] != customer["external_id"]:
			return _error(
				422, "Unprocessable Entity", "validation_errors", {"external_id": ["value_already_exist"]}
			)
		if current["plan_code"] == fields["plan_code"]:
			return Response(200, {"subscription": current})  # a pending downgrade stays pending
		if self.plans[fields["plan_code"]] >= self.plans[current["plan_code"]]:
			return Response(200, {"subscription": self._upgrade(current, fields["plan_code"])})
		# PlanDowngradeService: the current plan runs to the period's end, the new one waits
		current.update(
			next_plan_code=fields["plan_code"],
			downgrade_plan_date=current["current_billing_period_ending_at"][:10],
		)
		self._send("subscription.updated", current)
		return Response(200, {"subscription": current})

	def _start_subscription(
		self, customer: dict, fields: dict, previous_plan_code: str | None = None
	) -> dict:
		"""A new active subscription, serialized as lago-api's V1::SubscriptionSerializer does."""
		now = datetime.now(timezone.utc)
		period_end = (now.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(seconds=1)
		subscription = {
			"lago_id": str(uuid.uuid4()),
			"external_id": fields["external_id"],
			"lago_customer_id": customer["lago_id"],
			"external_customer_id": customer["external_id"],
			"name": fields.get("name") or "",
			"plan_code": fields["plan_code"],
			"plan_amount_cents": self.plans[fields["plan_code"]],
			"plan_amount_currency": "EUR",
			"status": "active",
			"billing_time": fields.get("billing_time") or "calendar",
			"subscription_at": _now(),
			"started_at": _now(),
			"trial_ended_at": None,
			"ending_at": None,
			"terminated_at": None,
			"canceled_at": None,
			"created_at": _now(),
			"previous_plan_code": previous_plan_code,
			"next_plan_code": None,
			"downgrade_plan_date": None,
			"current_billing_period_started_at": now.replace(day=1).strftime("%Y-%m-%dT00:00:00Z"),
			"current_billing_period_ending_at": period_end.strftime("%Y-%m-%dT%H:%M:%SZ"),
			"on_termination_credit_note": "credit",  # the default of a plan paid in advance
			"on_termination_invoice": "generate",
		}
		self.subscriptions[subscription["external_id"]] = subscription
		self._send("subscription.started", subscription)
		return subscription

	def _upgrade(self, current: dict, plan_code: str) -> dict:
		"""PlanUpgradeService: the old subscription ends now and a new one, same external id, starts."""
		current.update(status="terminated", terminated_at=_now(), next_plan_code=plan_code)
		self._send("subscription.terminated", current)
		fields = {"external_id": current["external_id"], "plan_code": plan_code, "name": current["name"]}
		return self._start_subscription(
			self.customers[current["external_customer_id"]], fields, previous_plan_code=current["plan_code"]
		)

	def end_billing_period(self, external_id: str) -> dict:
		"""The period ends: a pending downgrade takes effect (Lago's billing job at the period's end)."""
		with self._state_lock:
			current = self.subscriptions[external_id]
			if not current["next_plan_code"]:
				return current
			current.update(status="terminated", terminated_at=_now())
			self._send("subscription.terminated", current)
			fields = {
				"external_id": external_id,
				"plan_code": current["next_plan_code"],
				"name": current["name"],
			}
			return self._start_subscription(
				self.customers[current["external_customer_id"]],
				fields,
				previous_plan_code=current["plan_code"],
			)

	def _send(self, webhook_type: str, subscription: dict) -> None:
		self.webhooks.append(
			{"webhook_type": webhook_type, "object_type": "subscription", "subscription": dict(subscription)}
		)

	def _update_subscription(self, request: Request) -> Response:
		"""Subscriptions::UpdateService changes name, ending_at and a pending one's start, never the plan."""
		subscription = self.subscriptions.get(request.params["external_id"])
		if subscription is None or subscription["status"] != "active":
			return _not_found("subscription")
		fields = request.json()["subscription"]
		subscription.update({key: fields[key] for key in ("name", "ending_at") if key in fields})
		return Response(200, {"subscription": subscription})

	def _terminate_subscription(self, request: Request) -> Response:
		subscription = self.subscriptions.get(request.params["external_id"])
		if subscription is None or subscription["status"] != "active":
			return _not_found("subscription")
		# TerminateService cancels a pending downgrade first: the webhook names no next plan
		subscription.update(
			status="terminated",
			terminated_at=_now(),
			on_termination_invoice=(request.query.get("on_termination_invoice") or ["generate"])[0],
			next_plan_code=None,
			downgrade_plan_date=None,
		)
		self._send("subscription.terminated", subscription)
		return Response(200, {"subscription": subscription})

	def _list_invoices(self, request: Request) -> Response:
		customer = (request.query.get("external_customer_id") or [None])[0]
		matching = [i for i in self.invoices if customer is None or i["customer"]["external_id"] == customer]
		# InvoicesQuery: newest issuing date first, then the most recently created
		matching.sort(key=lambda i: (i["issuing_date"], i["sequential_id"]), reverse=True)
		listed = [{k: v for k, v in i.items() if k not in INVOICE_DETAILS} for i in matching]
		return _page(request, "invoices", listed)

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
		# Invoices::Payments::GeneratePaymentUrlService: single validation failures
		if self.payment_provider is None:
			return _error(
				422, "Unprocessable Entity", "validation_errors", {"base": ["no_linked_payment_provider"]}
			)
		if invoice["payment_status"] == "succeeded":
			return _error(
				422,
				"Unprocessable Entity",
				"validation_errors",
				{"base": ["invalid_invoice_status_or_payment_status"]},
			)
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
		# download_pdf serializes the invoice with no includes: no customer, periods or fees
		bare = {k: v for k, v in invoice.items() if k not in (*INVOICE_DETAILS, "customer")}
		return Response(200, {"invoice": bare})

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
		return Response(200, {"events": [self._event_record(event) for event in events]})

	def _event_record(self, event: dict) -> dict:
		"""V1::EventSerializer, as the batch answers before processing: no customer known yet."""
		subscription = self.subscriptions.get(event["external_subscription_id"]) or {}
		timestamp = datetime.fromtimestamp(float(event["timestamp"]), timezone.utc)
		return {
			"lago_id": str(uuid.uuid4()),
			"transaction_id": event["transaction_id"],
			"lago_customer_id": None,
			"code": event["code"],
			"timestamp": timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
			"precise_total_amount_cents": None,
			"properties": event.get("properties") or {},
			"lago_subscription_id": subscription.get("lago_id"),
			"external_subscription_id": event["external_subscription_id"],
			"created_at": _now(),
		}

	def _public_key(self, request: Request) -> Response:
		encoded = base64.b64encode(self.public_key_pem.encode()).decode()
		return Response(200, {"webhook": {"public_key": encoded}})
