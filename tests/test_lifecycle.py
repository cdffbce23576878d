"""The tenant state machine: the main paths as examples, its promises as properties."""

import itertools
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from press_selfhost.billing.lago import LagoEventType, LagoWebhook
from press_selfhost.billing.lifecycle import (
	EVENT_TYPES,
	TRANSITIONS,
	Archive,
	ChangePlan,
	FinalBackupThenArchive,
	GracePeriodChecked,
	InvoiceCreated,
	InvoiceFacts,
	Notify,
	PaymentFailed,
	PaymentSucceeded,
	PlanChanged,
	Provision,
	ProvisioningFailed,
	ProvisioningRetried,
	ProvisioningSucceeded,
	Resume,
	Routed,
	SubscriptionStarted,
	SubscriptionTerminated,
	Suspend,
	Tenant,
	TenantState,
	lago_event,
	transition,
)

GRACE = timedelta(days=3)
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
TEMPLATES = {
	"verify_email",
	"site_ready",
	"payment_failed",
	"site_suspended",
	"site_resumed",
	"site_archived",
	"invoice_available",
}


def run(tenant, *events, grace=GRACE):
	commands = []
	for event in events:
		result = transition(tenant, event, grace_period=grace)
		tenant = result.tenant
		commands += result.commands
	return tenant, commands


def test_every_state_and_event_pair_is_defined():
	assert set(TRANSITIONS) == set(itertools.product(TenantState, EVENT_TYPES))


def test_paid_subscription_is_provisioned_then_active():
	tenant, commands = run(Tenant(), SubscriptionStarted("starter"))
	assert (tenant.state, commands) == (TenantState.PENDING_PAYMENT, [])
	tenant, commands = run(tenant, PaymentSucceeded("inv-1"), ProvisioningSucceeded())
	assert tenant.state is TenantState.ACTIVE
	assert commands == [Provision("starter"), Notify("site_ready", {})]


def test_a_first_payment_that_fails_is_recorded_without_a_suspension_notice_and_paying_later_provisions():
	pending = Tenant(TenantState.PENDING_PAYMENT, "starter")
	tenant, commands = run(pending, PaymentFailed("inv-1", T0), PaymentFailed("inv-1", T0 + GRACE))
	assert (tenant.state, tenant.payment_failed_at, commands) == (TenantState.PENDING_PAYMENT, T0, [])
	tenant, commands = run(tenant, GracePeriodChecked(T0 + 10 * GRACE), PaymentSucceeded("inv-1"))
	assert (tenant.state, tenant.payment_failed_at, commands) == (
		TenantState.PROVISIONING,
		None,
		[Provision("starter")],
	)


def test_trial_or_free_subscription_is_provisioned_at_once():
	tenant, commands = run(Tenant(), SubscriptionStarted("trial", requires_payment=False))
	assert (tenant.state, commands) == (TenantState.PROVISIONING, [Provision("trial")])


def test_failed_payment_suspends_only_after_the_grace_period_and_payment_resumes():
	active = Tenant(TenantState.ACTIVE, "starter")
	tenant, commands = run(
		active, PaymentFailed("inv-2", T0), GracePeriodChecked(T0 + GRACE - timedelta(seconds=1))
	)
	assert tenant.state is TenantState.ACTIVE
	assert [c.template for c in commands] == ["payment_failed"]
	tenant, commands = run(tenant, GracePeriodChecked(T0 + GRACE))
	assert tenant.state is TenantState.SUSPENDED
	assert commands == [Suspend("payment failed"), Notify("site_suspended", {"reason": "payment failed"})]
	tenant, commands = run(tenant, PaymentSucceeded("inv-2"))
	assert tenant == Tenant(TenantState.ACTIVE, "starter")
	assert commands == [Resume("payment received"), Notify("site_resumed", {})]


def test_payment_after_failure_but_within_grace_cancels_the_suspension():
	tenant, _ = run(Tenant(TenantState.ACTIVE, "p"), PaymentFailed("i", T0), PaymentSucceeded("i"))
	tenant, commands = run(tenant, GracePeriodChecked(T0 + 10 * GRACE))
	assert (tenant.state, commands) == (TenantState.ACTIVE, [])


def test_grace_period_is_an_argument():
	tenant, _ = run(Tenant(TenantState.ACTIVE, "p"), PaymentFailed("i", T0), grace=timedelta(0))
	assert run(tenant, GracePeriodChecked(T0), grace=timedelta(0))[0].state is TenantState.SUSPENDED


def test_termination_backs_up_then_archives_a_live_site_and_only_archives_a_failed_one():
	for state in (TenantState.ACTIVE, TenantState.SUSPENDED):
		tenant, commands = run(Tenant(state, "p"), SubscriptionTerminated())
		assert tenant.state is TenantState.ARCHIVED
		assert commands == [FinalBackupThenArchive(), Notify("site_archived", {"backup": True})]
	_, commands = run(Tenant(TenantState.FAILED, "p"), SubscriptionTerminated())
	assert commands[0] == Archive()
	assert run(Tenant(), SubscriptionTerminated()) == (Tenant(TenantState.ARCHIVED), [])


def test_plan_change_and_provisioning_failure_with_retry():
	tenant, commands = run(
		Tenant(TenantState.ACTIVE, "starter"), PlanChanged("business"), PlanChanged("business")
	)
	assert (tenant.plan_code, commands) == ("business", [ChangePlan("business")])
	tenant, commands = run(Tenant(TenantState.PROVISIONING, "p"), ProvisioningFailed("agent down"))
	assert (tenant.state, commands) == (TenantState.FAILED, [])
	tenant, commands = run(tenant, ProvisioningRetried())
	assert (tenant.state, commands) == (TenantState.PROVISIONING, [Provision("p")])


# -- properties -------------------------------------------------------------------------------
times = st.datetimes(
	min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(timezone.utc)
)
plans = st.sampled_from(["starter", "business", "enterprise"])
invoices = st.sampled_from(["inv-1", "inv-2", "inv-3"])
events = st.one_of(
	st.builds(SubscriptionStarted, plans, st.booleans()),
	st.builds(PaymentSucceeded, invoices),
	st.builds(PaymentFailed, invoices, times),
	st.builds(InvoiceCreated, invoices),
	st.builds(PlanChanged, plans),
	st.just(SubscriptionTerminated()),
	st.just(ProvisioningSucceeded()),
	st.builds(ProvisioningFailed, st.text(max_size=10)),
	st.just(ProvisioningRetried()),
	st.builds(GracePeriodChecked, times),
)
graces = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))


@settings(max_examples=400, deadline=None)
@given(st.lists(events, max_size=25), graces)
def test_no_sequence_reaches_an_undefined_state_or_command(sequence, grace):
	tenant = Tenant()
	for event in sequence:
		result = transition(tenant, event, grace_period=grace)
		tenant = result.tenant
		assert tenant.state in TenantState
		for command in result.commands:
			assert isinstance(
				command, Provision | Suspend | Resume | ChangePlan | FinalBackupThenArchive | Archive | Notify
			)
			if isinstance(command, Notify):
				assert command.template in TEMPLATES


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=20), graces)
def test_archived_is_terminal(sequence, grace):
	tenant = Tenant(TenantState.ARCHIVED, "starter")
	for event in sequence:
		result = transition(tenant, event, grace_period=grace)
		assert result.tenant == tenant
		assert result.commands == ()


@settings(max_examples=400, deadline=None)
@given(st.lists(events, max_size=20), events, graces)
def test_replaying_an_applied_event_changes_nothing(prefix, event, grace):
	tenant, _ = run(Tenant(), *prefix, grace=grace)
	applied = transition(tenant, event, grace_period=grace).tenant
	replayed = transition(applied, event, grace_period=grace)
	assert replayed.tenant == applied
	assert replayed.commands == ()


# -- Lago webhooks to lifecycle events -----------------------------------------------------------
def webhook(webhook_type, object_type, data):
	return LagoWebhook(webhook_type, object_type, "key", data, {"webhook_type": webhook_type})


def test_lago_webhooks_become_lifecycle_events():
	subscription = {
		"external_id": "site.example.com",
		"external_customer_id": "team-1",
		"plan_code": "starter",
	}
	started = lago_event(
		webhook(
			"subscription.started",
			"subscription",
			{**subscription, "plan": {"pay_in_advance": True, "amount_cents": 1000}},
		),
		T0,
	)
	assert started == Routed(SubscriptionStarted("starter", True), "team-1", "site.example.com")
	trial = {**subscription, "plan": {"trial_period": 14.0, "amount_cents": 1000}}
	assert lago_event(
		webhook("subscription.started", "subscription", trial), T0
	).event == SubscriptionStarted("starter", False)
	upgraded = {**subscription, "previous_plan_code": "free"}
	assert lago_event(webhook("subscription.started", "subscription", upgraded), T0).event == PlanChanged(
		"starter"
	)
	assert (
		lago_event(webhook("subscription.terminated", "subscription", subscription), T0).event
		== SubscriptionTerminated()
	)
	replaced = {**subscription, "next_plan_code": "business"}
	assert lago_event(webhook("subscription.terminated", "subscription", replaced), T0).event == PlanChanged(
		"business"
	)

	invoice = {"lago_id": "inv-1", "customer": {"external_id": "team-1"}}
	paid = lago_event(
		webhook("invoice.payment_status_updated", "invoice", {**invoice, "payment_status": "succeeded"}), T0
	)
	assert paid == Routed(PaymentSucceeded("inv-1"), "team-1")
	failed = lago_event(
		webhook("invoice.payment_status_updated", "invoice", {**invoice, "payment_status": "failed"}), T0
	)
	assert failed.event == PaymentFailed("inv-1", T0, InvoiceFacts(("inv-1",)))
	assert (
		lago_event(
			webhook("invoice.payment_status_updated", "invoice", {**invoice, "payment_status": "pending"}), T0
		)
		is None
	)
	failure = {"lago_invoice_id": "inv-1", "external_customer_id": "team-1"}
	assert (
		lago_event(webhook("invoice.payment_failure", "payment_provider_invoice_payment_error", failure), T0)
		== failed
	)
	assert lago_event(webhook("invoice.payment_overdue", "invoice", invoice), T0) == failed
	assert lago_event(webhook("invoice.created", "invoice", invoice), T0) == Routed(
		InvoiceCreated("inv-1", InvoiceFacts(("inv-1",))), "team-1"
	)
	assert lago_event(webhook("customer.updated", "customer", {"external_id": "team-1"}), T0) is None
	assert lago_event(webhook("wallet.created", "wallet", {}), T0) is None


LAGO_INVOICE = {
	"lago_id": "inv-7",
	"number": "LAG-0007",
	"issuing_date": "2026-12-01",
	"currency": "EUR",
	"total_amount_cents": 2500,
	"file_url": "https://lago.example.com/invoice-7.pdf",
	"payment_status": "failed",
	"billing_periods": [
		{
			"subscription_from_datetime": "2026-11-01T00:00:00Z",
			"subscription_to_datetime": "2026-11-30T23:59:59Z",
		}
	],
	"customer": {"external_id": "team-1"},
}


def test_an_invoice_webhook_carries_what_the_mails_say_into_the_notify_context():
	facts = InvoiceFacts(
		("inv-7",), "LAG-0007", "EUR 25.00", "1 to 30 November 2026", "https://lago.example.com/invoice-7.pdf"
	)
	created = lago_event(webhook("invoice.created", "invoice", LAGO_INVOICE), T0).event
	assert created == InvoiceCreated("inv-7", facts)
	_, commands = run(Tenant(TenantState.ACTIVE, "p"), created)
	assert commands == [
		Notify(
			"invoice_available",
			{
				"invoice_id": "inv-7",
				"lago_invoice_ids": ["inv-7"],
				"invoice_number": "LAG-0007",
				"amount": "EUR 25.00",
				"period": "1 to 30 November 2026",
				"invoice_url": "https://lago.example.com/invoice-7.pdf",
			},
		)
	]
	failed = lago_event(webhook("invoice.payment_status_updated", "invoice", LAGO_INVOICE), T0).event
	_, commands = run(Tenant(TenantState.ACTIVE, "p"), failed)
	assert commands[0].context["suspend_on"] == "4 November 2026"
	assert commands[0].context["amount"] == "EUR 25.00"


def test_a_payment_error_names_only_its_invoice_and_a_payment_request_its_invoices_and_total():
	error = {"lago_invoice_id": "inv-7", "external_customer_id": "team-1", "provider_error": {}}
	event = lago_event(
		webhook("invoice.payment_failure", "payment_provider_invoice_payment_error", error), T0
	)
	assert event.event.invoice == InvoiceFacts(("inv-7",))
	request = {
		"lago_id": "pr-1",
		"amount_cents": 4000,
		"amount_currency": "USD",
		"payment_status": "failed",
		"customer": {"external_id": "team-1"},
		"invoices": [{**LAGO_INVOICE, "lago_id": "inv-8", "number": "LAG-0008"}, LAGO_INVOICE],
	}
	event = lago_event(webhook("payment_request.payment_status_updated", "payment_request", request), T0)
	assert event.event.invoice == InvoiceFacts(("inv-8", "inv-7"), "LAG-0008, LAG-0007", "USD 40.00")
	request_error = {"lago_payment_request_id": "pr-1", "lago_invoice_ids": ["inv-8", "inv-7"]}
	event = lago_event(
		webhook(
			"payment_request.payment_failure", "payment_provider_payment_request_payment_error", request_error
		),
		T0,
	)
	assert event.event.invoice == InvoiceFacts(("inv-8", "inv-7"))


json_values = st.recursive(
	st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
	lambda children: (
		st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
	),
	max_leaves=10,
)
lago_keys = st.sampled_from(
	[
		"external_id",
		"external_customer_id",
		"plan_code",
		"previous_plan_code",
		"next_plan_code",
		"plan",
		"customer",
		"lago_id",
		"lago_invoice_id",
		"payment_status",
		"number",
		"total_amount_cents",
		"currency",
		"amount_cents",
		"amount_currency",
		"billing_periods",
		"fees",
		"issuing_date",
		"invoices",
		"lago_invoice_ids",
	]
)


@settings(max_examples=300, deadline=None)
@given(
	st.sampled_from([event.value for event in LagoEventType]),
	st.sampled_from(["invoice", "payment_request", "payment_provider_invoice_payment_error"]),
	st.dictionaries(lago_keys, json_values | st.sampled_from(["succeeded", "failed", "starter"]), max_size=8),
)
def test_any_lago_object_maps_to_an_event_or_nothing_without_raising(webhook_type, object_type, data):
	routed = lago_event(webhook(webhook_type, object_type, data), T0)
	assert routed is None or isinstance(routed.event, EVENT_TYPES)
