"""A site's plan changes in Lago the documented way (`POST /subscriptions`, same external id), and
Press's plan follows Lago's: at once for an upgrade, at the period's end for a downgrade.

The Lago stand-in changes plans as lago-api does and keeps the webhooks Lago would send; feeding
those to the lifecycle shows what Press does with them.
"""

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from press_selfhost.billing import lifecycle
from press_selfhost.billing.lago import LagoGateway, LagoWebhook
from press_selfhost.billing.lifecycle import ChangePlan, PlanChanged, Tenant, TenantState
from press_selfhost.errors import ServiceRejectedError
from tests.standins.lago import LagoStandIn

SITE = "shop.example.com"
TEAM = "4f1c2ab39d"
NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def lago_server():
	with LagoStandIn(plans={"small": 1000, "medium": 2500, "large": 5000, "medium-yearly": 2500}) as stand_in:
		yield stand_in


@pytest.fixture
def lago(lago_server):
	lago_server.reset()
	yield lago_server
	lago_server.assert_contract_kept()


@pytest.fixture
def gateway(lago):
	gateway = LagoGateway(lago.url, lago.api_key)
	gateway.ensure_customer(TEAM)
	gateway.create_subscription(TEAM, SITE, "medium")
	lago.webhooks.clear()
	return gateway


def _deliver(lago: LagoStandIn, tenant: Tenant) -> tuple[Tenant, list]:
	"""Feed the webhooks Lago sent since the last call to the lifecycle, as the inbox does."""
	commands = []
	for payload in lago.webhooks:
		webhook = LagoWebhook(
			payload["webhook_type"], "subscription", "key", payload["subscription"], payload
		)
		routed = lifecycle.lago_event(webhook, NOW)
		if routed is not None:
			result = lifecycle.transition(tenant, routed.event, grace_period=timedelta(days=3))
			tenant, commands = result.tenant, commands + list(result.commands)
	lago.webhooks.clear()
	return tenant, commands


def test_put_does_not_change_a_plan_in_lago(lago, gateway):
	"""Why the plan changes by POST: Lago's update ignores plan_code (the old way left Lago behind)."""
	answer = httpx.put(
		f"{lago.url}/api/v1/subscriptions/{SITE}",
		json={"subscription": {"plan_code": "large"}},
		headers={"Authorization": f"Bearer {lago.api_key}"},
	)
	assert answer.status_code == 200 and answer.json()["subscription"]["plan_code"] == "medium"
	assert lago.subscriptions[SITE]["plan_code"] == "medium" and lago.webhooks == []


def test_an_upgrade_applies_at_once_and_press_follows(lago, gateway):
	old_id = lago.subscriptions[SITE]["lago_id"]
	answer = gateway.change_plan(TEAM, SITE, "large")
	assert (answer.plan_code, answer.next_plan_code, answer.status) == ("large", None, "active")
	assert lago.requests_to("POST", "/api/v1/subscriptions")[-1].json()["subscription"] == {
		"external_customer_id": TEAM,
		"external_id": SITE,
		"plan_code": "large",
	}
	assert not lago.requests_to("PUT", "/api/v1/subscriptions/.*")
	current = lago.subscriptions[SITE]
	assert (current["plan_code"], current["previous_plan_code"]) == ("large", "medium")
	assert current["lago_id"] != old_id  # Lago replaced the subscription, same external id
	assert lifecycle.plan_billed_after_change("large", answer.plan_code, answer.next_plan_code) == "large"

	# Press already runs the plan it asked for; Lago's webhooks confirm it and change nothing more
	assert [w["webhook_type"] for w in lago.webhooks] == ["subscription.terminated", "subscription.started"]
	tenant, commands = _deliver(lago, Tenant(TenantState.ACTIVE, "large"))
	assert (tenant.plan_code, commands) == ("large", [])


def test_an_equal_price_plan_is_an_upgrade(lago, gateway):
	answer = gateway.change_plan(TEAM, SITE, "medium-yearly")
	assert (answer.plan_code, lago.subscriptions[SITE]["plan_code"]) == ("medium-yearly", "medium-yearly")


def test_a_downgrade_waits_for_the_period_end_and_press_waits_with_it(lago, gateway):
	answer = gateway.change_plan(TEAM, SITE, "small")
	assert (answer.plan_code, answer.next_plan_code) == ("medium", "small")
	assert answer.downgrade_plan_date == lago.subscriptions[SITE]["current_billing_period_ending_at"][:10]
	assert lago.subscriptions[SITE]["plan_code"] == "medium"
	# Press must go on running what Lago bills until the period ends
	assert lifecycle.plan_billed_after_change("small", answer.plan_code, answer.next_plan_code) == "medium"
	tenant, commands = _deliver(lago, Tenant(TenantState.ACTIVE, "medium"))  # subscription.updated
	assert (tenant.plan_code, commands) == ("medium", [])

	# the period ends: Lago starts the smaller plan, and only now does Press change the site
	lago.end_billing_period(SITE)
	assert (lago.subscriptions[SITE]["plan_code"], lago.subscriptions[SITE]["previous_plan_code"]) == (
		"small",
		"medium",
	)
	tenant, commands = _deliver(lago, tenant)
	assert (tenant.plan_code, commands) == ("small", [ChangePlan("small")])


def test_a_second_downgrade_replaces_the_pending_one_and_an_upgrade_cancels_it(lago, gateway):
	gateway.change_plan(TEAM, SITE, "small")
	assert gateway.change_plan(TEAM, SITE, "small").next_plan_code == "small"  # asked again: same
	upgraded = gateway.change_plan(TEAM, SITE, "large")
	assert (upgraded.plan_code, upgraded.next_plan_code) == ("large", None)
	lago.end_billing_period(SITE)
	assert lago.subscriptions[SITE]["plan_code"] == "large"


def test_the_old_plan_again_leaves_a_pending_downgrade_pending(lago, gateway):
	"""Lago answers its current plan as it is, so putting Press back on it sends Lago nothing new."""
	gateway.change_plan(TEAM, SITE, "small")
	again = gateway.create_subscription(TEAM, SITE, "medium")
	assert (again.plan_code, again.next_plan_code) == ("medium", "small")


def test_terminating_with_a_downgrade_pending_archives_rather_than_changes_plan(lago, gateway):
	gateway.change_plan(TEAM, SITE, "small")
	lago.webhooks.clear()
	gateway.terminate_subscription(SITE)
	assert lago.webhooks[-1]["subscription"]["next_plan_code"] is None
	tenant, commands = _deliver(lago, Tenant(TenantState.ACTIVE, "medium"))
	assert tenant.state is TenantState.ARCHIVED
	assert ChangePlan("small") not in commands


def test_an_answer_that_is_neither_the_plan_nor_pending_is_refused():
	with pytest.raises(ServiceRejectedError, match="Lago Plan Map"):
		lifecycle.plan_billed_after_change("small", "medium", None)
	assert lifecycle.plan_billed_after_change("small", None, None) == "small"


def test_a_plan_change_from_a_webhook_reaches_press_once():
	tenant = Tenant(TenantState.ACTIVE, "medium")
	first = lifecycle.transition(tenant, PlanChanged("small"), grace_period=timedelta(days=3))
	assert first.commands == (ChangePlan("small"),)
	again = lifecycle.transition(first.tenant, PlanChanged("small"), grace_period=timedelta(days=3))
	assert again.commands == ()
