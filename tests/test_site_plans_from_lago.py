"""Site Plans as Lago prices them, and when a new site waits for its payment: LagoGateway against the
Lago stand-in, whose every request and answer is held to Lago's OpenAPI (tests/conftest.py)."""

import pytest

from press_selfhost.billing.lago import LagoGateway, LagoPlan
from press_selfhost.billing.plans import (
	SitePlanPrice,
	offered_to,
	pay_first,
	requires_upfront_payment,
	site_plan_price,
)
from press_selfhost.errors import ConfigurationError, ServiceRejectedError, ServiceUnavailableError
from tests.standins.lago import LagoStandIn

API_KEY = "lago-plans-secret-api-key"


@pytest.fixture(scope="module")
def lago_server():
	with LagoStandIn(
		api_key=API_KEY, plans={"starter": 1000, "free": 0, "trial": 4900, "weekly": 1000}
	) as stand_in:
		yield stand_in


@pytest.fixture
def lago(lago_server):
	lago_server.reset()
	lago_server.plan_fields.clear()
	lago_server.set_plan("trial", amount_cents=4900, trial_period=14.0, interval="yearly")
	lago_server.set_plan("weekly", interval="weekly")
	return lago_server


@pytest.fixture
def gateway(lago):
	return LagoGateway(lago.url, lago.api_key)


def plan(**fields) -> LagoPlan:
	values = {"code": "starter", "name": "Starter", "interval": "monthly", "amount_cents": 1000}
	return LagoPlan(**{**values, "amount_currency": "USD", **fields})


# -- the Site Plan's copy of Lago's price -----------------------------------------------------------
def test_the_site_plan_shows_lagos_amount_per_month_or_year_in_either_currency():
	assert site_plan_price(plan(amount_cents=1999)) == SitePlanPrice(19.99, 19.99, "Monthly")
	assert site_plan_price(plan(interval="yearly", amount_cents=24000)) == SitePlanPrice(240, 240, "Annually")
	assert site_plan_price(plan(amount_cents=0)).as_fields() == {
		"price_usd": 0,
		"price_inr": 0,
		"interval": "Monthly",
	}


@pytest.mark.parametrize("interval", ["weekly", "quarterly", "semiannual"])
def test_an_interval_the_dashboard_cannot_show_is_a_setting_to_fix_not_a_wrong_price(interval):
	with pytest.raises(ConfigurationError, match="monthly or yearly"):
		site_plan_price(plan(interval=interval))


# -- pay first, or build at once ----------------------------------------------------------------------
def test_a_paid_plan_waits_for_payment_unless_a_payment_method_is_on_file():
	assert pay_first(plan(), has_payment_method=False)
	assert not pay_first(plan(), has_payment_method=True)


@pytest.mark.parametrize(
	"fields",
	[{"amount_cents": 0}, {"trial_period_days": 14}, {"pay_in_advance": False}],
	ids=["free", "trial", "billed-at-the-end"],
)
def test_a_plan_lago_does_not_invoice_up_front_builds_the_site_at_once(fields):
	assert not pay_first(plan(**fields), has_payment_method=False)


def test_the_lifecycle_and_the_new_site_page_agree_on_what_needs_an_upfront_payment():
	assert requires_upfront_payment(1000, True, 0)
	assert not requires_upfront_payment(0, True, 0)
	assert not requires_upfront_payment(1000, False, 0)
	assert not requires_upfront_payment(1000, True, 7)


def test_a_plan_is_offered_to_users_holding_one_of_its_roles_as_press_decides():
	plans = {"starter": ["Press Admin", "Press User"], "internal": ["System Manager"], "no-roles": []}
	assert offered_to(plans, ["Press Admin", "Guest"]) == {"starter"}
	assert offered_to(plans, ["Guest"]) == set()


# -- the gateway against the stand-in --------------------------------------------------------------
def test_the_gateway_reads_a_plans_price_interval_and_trial(gateway):
	assert gateway.plan("starter") == LagoPlan("starter", "Starter", "monthly", 1000, "USD", 0.0, True)
	trial = gateway.plan("trial")
	assert (trial.interval, trial.amount_cents, trial.trial_period_days) == ("yearly", 4900, 14.0)
	assert not pay_first(gateway.plan("free"), has_payment_method=False)


def test_a_plan_lago_does_not_have_is_refused_with_its_status(gateway):
	with pytest.raises(ServiceRejectedError) as refused:
		gateway.plan("no-such-plan")
	assert refused.value.status_code == 404


def test_a_payment_method_on_file_is_seen_once_the_customer_has_one(gateway, lago):
	gateway.ensure_customer("team-1", name="Team 1", email="owner@example.com")
	assert gateway.has_payment_method("team-1") is False
	lago.add_payment_method("team-1")
	assert gateway.has_payment_method("team-1") is True
	request = lago.requests[-1]
	assert request.headers["Authorization"] == f"Bearer {API_KEY}"  # the client library forgets it


def test_a_customer_lago_does_not_know_yet_has_no_payment_method(gateway):
	assert gateway.has_payment_method("team-not-synced-yet") is False


def test_lago_down_or_a_wrong_key_is_our_error_and_never_shows_the_key(lago):
	with pytest.raises(ServiceRejectedError) as refused:
		LagoGateway(lago.url, "wrong-key").has_payment_method("team-1")
	assert refused.value.status_code == 401 and "wrong-key" not in str(refused.value)
	with pytest.raises(ServiceUnavailableError):
		LagoGateway("http://127.0.0.1:9", API_KEY).has_payment_method("team-1")
