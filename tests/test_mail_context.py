"""Every mail the lifecycle can ask for renders with what the webhook said plus what Lago's API adds.

The webhooks are built from the Lago stand-in's invoices (Lago's JSON shapes), go through the pure
lifecycle, are completed by mail_context against the stand-in and rendered as press_selfhost.mail.send
renders them: a template needing a value nobody provides fails here, not in a customer's inbox.
"""

import itertools
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from press_selfhost.billing.lago import LagoGateway, LagoWebhook
from press_selfhost.billing.lifecycle import (
	EVENT_TYPES,
	GracePeriodChecked,
	Notify,
	PaymentSucceeded,
	PlanChanged,
	ProvisioningFailed,
	ProvisioningRetried,
	ProvisioningSucceeded,
	SubscriptionStarted,
	SubscriptionTerminated,
	Tenant,
	TenantState,
	lago_event,
	transition,
)
from press_selfhost.errors import ServiceUnavailableError
from press_selfhost.mail.context import completed_context
from press_selfhost.mail.templates import TEMPLATES, platform_values, render
from tests.standins.lago import LagoStandIn

SITE = "acme.example.com"
GRACE = timedelta(days=3)
T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
DASHBOARD_BILLING = "https://cloud.example.com/dashboard/billing"


@pytest.fixture(scope="module")
def lago_server():
	with LagoStandIn() as stand_in:
		yield stand_in


@pytest.fixture
def lago(lago_server):
	lago_server.reset()
	return lago_server


@pytest.fixture
def gateway(lago):
	return LagoGateway(lago.url, lago.api_key)


def mail(notify: Notify, gateway: LagoGateway):
	"""What press_selfhost.billing.jobs.notify and mail.send_template_mail do, without Frappe."""
	context = {"site": SITE, "team": "team-1", **notify.context}
	completed = completed_context(notify.template, context, lambda: gateway)
	defaults = platform_values("example.com", SITE) | {"support_email": "support@example.com"}
	return render(notify.template, {**defaults, **completed})


def webhooks(lago):
	"""The Lago deliveries that become payment and invoice events, in Lago's shapes."""
	first = lago.add_invoice("team-1", number="LAG-0001", total_amount_cents=1200)
	second = lago.add_invoice("team-1", number="LAG-0002", total_amount_cents=3000)
	failed = {**first, "payment_status": "failed"}
	request = {
		"lago_id": "pr-1",
		"amount_cents": 4200,
		"amount_currency": "EUR",
		"payment_status": "failed",
		"customer": first["customer"],
		"invoices": [first, second],
	}
	return {
		"invoice.created": ("invoice", first),
		"invoice.payment_status_updated": ("invoice", failed),
		"invoice.payment_overdue": ("invoice", {**first, "payment_overdue": True}),
		"invoice.payment_failure": (
			"payment_provider_invoice_payment_error",
			{"lago_invoice_id": first["lago_id"], "external_customer_id": "team-1", "provider_error": {}},
		),
		"payment_request.payment_status_updated": ("payment_request", request),
		"payment_request.payment_failure": (
			"payment_provider_payment_request_payment_error",
			{"lago_payment_request_id": "pr-1", "lago_invoice_ids": [first["lago_id"], second["lago_id"]]},
		),
	}


def lifecycle_events(lago):
	routed = [
		lago_event(LagoWebhook(kind, object_type, kind, data, {}), T0)
		for kind, (object_type, data) in webhooks(lago).items()
	]
	return [
		*(route.event for route in routed),
		SubscriptionStarted("starter", requires_payment=False),
		PaymentSucceeded("inv"),
		PlanChanged("business"),
		SubscriptionTerminated(),
		ProvisioningSucceeded(),
		ProvisioningFailed("agent down"),
		ProvisioningRetried(),
		GracePeriodChecked(T0 + 10 * GRACE),
	]


def test_every_notify_of_every_transition_renders_with_the_completed_context(lago, gateway):
	events = lifecycle_events(lago)
	assert {type(event) for event in events} == set(EVENT_TYPES)
	tenants = [Tenant(state, "starter") for state in TenantState]
	tenants += [replace(tenant, payment_failed_at=T0) for tenant in tenants]
	rendered = set()
	for tenant, event in itertools.product(tenants, events):
		for command in transition(tenant, event, grace_period=GRACE).commands:
			if isinstance(command, Notify):
				message = mail(command, gateway)
				assert SITE in message.text or "LAG-0001" in message.text
				rendered.add(command.template)
	# every mail but the sign-up one comes from the lifecycle; a new one would be rendered above
	assert rendered == set(TEMPLATES) - {"verify_email"}


def notify_for(kind, lago):
	object_type, data = webhooks(lago)[kind]
	event = lago_event(LagoWebhook(kind, object_type, kind, data, {}), T0).event
	(notify,) = transition(Tenant(TenantState.ACTIVE, "starter"), event, grace_period=GRACE).commands
	return notify


def test_a_payment_failure_naming_only_the_invoice_is_completed_from_lago(lago, gateway):
	notify = notify_for("invoice.payment_failure", lago)
	assert "amount" not in notify.context
	text = mail(notify, gateway).text
	assert "EUR 12.00" in text and "LAG-0001" in text and "4 November 2026" in text
	assert f"https://checkout.stripe.com/c/pay/{lago.invoices[0]['lago_id']}" in text


def test_without_a_payment_provider_the_dashboard_is_the_place_to_pay(lago, gateway):
	notify = notify_for("invoice.payment_status_updated", lago)
	lago.payment_provider = None
	assert DASHBOARD_BILLING in mail(notify, gateway).text


def test_a_lago_that_refuses_the_payment_link_still_lets_the_failure_be_mailed(lago, gateway):
	notify = notify_for("invoice.payment_status_updated", lago)
	lago.fail_next(404, body={"status": 404, "error": "Not Found"}, path_pattern="payment_url")
	assert DASHBOARD_BILLING in mail(notify, gateway).text


def test_a_failed_payment_request_names_all_its_invoices_and_their_total(lago, gateway):
	for kind in ("payment_request.payment_status_updated", "payment_request.payment_failure"):
		text = mail(notify_for(kind, lago), gateway).text
		assert "LAG-0001, LAG-0002" in text and "EUR 42.00" in text and DASHBOARD_BILLING in text
		lago.reset()


def test_an_invoice_mail_needs_no_call_to_lago_when_the_webhook_said_it_all(lago):
	notify = notify_for("invoice.created", lago)
	message = mail(notify, gateway=None)  # the gateway is never made: nothing is missing
	assert "LAG-0001" in message.text and "1 to 30 November 2026" in message.text
	assert "https://cloud.example.com/dashboard/billing/invoices" in message.text  # no PDF yet


def test_a_lago_outage_is_retryable_so_the_inbox_tries_the_mail_again(lago, gateway):
	notify = notify_for("invoice.payment_failure", lago)
	lago.fail_next(503)
	with pytest.raises(ServiceUnavailableError):
		mail(notify, gateway)
	assert "LAG-0001" in mail(notify, gateway).text
