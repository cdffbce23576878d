"""Lago: sites per team on each team's platform subscription, and a team's billing for the dashboard
(press_selfhost.billing.invoices), against the Lago API stand-in."""

import uuid
from datetime import datetime, timezone

import httpx
import pytest

from press_selfhost.billing import invoices, lifecycle
from press_selfhost.billing.lago import (
	SITES_METRIC,
	LagoGateway,
	LagoWebhook,
	UsageRecord,
	sites_per_team,
	team_of_subscription,
	team_subscription_id,
	usage_transaction_id,
)
from press_selfhost.errors import CustomerFacingError, ServiceRejectedError, ServiceUnavailableError
from tests.standins.lago import LagoStandIn

API_KEY = "lago-rest-secret-api-key"
DAY = "2026-11-23"
TIMESTAMP = 1_795_392_000


@pytest.fixture(scope="module")
def lago_server():
	with LagoStandIn(api_key=API_KEY, plans=("starter", "team-platform")) as stand_in:
		yield stand_in


@pytest.fixture
def lago(lago_server):
	lago_server.reset()
	yield lago_server
	lago_server.assert_contract_kept()


@pytest.fixture
def gateway(lago):
	return LagoGateway(lago.url, lago.api_key)


# -- sites per team ------------------------------------------------------------------------------
SITE_TEAMS = [
	("a.example.com", "4f1c2ab39d"),
	("b.example.com", "4f1c2ab39d"),
	("c.example.com", "90ee1d7c2b"),
	("b.example.com", "4f1c2ab39d"),  # a site listed twice is one site
	("orphan.example.com", None),  # a tenant without a team is nobody's to count
]


def test_sites_per_team_is_one_record_per_team_on_its_platform_subscription():
	records = sites_per_team(SITE_TEAMS, DAY, TIMESTAMP)
	assert records == [
		UsageRecord("press-team-4f1c2ab39d", SITES_METRIC, DAY, {"sites": 2}, TIMESTAMP),
		UsageRecord("press-team-90ee1d7c2b", SITES_METRIC, DAY, {"sites": 1}, TIMESTAMP),
	]
	# the transaction id is fixed by (team, metric, day): the same report again is the same events
	again = sites_per_team(list(reversed(SITE_TEAMS)), DAY, TIMESTAMP)
	assert [record.transaction_id for record in again] == [record.transaction_id for record in records]
	assert records[0].transaction_id == usage_transaction_id(
		team_subscription_id("4f1c2ab39d"), SITES_METRIC, DAY
	)
	next_day = sites_per_team(SITE_TEAMS, "2026-11-24", TIMESTAMP + 86400)
	assert {r.transaction_id for r in next_day}.isdisjoint(r.transaction_id for r in records)


def test_a_team_subscription_is_never_mistaken_for_a_site():
	assert team_of_subscription(team_subscription_id("4f1c2ab39d")) == "4f1c2ab39d"
	for site_or_nothing in ("press-team-x.example.com", "shop.example.com", "press-team-", "", None):
		assert team_of_subscription(site_or_nothing) is None


def test_team_usage_reaches_lago_once_even_when_the_report_is_retried(lago, gateway):
	for team in ("4f1c2ab39d", "90ee1d7c2b"):
		gateway.ensure_customer(team)
		first = gateway.create_subscription(team, team_subscription_id(team), "team-platform")
		# the daily report assigns the plan every day: Lago answers with the same subscription
		assert gateway.create_subscription(team, team_subscription_id(team), "team-platform") == first
	assert len(lago.subscriptions) == 2

	records = sites_per_team(SITE_TEAMS, DAY, TIMESTAMP)
	lago.lose_next_batch_answers()  # Lago stored the batch, but its answer was lost
	with pytest.raises(ServiceUnavailableError):
		gateway.send_usage(records)
	assert gateway.send_usage(records) == 0  # the retry: Lago already has both
	assert gateway.send_usage(records) == 0  # and a third run of the same day's report
	assert dict(lago.accepted_transaction_ids) == {record.transaction_id: 1 for record in records}
	assert [(e["external_subscription_id"], e["code"], e["properties"]) for e in lago.events] == [
		("press-team-4f1c2ab39d", "press_sites", {"sites": 2}),
		("press-team-90ee1d7c2b", "press_sites", {"sites": 1}),
	]


def test_another_customers_subscription_id_is_refused(lago, gateway):
	gateway.ensure_customer("4f1c2ab39d")
	gateway.ensure_customer("90ee1d7c2b")
	gateway.create_subscription("4f1c2ab39d", team_subscription_id("4f1c2ab39d"), "team-platform")
	with pytest.raises(ServiceRejectedError) as refused:
		gateway.create_subscription("90ee1d7c2b", team_subscription_id("4f1c2ab39d"), "team-platform")
	assert (refused.value.status_code, refused.value.code) == (422, "validation_errors")


def _webhook(webhook_type: str, external_id: str) -> LagoWebhook:
	subscription = {
		"external_id": external_id,
		"external_customer_id": "4f1c2ab39d",
		"plan_code": "team-platform",
		"plan": {"amount_cents": 0},
	}
	payload = {"webhook_type": webhook_type, "object_type": "subscription", "subscription": subscription}
	return LagoWebhook(webhook_type, "subscription", str(uuid.uuid4()), subscription, payload)


@pytest.mark.parametrize(
	"webhook_type", ["subscription.started", "subscription.updated", "subscription.terminated"]
)
def test_the_lifecycle_leaves_team_subscriptions_alone(webhook_type):
	now = datetime(2026, 11, 24, tzinfo=timezone.utc)
	assert lifecycle.lago_event(_webhook(webhook_type, team_subscription_id("4f1c2ab39d")), now) is None
	routed = lifecycle.lago_event(_webhook(webhook_type, "shop.example.com"), now)
	assert routed is not None and routed.external_subscription_id == "shop.example.com"


# -- a team's billing in the dashboard -----------------------------------------------------------
def _refusal(call, *args) -> CustomerFacingError:
	with pytest.raises(CustomerFacingError) as refused:
		call(*args)
	assert API_KEY not in refused.value.message and "http" not in refused.value.message.lower()
	return refused.value


def test_checkout_url_or_a_clear_refusal(lago, gateway):
	gateway.ensure_customer("4f1c2ab39d")
	url = invoices.checkout_url(gateway, "4f1c2ab39d")["checkout_url"]
	assert url.startswith("https://checkout.stripe.com/")
	assert lago.requests_to("POST", "/api/v1/customers/4f1c2ab39d/checkout_url")

	unknown = _refusal(invoices.checkout_url, gateway, "never-synced")
	assert (unknown.http_status, unknown.message) == (409, invoices.NOT_SET_UP)
	lago.payment_provider = None
	no_provider = _refusal(invoices.checkout_url, gateway, "4f1c2ab39d")
	assert no_provider.http_status == 409 and "Payments are not enabled" in no_provider.message
	lago.fail_next(503, path_pattern="checkout_url")
	down = _refusal(invoices.checkout_url, gateway, "4f1c2ab39d")
	assert (down.http_status, down.message) == (503, invoices.UNAVAILABLE)


def test_a_wrong_api_key_is_the_admins_problem_not_the_customers(lago):
	refused = _refusal(invoices.invoices, LagoGateway(lago.url, "wrong-key"), "4f1c2ab39d")
	assert (refused.http_status, refused.message) == (503, invoices.UNAVAILABLE)
	assert isinstance(refused.__cause__, Exception) and "wrong-key" not in str(refused.__cause__)


def test_invoices_page_by_page_newest_first(lago, gateway):
	created = [
		lago.add_invoice("4f1c2ab39d", issuing_date=f"2026-{month:02d}-01", total_amount_cents=1000 + month)
		for month in range(1, 12)
	]
	lago.add_invoice("90ee1d7c2b")  # another team's
	first = invoices.invoices(gateway, "4f1c2ab39d", "1", "4")  # as strings, as Frappe passes them
	assert (first["page"], first["per_page"], first["total_pages"], first["total_count"]) == (1, 4, 3, 11)
	assert [row["name"] for row in first["invoices"]] == [i["lago_id"] for i in reversed(created)][:4]
	last = invoices.invoices(gateway, "4f1c2ab39d", 3, 4)
	assert [row["name"] for row in last["invoices"]] == [i["lago_id"] for i in created[:3][::-1]]
	row = last["invoices"][-1]
	assert row == {
		"name": created[0]["lago_id"],
		"number": created[0]["number"],
		"status": "finalized",
		"payment_status": "pending",
		"issuing_date": "2026-01-01",
		"period": "1 to 30 November 2026",
		"currency": "EUR",
		"total_amount_cents": 1001,
		"formatted_total": "EUR 10.01",
		"pdf_url": None,
	}
	assert invoices.invoices(gateway, "4f1c2ab39d", 1, 1000)["per_page"] == invoices.MAX_PER_PAGE
	assert lago.requests_to("GET", "/api/v1/invoices")[-1].query["per_page"] == ["100"]
	for page, per_page in ((0, 20), ("x", 20), (1, -5)):
		assert _refusal(invoices.invoices, gateway, "4f1c2ab39d", page, per_page).http_status == 400
	assert invoices.invoices(gateway, "never-synced")["invoices"] == []


def test_the_list_shows_the_period_each_invoice_bills_not_the_month_it_was_issued(lago, gateway):
	"""Lago's list has no billing periods: each invoice that bills one is read, and only those."""
	billed = lago.add_invoice("4f1c2ab39d", issuing_date="2026-12-03")  # bills 1 to 30 November
	one_off = lago.add_invoice(
		"4f1c2ab39d", issuing_date="2026-12-01", invoice_type="one_off", billing_periods=[]
	)
	listed = httpx.get(
		f"{lago.url}/api/v1/invoices",
		params={"external_customer_id": "4f1c2ab39d"},
		headers={"Authorization": f"Bearer {API_KEY}"},
	).json()["invoices"]
	assert [invoice["lago_id"] for invoice in listed] == [billed["lago_id"], one_off["lago_id"]]
	assert not any(
		key in invoice for invoice in listed for key in ("billing_periods", "fees", "subscriptions")
	)

	rows = invoices.invoices(gateway, "4f1c2ab39d")["invoices"]
	assert [(row["name"], row["period"]) for row in rows] == [
		(billed["lago_id"], "1 to 30 November 2026"),
		(one_off["lago_id"], "December 2026"),  # bills no period: the month it was issued
	]
	assert [request.path for request in lago.requests_to("GET", "/api/v1/invoices/.*")] == [
		f"/api/v1/invoices/{billed['lago_id']}"
	]


def test_an_invoice_pdf_only_for_its_own_team(lago, gateway):
	ready = lago.add_invoice("4f1c2ab39d", file_url="https://lago.example.com/invoice.pdf")
	queued = lago.add_invoice("4f1c2ab39d")
	theirs = lago.add_invoice("90ee1d7c2b", file_url="https://lago.example.com/theirs.pdf")
	assert invoices.invoice_pdf_url(gateway, "4f1c2ab39d", ready["lago_id"]) == {
		"invoice": ready["lago_id"],
		"pdf_url": "https://lago.example.com/invoice.pdf",
		"ready": True,
	}
	assert invoices.invoice_pdf_url(gateway, "4f1c2ab39d", queued["lago_id"])["ready"] is False
	downloads = len(lago.requests_to("POST", "/api/v1/invoices/.*/download"))

	# another team's invoice is answered exactly as one that does not exist, and never downloaded
	other = _refusal(invoices.invoice_pdf_url, gateway, "4f1c2ab39d", theirs["lago_id"])
	missing = _refusal(invoices.invoice_pdf_url, gateway, "4f1c2ab39d", str(uuid.uuid4()))
	assert (
		(other.http_status, other.message)
		== (missing.http_status, missing.message)
		== (404, invoices.NOT_FOUND)
	)
	assert len(lago.requests_to("POST", "/api/v1/invoices/.*/download")) == downloads

	# what is not a Lago id never reaches Lago's URL
	before = len(lago.requests)
	for forged in ("../customers/90ee1d7c2b", f"{theirs['lago_id']}/download", "", None):
		assert _refusal(invoices.invoice_pdf_url, gateway, "4f1c2ab39d", forged).http_status == 404
	assert len(lago.requests) == before

	lago.fail_next(500, path_pattern="download")
	assert _refusal(invoices.invoice_pdf_url, gateway, "4f1c2ab39d", ready["lago_id"]).http_status == 503


def test_an_invoice_payment_url_only_for_its_own_team(lago, gateway):
	pending = lago.add_invoice("4f1c2ab39d")
	paid = lago.add_invoice("4f1c2ab39d", payment_status="succeeded")
	theirs = lago.add_invoice("90ee1d7c2b")
	url = invoices.invoice_payment_url(gateway, "4f1c2ab39d", pending["lago_id"])["payment_url"]
	assert url == f"https://checkout.stripe.com/c/pay/{pending['lago_id']}"
	assert invoices.invoice_payment_url(gateway, "4f1c2ab39d", paid["lago_id"])["payment_url"] is None
	assert _refusal(invoices.invoice_payment_url, gateway, "4f1c2ab39d", theirs["lago_id"]).http_status == 404
