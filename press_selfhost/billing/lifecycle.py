"""The tenant lifecycle as a pure state machine: (tenant, event) → (tenant, commands).

Like h11, it never does I/O: the shell feeds it events (Lago webhooks, provisioning results, the
clock) and carries out the commands it returns. Every (state, event type) pair is in TRANSITIONS,
either as a transition or explicitly as a no-op, so no input can reach an undefined state.

	Pending payment → Provisioning → Active ⇄ Suspended → Archived        (and Failed, with retry)
"""

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from press_selfhost.billing.format import describe_period, format_date, format_money
from press_selfhost.billing.lago import LagoEventType, LagoWebhook, invoice_period, team_of_subscription
from press_selfhost.billing.plans import requires_upfront_payment
from press_selfhost.errors import ServiceRejectedError


class TenantState(enum.Enum):
	PENDING_PAYMENT = "Pending Payment"
	PROVISIONING = "Provisioning"
	ACTIVE = "Active"
	SUSPENDED = "Suspended"
	ARCHIVED = "Archived"
	FAILED = "Failed"


@dataclass(frozen=True)
class Tenant:
	"""One site billed by one Lago subscription, and what the machine must remember about it."""

	state: TenantState = TenantState.PENDING_PAYMENT
	plan_code: str | None = None
	payment_failed_at: datetime | None = None
	last_invoice_notified: str | None = None


# -- events ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvoiceFacts:
	"""What a Lago webhook said about the invoice(s) an event concerns, in the mails' words.

	A field is None where the webhook did not say (invoice.payment_failure names only the invoice):
	the shell asks Lago's API for it before mailing, by `lago_invoice_ids`.
	"""

	lago_invoice_ids: tuple[str, ...] = ()
	number: str | None = None
	amount: str | None = None
	period: str | None = None
	file_url: str | None = None

	def context(self) -> dict:
		"""The mail template variables this invoice fills, and the ids to complete them with."""
		values = {
			"invoice_number": self.number,
			"amount": self.amount,
			"period": self.period,
			"invoice_url": self.file_url,
		}
		return {"lago_invoice_ids": list(self.lago_invoice_ids)} | {
			key: value for key, value in values.items() if value is not None
		}


@dataclass(frozen=True)
class SubscriptionStarted:
	"""Lago started the subscription; a plan without an upfront invoice (trial, free) provisions now."""

	plan_code: str
	requires_payment: bool = True


@dataclass(frozen=True)
class PaymentSucceeded:
	invoice_id: str


@dataclass(frozen=True)
class PaymentFailed:
	"""A payment failed or an invoice is overdue: the grace period starts at `at` (the first one counts)."""

	invoice_id: str
	at: datetime
	invoice: InvoiceFacts = InvoiceFacts()


@dataclass(frozen=True)
class InvoiceCreated:
	invoice_id: str
	invoice: InvoiceFacts = InvoiceFacts()


@dataclass(frozen=True)
class PlanChanged:
	plan_code: str


@dataclass(frozen=True)
class SubscriptionTerminated:
	pass


@dataclass(frozen=True)
class ProvisioningSucceeded:
	pass


@dataclass(frozen=True)
class ProvisioningFailed:
	reason: str


@dataclass(frozen=True)
class ProvisioningRetried:
	"""An admin asks to provision a Failed tenant again."""


@dataclass(frozen=True)
class GracePeriodChecked:
	"""The clock: a periodic job asks whether a failed payment's grace period has expired at `now`."""

	now: datetime


Event = (
	SubscriptionStarted
	| PaymentSucceeded
	| PaymentFailed
	| InvoiceCreated
	| PlanChanged
	| SubscriptionTerminated
	| ProvisioningSucceeded
	| ProvisioningFailed
	| ProvisioningRetried
	| GracePeriodChecked
)
EVENT_TYPES = Event.__args__


# -- commands -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Provision:
	plan_code: str | None


@dataclass(frozen=True)
class Suspend:
	reason: str


@dataclass(frozen=True)
class Resume:
	reason: str


@dataclass(frozen=True)
class ChangePlan:
	plan_code: str


@dataclass(frozen=True)
class FinalBackupThenArchive:
	pass


@dataclass(frozen=True)
class Archive:
	"""Archive without a final backup: the site never held data (it failed or was still being created)."""


@dataclass(frozen=True)
class Notify:
	"""Mail the customer with one of the templates of press_selfhost.mail.send.

	The context holds what the lifecycle knows; the shell adds the site, the platform's links and
	what only Lago's API knows (press_selfhost.mail.context) before rendering.
	"""

	template: str
	context: Mapping = field(default_factory=dict)


Command = Provision | Suspend | Resume | ChangePlan | FinalBackupThenArchive | Archive | Notify


@dataclass(frozen=True)
class Transition:
	tenant: Tenant
	commands: tuple[Command, ...] = ()


# -- transitions ----------------------------------------------------------------------------------
Handler = Callable[[Tenant, Event, timedelta], Transition]


def transition(tenant: Tenant, event: Event, *, grace_period: timedelta) -> Transition:
	"""The tenant after `event`, and the commands that make the world match it."""
	return TRANSITIONS[tenant.state, type(event)](tenant, event, grace_period)


def _ignore(tenant: Tenant, event: Event, grace_period: timedelta) -> Transition:
	return Transition(tenant)


def _start(tenant: Tenant, event: SubscriptionStarted, grace_period: timedelta) -> Transition:
	tenant = replace(tenant, plan_code=event.plan_code)
	if event.requires_payment:
		return Transition(tenant)
	return _provision(tenant)


def _paid_first_invoice(tenant: Tenant, event: PaymentSucceeded, grace_period: timedelta) -> Transition:
	return _provision(replace(tenant, payment_failed_at=None))


def _provision(tenant: Tenant) -> Transition:
	return Transition(replace(tenant, state=TenantState.PROVISIONING), (Provision(tenant.plan_code),))


def _retry_provisioning(tenant: Tenant, event: ProvisioningRetried, grace_period: timedelta) -> Transition:
	return _provision(tenant)


def _clear_failed_payment(tenant: Tenant, event: PaymentSucceeded, grace_period: timedelta) -> Transition:
	return Transition(replace(tenant, payment_failed_at=None))


def _payment_failed(tenant: Tenant, event: PaymentFailed, grace_period: timedelta) -> Transition:
	if tenant.payment_failed_at is not None:
		return Transition(tenant)  # the grace period already runs from the first failure
	suspend_on = event.at + grace_period
	return Transition(
		replace(tenant, payment_failed_at=event.at),
		(
			Notify(
				"payment_failed",
				# "before <the day>": the suspension comes during that day, never before it
				{
					"invoice_id": event.invoice_id,
					"suspend_on": format_date(suspend_on),
					**event.invoice.context(),
				},
			),
		),
	)


def _first_payment_failed(tenant: Tenant, event: PaymentFailed, grace_period: timedelta) -> Transition:
	"""No site yet, so nothing to suspend and no "pay before" date to mail: the customer's progress page
	says the payment did not go through and offers Lago's checkout again; paying later provisions."""
	return Transition(replace(tenant, payment_failed_at=tenant.payment_failed_at or event.at))


def _check_grace_period(tenant: Tenant, event: GracePeriodChecked, grace_period: timedelta) -> Transition:
	if tenant.payment_failed_at is None or event.now < tenant.payment_failed_at + grace_period:
		return Transition(tenant)
	return Transition(
		replace(tenant, state=TenantState.SUSPENDED),
		(Suspend("payment failed"), Notify("site_suspended", {"reason": "payment failed"})),
	)


def _resume(tenant: Tenant, event: PaymentSucceeded, grace_period: timedelta) -> Transition:
	return Transition(
		replace(tenant, state=TenantState.ACTIVE, payment_failed_at=None),
		(Resume("payment received"), Notify("site_resumed", {})),
	)


def _ready(tenant: Tenant, event: ProvisioningSucceeded, grace_period: timedelta) -> Transition:
	return Transition(replace(tenant, state=TenantState.ACTIVE), (Notify("site_ready", {}),))


def _provisioning_failed(tenant: Tenant, event: ProvisioningFailed, grace_period: timedelta) -> Transition:
	return Transition(replace(tenant, state=TenantState.FAILED))


def _record_plan(tenant: Tenant, event: PlanChanged, grace_period: timedelta) -> Transition:
	return Transition(replace(tenant, plan_code=event.plan_code))


def _change_plan(tenant: Tenant, event: PlanChanged, grace_period: timedelta) -> Transition:
	if tenant.plan_code == event.plan_code:
		return Transition(tenant)
	return Transition(replace(tenant, plan_code=event.plan_code), (ChangePlan(event.plan_code),))


def _invoice_available(tenant: Tenant, event: InvoiceCreated, grace_period: timedelta) -> Transition:
	if tenant.last_invoice_notified == event.invoice_id:
		return Transition(tenant)
	return Transition(
		replace(tenant, last_invoice_notified=event.invoice_id),
		(Notify("invoice_available", {"invoice_id": event.invoice_id, **event.invoice.context()}),),
	)


def _close(tenant: Tenant, event: SubscriptionTerminated, grace_period: timedelta) -> Transition:
	"""Nothing was ever created: the tenant just ends."""
	return Transition(replace(tenant, state=TenantState.ARCHIVED))


def _archive(tenant: Tenant, event: SubscriptionTerminated, grace_period: timedelta) -> Transition:
	"""No customer data yet (still being created, or failed): archive without a backup."""
	return Transition(
		replace(tenant, state=TenantState.ARCHIVED), (Archive(), Notify("site_archived", {"backup": False}))
	)


def _backup_and_archive(tenant: Tenant, event: SubscriptionTerminated, grace_period: timedelta) -> Transition:
	return Transition(
		replace(tenant, state=TenantState.ARCHIVED),
		(FinalBackupThenArchive(), Notify("site_archived", {"backup": True})),
	)


_S = TenantState
TRANSITIONS: dict[tuple[TenantState, type], Handler] = {
	# Pending payment: waiting for the first invoice to be paid.
	(_S.PENDING_PAYMENT, SubscriptionStarted): _start,
	(_S.PENDING_PAYMENT, PaymentSucceeded): _paid_first_invoice,
	(_S.PENDING_PAYMENT, PaymentFailed): _first_payment_failed,
	(_S.PENDING_PAYMENT, InvoiceCreated): _invoice_available,
	(_S.PENDING_PAYMENT, PlanChanged): _record_plan,
	(_S.PENDING_PAYMENT, SubscriptionTerminated): _close,
	(_S.PENDING_PAYMENT, ProvisioningSucceeded): _ignore,
	(_S.PENDING_PAYMENT, ProvisioningFailed): _ignore,
	(_S.PENDING_PAYMENT, ProvisioningRetried): _ignore,
	(_S.PENDING_PAYMENT, GracePeriodChecked): _ignore,  # nothing to suspend yet
	# Provisioning: Press is creating the site.
	(_S.PROVISIONING, SubscriptionStarted): _ignore,
	(_S.PROVISIONING, PaymentSucceeded): _clear_failed_payment,
	(_S.PROVISIONING, PaymentFailed): _payment_failed,
	(_S.PROVISIONING, InvoiceCreated): _invoice_available,
	(_S.PROVISIONING, PlanChanged): _change_plan,
	(_S.PROVISIONING, SubscriptionTerminated): _archive,
	(_S.PROVISIONING, ProvisioningSucceeded): _ready,
	(_S.PROVISIONING, ProvisioningFailed): _provisioning_failed,
	(_S.PROVISIONING, ProvisioningRetried): _ignore,
	(_S.PROVISIONING, GracePeriodChecked): _ignore,  # checked again once the site is Active
	# Active.
	(_S.ACTIVE, SubscriptionStarted): _ignore,
	(_S.ACTIVE, PaymentSucceeded): _clear_failed_payment,
	(_S.ACTIVE, PaymentFailed): _payment_failed,
	(_S.ACTIVE, InvoiceCreated): _invoice_available,
	(_S.ACTIVE, PlanChanged): _change_plan,
	(_S.ACTIVE, SubscriptionTerminated): _backup_and_archive,
	(_S.ACTIVE, ProvisioningSucceeded): _ignore,
	(_S.ACTIVE, ProvisioningFailed): _ignore,
	(_S.ACTIVE, ProvisioningRetried): _ignore,
	(_S.ACTIVE, GracePeriodChecked): _check_grace_period,
	# Suspended: unpaid past the grace period.
	(_S.SUSPENDED, SubscriptionStarted): _ignore,
	(_S.SUSPENDED, PaymentSucceeded): _resume,
	(_S.SUSPENDED, PaymentFailed): _ignore,
	(_S.SUSPENDED, InvoiceCreated): _invoice_available,
	(_S.SUSPENDED, PlanChanged): _change_plan,
	(_S.SUSPENDED, SubscriptionTerminated): _backup_and_archive,
	(_S.SUSPENDED, ProvisioningSucceeded): _ignore,
	(_S.SUSPENDED, ProvisioningFailed): _ignore,
	(_S.SUSPENDED, ProvisioningRetried): _ignore,
	(_S.SUSPENDED, GracePeriodChecked): _ignore,
	# Failed: provisioning failed; an admin retries.
	(_S.FAILED, SubscriptionStarted): _ignore,
	(_S.FAILED, PaymentSucceeded): _clear_failed_payment,
	(_S.FAILED, PaymentFailed): _payment_failed,
	(_S.FAILED, InvoiceCreated): _invoice_available,
	(_S.FAILED, PlanChanged): _record_plan,
	(_S.FAILED, SubscriptionTerminated): _archive,
	(_S.FAILED, ProvisioningSucceeded): _ignore,
	(_S.FAILED, ProvisioningFailed): _ignore,
	(_S.FAILED, ProvisioningRetried): _retry_provisioning,
	(_S.FAILED, GracePeriodChecked): _ignore,
	# Archived is terminal.
	**{(_S.ARCHIVED, event_type): _ignore for event_type in EVENT_TYPES},
}


# -- Press → Lago plan changes ------------------------------------------------------------------
def plan_billed_after_change(requested: str, plan_code: str | None, next_plan_code: str | None) -> str:
	"""The plan Press's site must run after asking Lago (`POST /subscriptions`) for `requested`, from
	Lago's answer: the requested one when Lago applied it at once (an upgrade), else the plan Lago
	still bills (a downgrade waits for the period's end as `next_plan_code`; the webhooks that start
	the new plan then change the site, PlanChanged → ChangePlan)."""
	if plan_code == requested or not plan_code:
		return requested
	if next_plan_code != requested:
		raise ServiceRejectedError(
			"Lago",
			f"answered a change to plan {requested!r} with plan {plan_code!r} and no pending change to it; "
			"check the Lago Plan Map and the subscription in Lago",
		)
	return plan_code


# -- from Lago's webhooks -----------------------------------------------------------------------
@dataclass(frozen=True)
class Routed:
	"""A lifecycle event and whom it concerns: one subscription (a site), or every site of a customer."""

	event: Event
	external_customer_id: str | None
	external_subscription_id: str | None = None


def lago_event(webhook: LagoWebhook, received_at: datetime) -> Routed | None:
	"""The lifecycle event a Lago webhook means, or None when it changes no site (store, acknowledge)."""
	kind, data = webhook.event, webhook.object
	customer = _text(data, "external_customer_id") or _text(data.get("customer") or {}, "external_id")
	if webhook.object_type == "subscription" and team_of_subscription(_text(data, "external_id")):
		return None  # a team's platform subscription (per-team usage) hosts no site
	if kind in (LagoEventType.SUBSCRIPTION_STARTED, LagoEventType.SUBSCRIPTION_UPDATED):
		return _subscription_event(data, customer, started=kind is LagoEventType.SUBSCRIPTION_STARTED)
	if kind is LagoEventType.SUBSCRIPTION_TERMINATED:
		# An upgrade terminates the old subscription and starts one with the same external_id.
		next_plan = _text(data, "next_plan_code")
		event = PlanChanged(next_plan) if next_plan else SubscriptionTerminated()
		return Routed(event, customer, _text(data, "external_id"))
	invoice_id = _text(data, "lago_id") or _text(data, "lago_invoice_id") or ""
	invoice = invoice_facts(webhook.object_type, data)
	if kind is LagoEventType.INVOICE_CREATED:
		return Routed(InvoiceCreated(invoice_id, invoice), customer)
	if kind in (
		LagoEventType.INVOICE_PAYMENT_STATUS_UPDATED,
		LagoEventType.PAYMENT_REQUEST_PAYMENT_STATUS_UPDATED,
	):
		status = _text(data, "payment_status")
		if status == "succeeded":
			return Routed(PaymentSucceeded(invoice_id), customer)
		if status == "failed":
			return Routed(PaymentFailed(invoice_id, received_at, invoice), customer)
		return None
	if kind in (
		LagoEventType.INVOICE_PAYMENT_FAILURE,
		LagoEventType.INVOICE_PAYMENT_OVERDUE,
		LagoEventType.PAYMENT_REQUEST_PAYMENT_FAILURE,
	):
		return Routed(PaymentFailed(invoice_id, received_at, invoice), customer)
	return None


def invoice_facts(object_type: str, data: Mapping) -> InvoiceFacts:
	"""What a webhook's object says about its invoices: an invoice says all, a payment request (dunning,
	several invoices) its total and its invoices, a payment error only the invoice ids."""
	if object_type == "invoice":
		return InvoiceFacts(
			lago_invoice_ids=tuple(filter(None, [_text(data, "lago_id")])),
			number=_text(data, "number"),
			amount=_money(data.get("total_amount_cents"), data.get("currency")),
			period=describe_period(invoice_period(data), _text(data, "issuing_date")),
			file_url=_text(data, "file_url"),
		)
	invoices = [item for item in _list(data.get("invoices")) if isinstance(item, Mapping)]
	ids = [_text(item, "lago_id") for item in invoices] or _list(data.get("lago_invoice_ids"))
	ids = [value for value in ids if isinstance(value, str) and value] or [_text(data, "lago_invoice_id")]
	numbers = [_text(item, "number") for item in invoices]
	return InvoiceFacts(
		lago_invoice_ids=tuple(filter(None, ids)),
		number=", ".join(numbers) if numbers and all(numbers) else None,
		amount=_money(data.get("amount_cents"), data.get("amount_currency")),
	)


def _money(minor_units: object, currency: object) -> str | None:
	if isinstance(minor_units, int) and not isinstance(minor_units, bool) and isinstance(currency, str):
		return format_money(minor_units, currency) if currency else None
	return None


def _list(value: object) -> list:
	return value if isinstance(value, list) else []


def _subscription_event(data: Mapping, customer: str | None, *, started: bool) -> Routed | None:
	plan_code, external_id = _text(data, "plan_code"), _text(data, "external_id")
	if not plan_code or not external_id:
		return None
	if not started or _text(data, "previous_plan_code"):
		return Routed(PlanChanged(plan_code), customer, external_id)
	plan = data.get("plan") if isinstance(data.get("plan"), Mapping) else {}
	# Only a plan paid in advance, without a trial, issues an invoice to wait for before provisioning.
	amount = plan.get("amount_cents")
	requires_payment = requires_upfront_payment(
		amount if isinstance(amount, int) else 1,  # unknown: wait for the invoice, if any
		bool(plan.get("pay_in_advance", True)),
		plan.get("trial_period") or 0,
	)
	return Routed(SubscriptionStarted(plan_code, requires_payment), customer, external_id)


def _text(data: Mapping, key: str) -> str | None:
	value = data.get(key) if isinstance(data, Mapping) else None
	return value if isinstance(value, str) and value else None
