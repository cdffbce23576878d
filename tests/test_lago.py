"""Lago: webhook verification vectors and fuzzing, and the gateway against the Lago API stand-in."""

import base64
import hashlib
import hmac
import json
import uuid

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from press_selfhost.billing.lago import (
	LagoEventType,
	LagoGateway,
	UsageRecord,
	lago_plan_code,
	usage_transaction_id,
	verify_webhook,
)
from press_selfhost.errors import (
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
	WebhookVerificationError,
)
from tests.standins.lago import LagoStandIn, fee
from tests.support.lago_signer import LagoSigner
from tests.support.processes import free_port

BODY = json.dumps(
	{
		"webhook_type": "invoice.payment_status_updated",
		"object_type": "invoice",
		"organization_id": "org-1",
		"invoice": {"lago_id": "inv-1", "payment_status": "succeeded", "customer": {"external_id": "team-1"}},
	}
).encode()


@pytest.fixture(scope="module")
def signer():
	return LagoSigner()


@pytest.fixture(scope="module")
def other_signer():
	return LagoSigner(hmac_key="another-organisation-token")


def verify(signer, body, headers, **overrides):
	options = {"hmac_key": signer.hmac_key, "public_key_pem": signer.public_key_pem, "issuer": signer.issuer}
	options.update(overrides)
	return verify_webhook(body, headers, **options)


# -- vectors ------------------------------------------------------------------------------------
def test_valid_hmac_delivery_is_parsed(signer):
	webhook = verify(signer, BODY, signer.headers(BODY, "hmac", unique_key="key-1"))
	assert webhook.event is LagoEventType.INVOICE_PAYMENT_STATUS_UPDATED
	assert (webhook.object_type, webhook.unique_key) == ("invoice", "key-1")
	assert webhook.object["payment_status"] == "succeeded"


def test_valid_jwt_delivery_is_parsed_with_lower_case_headers_and_trailing_slash_issuer(signer):
	headers = {name.lower(): value for name, value in signer.headers(BODY, "jwt", unique_key="k").items()}
	webhook = verify(signer, BODY, headers, issuer=signer.issuer + "/")
	assert webhook.webhook_type == "invoice.payment_status_updated"
	assert webhook.unique_key == "k"


def test_unknown_webhook_type_is_returned_as_such(signer):
	body = json.dumps({"webhook_type": "wallet.depleted_ongoing_balance", "object_type": "wallet"}).encode()
	webhook = verify(signer, body, signer.headers(body, "hmac"))
	assert webhook.event is LagoEventType.UNKNOWN
	assert webhook.webhook_type == "wallet.depleted_ongoing_balance"
	assert webhook.object == {}


def test_missing_unique_key_falls_back_to_a_digest_of_the_signed_body(signer):
	headers = signer.headers(BODY, "hmac")
	del headers["X-Lago-Unique-Key"]
	first, second = verify(signer, BODY, headers), verify(signer, BODY, dict(headers))
	assert first.unique_key == second.unique_key
	assert first.unique_key.startswith("sha256:")


def _refused(signer, body, headers, reason, **overrides):
	with pytest.raises(WebhookVerificationError, match=reason):
		verify(signer, body, headers, **overrides)


@pytest.mark.parametrize("algorithm", ["hmac", "jwt"])
def test_tampered_body_is_refused(signer, algorithm):
	headers = signer.headers(BODY, algorithm)
	_refused(signer, BODY.replace(b"succeeded", b"failed___"), headers, "match|does not")


def test_hmac_with_another_key_is_refused(signer, other_signer):
	_refused(signer, BODY, other_signer.headers(BODY, "hmac"), "HMAC signature")


def test_jwt_signed_by_another_key_is_refused(signer, other_signer):
	_refused(signer, BODY, other_signer.headers(BODY, "jwt"), "JWT refused")


@pytest.mark.parametrize("missing", ["X-Lago-Signature", "X-Lago-Signature-Algorithm"])
def test_missing_headers_are_refused(signer, missing):
	headers = signer.headers(BODY, "jwt")
	del headers[missing]
	_refused(signer, BODY, headers, f"missing {missing}")


def test_unknown_algorithm_is_refused(signer):
	headers = signer.headers(BODY, "hmac")
	headers["X-Lago-Signature-Algorithm"] = "sha1"
	_refused(signer, BODY, headers, "unknown X-Lago-Signature-Algorithm")


def test_scheme_without_configured_key_is_refused_so_jwt_cannot_be_downgraded(signer):
	_refused(signer, BODY, signer.headers(BODY, "hmac"), "no Lago HMAC key", hmac_key=None)
	_refused(signer, BODY, signer.headers(BODY, "jwt"), "no Lago public key", public_key_pem=None)


def test_alg_none_is_refused(signer):
	token = jwt.encode({"data": BODY.decode(), "iss": signer.issuer}, None, algorithm="none")
	headers = {**signer.headers(BODY, "jwt"), "X-Lago-Signature": token}
	_refused(signer, BODY, headers, "JWT refused: The specified alg value is not allowed")


def test_hs256_with_the_public_key_as_secret_is_refused(signer):
	header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
	claims = base64.urlsafe_b64encode(json.dumps({"data": BODY.decode()}).encode()).rstrip(b"=")
	signing_input = header + b"." + claims
	mac = hmac.new(signer.public_key_pem.encode(), signing_input, hashlib.sha256).digest()
	token = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
	_refused(
		signer, BODY, {**signer.headers(BODY, "jwt"), "X-Lago-Signature": token}, "alg value is not allowed"
	)


def test_jwt_for_another_body_is_refused(signer):
	other = BODY.replace(b"inv-1", b"inv-2")
	headers = {**signer.headers(BODY, "jwt"), "X-Lago-Signature": signer.jwt_signature(other)}
	_refused(signer, BODY, headers, "data claim does not match")


def test_jwt_from_another_issuer_is_refused(signer):
	headers = {**signer.headers(BODY, "jwt"), "X-Lago-Signature": signer.jwt_signature(BODY, "http://evil")}
	_refused(signer, BODY, headers, "issuer")


def test_jwt_without_data_claim_is_refused(signer):
	token = jwt.encode({"iss": signer.issuer}, signer.private_key, algorithm="RS256")
	_refused(signer, BODY, {**signer.headers(BODY, "jwt"), "X-Lago-Signature": token}, "no data claim")


def test_non_utf8_body_is_refused(signer):
	body = b'{"webhook_type": "\xff"}'
	_refused(
		signer,
		body,
		signer.headers(BODY, "hmac") | {"X-Lago-Signature": signer.hmac_signature(body)},
		"UTF-8",
	)


@pytest.mark.parametrize(
	"body", [b"not json", b"[1, 2]", b'{"object_type": "invoice"}', b'{"webhook_type": "x"}']
)
def test_signed_but_malformed_body_is_refused(signer, body):
	headers = signer.headers(body, "hmac")
	_refused(signer, body, headers, "JSON|webhook_type|object_type")


def test_unique_key_longer_than_the_inbox_column_is_refused(signer):
	_refused(signer, BODY, signer.headers(BODY, "hmac", unique_key="k" * 141), "too long")


def test_a_bad_configured_public_key_is_a_refusal_not_a_crash(signer):
	_refused(signer, BODY, signer.headers(BODY, "jwt"), "PEM", public_key_pem="not a key")


HEADER_NAMES = st.sampled_from(
	["X-Lago-Signature", "x-lago-signature-algorithm", "X-Lago-Unique-Key", "Content-Type", "X-Other"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
	body=st.one_of(st.binary(max_size=300), st.just(BODY)),
	headers=st.dictionaries(
		HEADER_NAMES, st.one_of(st.text(max_size=60), st.sampled_from(["jwt", "hmac", "none"])), max_size=5
	),
)
def test_arbitrary_requests_give_a_webhook_or_a_verification_error_only(signer, body, headers):
	try:
		webhook = verify(signer, body, headers)
	except WebhookVerificationError as error:
		assert error.reason
	else:  # only possible if the fuzzer forged a signature, which would be a finding
		pytest.fail(f"forged request accepted: {webhook}")


# -- gateway against the stand-in ----------------------------------------------------------------
@pytest.fixture(scope="module")
def lago_server(signer):
	with LagoStandIn(
		public_key_pem=signer.public_key_pem, plans={"starter": 1000, "business": 5000}
	) as stand_in:
		yield stand_in


@pytest.fixture
def lago(lago_server):
	lago_server.reset()
	yield lago_server
	lago_server.assert_contract_kept()


@pytest.fixture
def gateway(lago):
	return LagoGateway(lago.url, lago.api_key)


def test_customer_and_subscription_lifecycle(lago, gateway):
	customer = gateway.ensure_customer("team-1", name="Team One", email="one@example.com")
	again = gateway.ensure_customer("team-1", name="Team One Renamed")
	assert customer.lago_id == again.lago_id
	assert lago.customers["team-1"]["name"] == "Team One Renamed"

	created = gateway.create_subscription("team-1", "site1.example.com", "starter")
	assert (created.external_id, created.plan_code, created.status) == (
		"site1.example.com",
		"starter",
		"active",
	)
	upgraded = gateway.change_plan("team-1", "site1.example.com", "business")
	assert (upgraded.plan_code, upgraded.next_plan_code) == ("business", None)
	assert lago.subscriptions["site1.example.com"]["plan_code"] == "business"
	gateway.terminate_subscription("site1.example.com")
	assert lago.subscriptions["site1.example.com"]["status"] == "terminated"
	assert lago.requests_to("DELETE", "/api/v1/subscriptions/.*")[0].query == {
		"on_termination_invoice": ["generate"]
	}
	gateway.terminate_subscription("site1.example.com")  # already terminated: nothing to do


def test_checkout_url_and_invoices(lago, gateway):
	gateway.ensure_customer("team-1")
	assert gateway.checkout_url("team-1").startswith("https://checkout.stripe.com/")
	ready = lago.add_invoice("team-1", file_url="https://lago.example.com/invoice.pdf")
	queued = lago.add_invoice("team-1")
	lago.add_invoice("team-2")
	page = gateway.invoices("team-1")
	assert [invoice.lago_id for invoice in page.invoices] == [queued["lago_id"], ready["lago_id"]]
	assert (page.page, page.total_pages, page.total_count) == (1, 1, 2)
	assert page.invoices[0].total_amount_cents == 1200
	assert page.invoices[0].external_customer_id == "team-1"
	assert gateway.invoice_pdf_url(ready["lago_id"]) == "https://lago.example.com/invoice.pdf"
	assert gateway.invoice_pdf_url(queued["lago_id"]) is None


def test_one_invoice_with_its_billing_period(lago, gateway):
	created = lago.add_invoice("team-1", number="LAG-0042", total_amount_cents=2500, currency="USD")
	invoice = gateway.invoice(created["lago_id"])
	assert (invoice.number, invoice.total_amount_cents, invoice.currency) == ("LAG-0042", 2500, "USD")
	assert invoice.period == ("2026-11-01T00:00:00Z", "2026-11-30T23:59:59Z")
	with pytest.raises(ServiceRejectedError, match="invoice_not_found"):
		gateway.invoice(str(uuid.uuid4()))


def test_an_invoice_without_billing_periods_takes_its_fees_dates(lago, gateway):
	billed = fee("2026-10-15T00:00:00Z", "2026-11-14T23:59:59Z")
	created = lago.add_invoice("team-1", billing_periods=None, fees=[billed])
	assert gateway.invoice(created["lago_id"]).period == ("2026-10-15T00:00:00Z", "2026-11-14T23:59:59Z")
	one_off = lago.add_invoice("team-1", billing_periods=None, invoice_type="one_off")
	assert gateway.invoice(one_off["lago_id"]).period is None


def test_invoice_payment_url_or_none_when_lago_cannot_make_one(lago, gateway):
	pending = lago.add_invoice("team-1")
	paid = lago.add_invoice("team-1", payment_status="succeeded")
	url = gateway.invoice_payment_url(pending["lago_id"])
	assert url == f"https://checkout.stripe.com/c/pay/{pending['lago_id']}"
	assert gateway.invoice_payment_url(paid["lago_id"]) is None
	lago.payment_provider = None
	assert gateway.invoice_payment_url(pending["lago_id"]) is None
	with pytest.raises(ServiceRejectedError, match="invoice_not_found"):
		gateway.invoice_payment_url(str(uuid.uuid4()))
	lago.fail_next(503, path_pattern="payment_url")
	with pytest.raises(ServiceUnavailableError):
		gateway.invoice_payment_url(pending["lago_id"])


def _usage(count, period="2026-11-24"):
	return [
		UsageRecord(f"site{n}.example.com", "disk_mb", period, {"value": n}, timestamp=1_790_000_000)
		for n in range(count)
	]


def test_usage_batches_are_at_most_100_events(lago, gateway):
	assert gateway.send_usage(_usage(230)) == 230
	sizes = [len(request.json()["events"]) for request in lago.requests_to("POST", "/api/v1/events/batch")]
	assert sizes == [100, 100, 30]


def test_usage_batch_retried_after_a_500_is_counted_once(lago, gateway):
	records = _usage(5)
	lago.fail_next(500, path_pattern="events")
	with pytest.raises(ServiceUnavailableError):
		gateway.send_usage(records)
	assert gateway.send_usage(records) == 5
	assert set(lago.accepted_transaction_ids.values()) == {1}


def test_usage_stored_but_answer_lost_is_counted_once_on_retry(lago, gateway):
	lago.lose_next_batch_answers()
	with pytest.raises(ServiceUnavailableError):
		gateway.send_usage(_usage(3))
	# the retry carries two more records: Lago refuses the batch over the three it has, we resend the rest
	assert gateway.send_usage(_usage(5)) == 2
	assert len(lago.accepted_transaction_ids) == 5
	assert set(lago.accepted_transaction_ids.values()) == {1}


def test_transaction_id_is_deterministic_per_site_metric_and_period():
	assert usage_transaction_id("s", "disk", "2026-11-24") == usage_transaction_id("s", "disk", "2026-11-24")
	assert (
		len({usage_transaction_id(*key) for key in [("s", "a", "p"), ("s", "a", "q"), ("t", "a", "p")]}) == 3
	)


def test_public_key_is_fetched_once(lago, gateway):
	assert gateway.public_key_pem().decode() == lago.public_key_pem
	gateway.public_key_pem()
	assert len(lago.requests_to("GET", "/api/v1/webhooks/json_public_key")) == 1


@pytest.mark.parametrize(
	("status", "error_class"),
	[(500, ServiceUnavailableError), (503, ServiceUnavailableError), (429, ServiceUnavailableError)],
)
def test_server_errors_and_rate_limits_are_retryable(lago, gateway, status, error_class):
	lago.fail_next(status)
	with pytest.raises(error_class) as raised:
		gateway.ensure_customer("team-1")
	assert raised.value.retryable and raised.value.status_code == status


def test_client_errors_are_permanent_with_lagos_code(lago, gateway):
	gateway.ensure_customer("team-1")
	with pytest.raises(ServiceRejectedError, match="code plan_not_found") as raised:
		gateway.create_subscription("team-1", "site.example.com", "no-such-plan")
	assert not raised.value.retryable and raised.value.status_code == 404


def test_wrong_api_key_is_permanent(lago):
	with pytest.raises(ServiceRejectedError) as raised:
		LagoGateway(lago.url, "wrong-key").ensure_customer("team-1")
	assert raised.value.status_code == 401
	assert "wrong-key" not in str(raised.value)


def test_unreachable_lago_is_retryable():
	with pytest.raises(ServiceUnavailableError, match="lago_api_url"):
		LagoGateway(f"http://127.0.0.1:{free_port()}", "key").ensure_customer("team-1")


def test_dropped_connection_is_retryable(lago, gateway):
	lago.drop_next()
	with pytest.raises(ServiceUnavailableError):
		gateway.ensure_customer("team-1")


def test_plan_mapping():
	assert lago_plan_code("Starter", {"Starter": "starter"}) == "starter"
	with pytest.raises(ConfigurationError, match="Lago Plan Map"):
		lago_plan_code("Unmapped", {"Starter": "starter"})


def test_missing_settings_are_a_configuration_error():
	with pytest.raises(ConfigurationError):
		LagoGateway("", "key")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
	algorithm=st.sampled_from(["hmac", "jwt"]),
	target=st.sampled_from(["body", "signature"]),
	position=st.integers(min_value=0),
	replacement=st.integers(min_value=0, max_value=255),
)
def test_any_one_byte_change_to_a_genuine_delivery_is_refused(
	signer, algorithm, target, position, replacement
):
	headers = signer.headers(BODY, algorithm)
	body, signature = BODY, headers["X-Lago-Signature"].encode()
	original = body if target == "body" else signature
	# The last base64url character of an RS256 signature carries 4 unused bits: some changes to it
	# decode to the same signature over the same body, which is no forgery, so it is left alone.
	index = position % (len(original) - (target == "signature" and algorithm == "jwt"))
	if original[index] == replacement:
		replacement = (replacement + 1) % 256
	changed = original[:index] + bytes([replacement]) + original[index + 1 :]
	if target == "body":
		body = changed
	else:
		headers["X-Lago-Signature"] = changed.decode("latin-1")
	with pytest.raises(WebhookVerificationError):
		verify(signer, body, headers)


def test_webhook_endpoint_urls_reads_every_page(lago, gateway):
	urls = [f"https://hook-{index}.example.com/lago" for index in range(130)]
	for url in urls:
		lago.add_webhook_endpoint(url)
	assert gateway.webhook_endpoint_urls() == urls
	assert [request.query["page"] for request in lago.requests_to("GET", "/api/v1/webhook_endpoints")] == [
		["1"],
		["2"],
	]


def test_webhook_endpoint_urls_with_a_wrong_key_is_refused(lago):
	with pytest.raises(ServiceRejectedError) as refused:
		LagoGateway(lago.url, "wrong-lago-key").webhook_endpoint_urls()
	assert refused.value.status_code == 401
	assert "wrong-lago-key" not in str(refused.value)
